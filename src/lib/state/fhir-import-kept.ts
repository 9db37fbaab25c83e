/**
 * Kept resources as a person reads them (issue 12, docs/decisions/0029 and 0034): FHIR resources
 * an import could map to no section (claims, care plans, goals, …), listed read-only by type,
 * date if any and a short summary drawn from the fields most resources carry.
 */
import type { FhirJson } from '../vault/export.ts';

export interface KeptView {
  readonly id: string;
  readonly resourceType: string;
  /** YYYY-MM-DD, when the resource names a date. */
  readonly date?: string;
  readonly summary: string;
  /** Where it came from (meta.source or the file's name). */
  readonly source?: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The readable name of a CodeableConcept (or the first of a list). */
function concept(v: unknown): string | undefined {
  const c = obj(first(v));
  if (!c) return undefined;
  const coding = obj(first(c.coding));
  return text(c.text) ?? text(coding?.display) ?? text(coding?.code);
}

const DATE_FIELDS = ['effectiveDateTime', 'issued', 'date', 'created', 'recordedDate', 'authoredOn', 'occurrenceDateTime', 'performedDateTime', 'onsetDateTime', 'dateTime'] as const;
const PERIOD_FIELDS = ['period', 'billablePeriod', 'effectivePeriod', 'performedPeriod'] as const;

function dateOf(r: Json): string | undefined {
  for (const f of DATE_FIELDS) if (text(r[f])) return (r[f] as string).slice(0, 10);
  for (const f of PERIOD_FIELDS) {
    const start = text(obj(r[f])?.start);
    if (start) return start.slice(0, 10);
  }
  return undefined;
}

function summaryOf(r: Json): string {
  const value = obj(r.valueQuantity);
  const quantity = value && typeof value.value === 'number' ? ` ${value.value}${text(value.unit) ? ` ${value.unit as string}` : ''}` : '';
  const named =
    concept(r.code) ??
    text(r.title) ??
    text(r.description) ??
    concept(r.type) ??
    text(obj(r.description)?.text) ??
    text(r.name) ??
    concept(r.category) ??
    text(obj(r.text)?.div)?.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const status = text(r.status) ?? text(r.lifecycleStatus);
  return [named ? `${named}${quantity}` : undefined, status].filter(Boolean).join(' · ') || 'No summary in the resource';
}

export function keptView(record: { id: string; resource: FhirJson; meta?: { source?: string } }): KeptView {
  const r = record.resource as Json;
  const date = dateOf(r);
  const source = record.meta?.source ?? text(obj(r.meta)?.source);
  return { id: record.id, resourceType: text(r.resourceType) ?? 'Resource', summary: summaryOf(r), ...(date ? { date } : {}), ...(source ? { source } : {}) };
}

/** Newest first; undated last, by type. */
export function keptViews(records: readonly { id: string; resource: FhirJson; meta?: { source?: string } }[]): KeptView[] {
  return records.map(keptView).sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.resourceType.localeCompare(b.resourceType));
}
