/**
 * Diagnostic reports (FHIR DiagnosticReport, docs/decisions/0037): a lab panel or study that
 * groups results. The grouping is kept as links, `result: [{reference: 'lab-results/<id>'}]`
 * (or `list:vitals/<id>`), to the records the results became, so the app can show a report
 * with its results and an export writes `DiagnosticReport.result` back as references.
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, FhirInstant, Period, recordBase, Reference } from './common.ts';

export const DIAGNOSTIC_REPORT_STATUSES = ['registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'appended', 'cancelled', 'entered-in-error', 'unknown'] as const;

export const DiagnosticReportRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('DiagnosticReport'),
  status: z.enum(DIAGNOSTIC_REPORT_STATUSES),
  category: z.array(Concept).max(5).optional(),
  /** The panel or study: free text ("Basic metabolic panel"), LOINC when known. */
  code: Concept,
  effectiveDateTime: FhirDateTime.optional(),
  effectivePeriod: Period.optional(),
  issued: FhirInstant.optional(),
  performer: z.array(Reference).max(5).optional(),
  /** The results it groups: links to this profile's records (`lab-results/<id>`, `list:vitals/<id>`). */
  result: z.array(Reference).max(500).optional(),
  conclusion: z.string().trim().min(1).max(4000).optional(),
  conclusionCode: z.array(Concept).max(10).optional(),
});
export type DiagnosticReportRecord = z.infer<typeof DiagnosticReportRecord>;

export const diagnosticReport = defineKind({ kind: 'DiagnosticReport', schema: DiagnosticReportRecord, schemaVersion: 1 });
