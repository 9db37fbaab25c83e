/**
 * The dose log: one entry per scheduled or taken dose, appended to `list:doses`. App-specific
 * (FHIR's MedicationAdministration needs a practitioner-centred shape); exported to FHIR as
 * MedicationAdministration with status completed / not-done.
 */
import { z } from 'zod';
import { Concept, defineKind, FhirDateTime, FhirInstant, MemberKeyHex, RecordId, recordBase } from './common.ts';

export const DoseLogEntry = z.looseObject({
  ...recordBase,
  /** Key of the MedicationStatement in `medications`. */
  medicationId: RecordId,
  /** The medicine as it was named then, so the log reads on its own after the statement changes. */
  medication: Concept,
  status: z.enum(['taken', 'skipped']),
  /** Who recorded it: the member's signing key, hex. */
  by: MemberKeyHex,
  at: FhirInstant,
  scheduledFor: FhirDateTime.optional(),
  reason: z.string().max(4000).optional(),
  note: z.string().max(4000).optional(),
});
export type DoseLogEntry = z.infer<typeof DoseLogEntry>;

export const doseLog = defineKind({ kind: 'DoseLogEntry', schema: DoseLogEntry, schemaVersion: 1 });
