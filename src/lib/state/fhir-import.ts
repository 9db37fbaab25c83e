/**
 * What the app's FHIR import screens show (issue 12, docs/decisions/0034): the plan summed per
 * section and kept type, rejected entries with a human message, and the report as rows. Pure:
 * no runes, no profile; the flow in fhir-import.svelte.ts feeds it the facade's plan and report.
 * Nothing here repeats the file's content: entries are named by position, type and code.
 */
import type { ImportReport, planFhirImport } from '../vault/fhir-import.ts';
import type { SectionName } from '../vault/health.ts';
import { SECTION_FORMS } from './forms/index.ts';

type ImportPlan = ReturnType<typeof planFhirImport>;

export interface CountRow {
  readonly key: string;
  readonly label: string;
  readonly count: number;
}

export interface RejectedRow {
  /** The entry's position in the file, counted from 1 as a person reads it. */
  readonly entry: number;
  readonly resourceType: string;
  readonly code: string;
  readonly message: string;
}

export interface PlanSummary {
  readonly source: string;
  readonly resources: number;
  readonly sections: readonly CountRow[];
  readonly kept: readonly CountRow[];
  readonly rejected: readonly RejectedRow[];
  /** Whether the file holds a Patient (its details fill what the profile lacks). */
  readonly hasPatient: boolean;
}

export interface ReportSummary {
  readonly source: string;
  readonly resources: number;
  readonly sections: readonly CountRow[];
  readonly unchanged: number;
  readonly kept: readonly CountRow[];
  readonly rejected: readonly RejectedRow[];
  readonly conflicts: number;
}

/** Per-entry refusals (docs/errors.md 267-273 and the reader's entry problems), said plainly. */
export const REJECT_MESSAGES: Readonly<Record<string, string>> = {
  IMPORT_RESOURCE_INVALID: 'does not fit its section (a required value is missing or malformed)',
  IMPORT_BROKEN_REFERENCE: 'refers to something that is not in the file',
  IMPORT_OTHER_PATIENT: 'is about someone other than the file’s patient',
  IMPORT_DUPLICATE: 'appears twice in the file (the first one is imported)',
  IMPORT_NOT_A_RESOURCE: 'is not a FHIR resource',
  IMPORT_NO_RESOURCE: 'has no resource',
  IMPORT_UNSUPPORTED_REQUEST: 'asks to delete, read or patch (an import only adds)',
};

export const rejectMessage = (code: string): string => REJECT_MESSAGES[code] ?? 'could not be imported';

export const sectionLabel = (section: string): string => SECTION_FORMS[section as SectionName]?.title ?? section;

function rows(counts: ReadonlyMap<string, number> | Record<string, number>, label: (key: string) => string): CountRow[] {
  const entries = counts instanceof Map ? [...counts] : Object.entries(counts);
  return entries
    .filter(([, n]) => n > 0)
    .map(([key, count]) => ({ key, label: label(key), count }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

function rejectedRows(rejected: ImportPlan['rejected']): RejectedRow[] {
  return rejected.map((r) => ({ entry: r.index + 1, resourceType: r.resourceType, code: r.code, message: rejectMessage(r.code) }));
}

export function summarisePlan(plan: ImportPlan): PlanSummary {
  const sections = new Map<string, number>();
  const kept = new Map<string, number>();
  for (const r of plan.records) {
    if (r.section === 'kept') kept.set(r.resourceType, (kept.get(r.resourceType) ?? 0) + 1);
    else sections.set(r.section, (sections.get(r.section) ?? 0) + 1);
  }
  return {
    source: plan.source,
    resources: plan.resources,
    sections: rows(sections, sectionLabel),
    kept: rows(kept, (t) => t),
    rejected: rejectedRows(plan.rejected),
    hasPatient: plan.patient !== undefined,
  };
}

export function summariseReport(r: ImportReport): ReportSummary {
  return {
    source: r.source,
    resources: r.resources,
    sections: rows(r.records, sectionLabel),
    unchanged: r.unchanged,
    kept: rows(r.kept, (t) => t),
    rejected: rejectedRows(r.rejected),
    conflicts: r.conflicts,
  };
}

export const totalOf = (rs: readonly CountRow[]): number => rs.reduce((a, r) => a + r.count, 0);

export interface ImportOrigin {
  /** Where an imported record came from (its meta.source or the file's name). */
  readonly source?: string;
  /** A re-import met an edit made on a device: the incoming version waits beside the record. */
  readonly conflict: boolean;
  /** That waiting version (a record of the same section), to show what the file says now. */
  readonly incoming?: Record<string, unknown>;
}

/** What a record's card says about its import (nothing for records typed in the app). */
export function importOrigin(record: Record<string, unknown>): ImportOrigin | undefined {
  const imported = record.imported as { conflict?: { record?: Record<string, unknown> } } | undefined;
  const source = (record.meta as { source?: unknown } | undefined)?.source;
  if (!imported && typeof source !== 'string') return undefined;
  const incoming = imported?.conflict?.record;
  return { ...(typeof source === 'string' ? { source } : {}), conflict: imported?.conflict !== undefined, ...(incoming ? { incoming } : {}) };
}
