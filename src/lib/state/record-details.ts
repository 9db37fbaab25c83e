/**
 * Every field a person entered in a record, as label/value lines for its card. Driven by the
 * section's schema (crdt-schemas/health), walked field by field in schema order, so a field
 * added to a schema shows up on the card without anyone remembering to add it here.
 *
 * Left out: bookkeeping (id, schema version, import marks: ImportedFrom shows where a record
 * came from), code systems and codes (the text says the same for a person), document hashes,
 * and anything the schema does not declare (a document's file key lives there; it is a secret).
 */
import { SECTIONS, type SectionName } from '../vault/health.ts';
import { fhirSpan } from './fhir-time.ts';

export interface DetailLine {
  /** The schema field ("reaction"), for tests and keys. */
  readonly field: string;
  readonly label: string;
  readonly value: string;
}

const SKIPPED = new Set(['id', 'schemaVersion', 'meta', 'imported', 'resourceType', 'coding', 'system', 'hash', 'version']);

/** Labels a person reads; the rest are the field name in words ("abatementDateTime" → "Abatement date time"). */
const LABELS: Readonly<Record<string, string>> = {
  code: 'What',
  medicationCodeableConcept: 'Medicine',
  reasonCode: 'Taken for',
  clinicalStatus: 'Status',
  verificationStatus: 'Verification',
  criticality: 'Criticality',
  reaction: 'Reaction',
  manifestation: 'Symptoms',
  onsetDateTime: 'Started',
  abatementDateTime: 'Ended',
  recordedDate: 'Recorded',
  effectiveDateTime: 'When',
  effectivePeriod: 'Taking',
  valueQuantity: 'Value',
  valueString: 'Result',
  valueCodeableConcept: 'Result',
  referenceRange: 'Normal range',
  performer: 'Performed by',
  note: 'Notes',
  dosage: 'Dosage',
  asNeededBoolean: 'When needed',
  doseAndRate: 'Dose',
  doseQuantity: 'Dose',
  timeOfDay: 'At',
  dayOfWeek: 'On',
  birthDate: 'Born',
  telecom: 'Contact',
  occurrenceDateTime: 'Given on',
  performedDateTime: 'Done on',
  contentType: 'Type',
  component: 'Readings',
  start: 'From',
  end: 'Until',
};
const SECTION_LABELS: Partial<Record<SectionName, Readonly<Record<string, string>>>> = {
  allergies: { code: 'Substance', type: 'Type', category: 'Kind' },
  conditions: { code: 'Condition' },
  'lab-results': { code: 'Test' },
  immunizations: { vaccineCode: 'Vaccine' },
  procedures: { code: 'Procedure' },
  alerts: { code: 'Alert' },
  'list:vitals': { code: 'Measurement' },
};

const words = (key: string): string => {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};
const labelOf = (section: SectionName, key: string): string => SECTION_LABELS[section]?.[key] ?? LABELS[key] ?? words(key);

/** A schema as walked here: zod's `def` (type, inner type, element, shape), seen structurally. */
type Schema = object;
type Def = { type: string; innerType?: Schema; element?: Schema; shape?: Record<string, Schema>; in?: Schema; out?: Schema };
const defOf = (s: Schema): Def => (s as unknown as { def: Def }).def;

/** The schema under optional/default/pipe wrappers. */
function unwrap(s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = defOf(cur);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'readonly') && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

const FHIR_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const FHIR_DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

function textOfString(v: string): string {
  if (FHIR_DATE_TIME.test(v)) {
    const t = fhirSpan(v)?.start;
    if (t !== undefined) return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
  if (FHIR_DATE.test(v) && v.length === 10) {
    const t = fhirSpan(v)?.start;
    if (t !== undefined) return new Date(t).toLocaleDateString(undefined, { dateStyle: 'medium' });
  }
  return v;
}

/** A value as text, guided by its schema; '' when nothing the schema declares has a value. */
function textOf(value: unknown, schema: Schema | undefined, section: SectionName): string {
  const s = schema ? unwrap(schema) : undefined;
  const d = s ? defOf(s) : undefined;
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const el = d?.type === 'array' ? d.element : undefined;
    return value
      .map((v) => textOf(v, el, section))
      .filter(Boolean)
      .join('; ');
  }
  if (typeof value === 'string') return textOfString(value.trim());
  if (typeof value === 'number') return new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 }).format(value);
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value !== 'object') return '';
  const o = value as Record<string, unknown>;
  const shape = d?.type === 'object' ? d.shape : undefined;
  if (!shape) return '';
  // A concept or status says itself by its text; a status without text by its code.
  if ('text' in shape && typeof o.text === 'string' && o.text.trim() && ('coding' in shape || Object.keys(shape).length <= 3)) return o.text.trim();
  if ('coding' in shape && Array.isArray(o.coding)) {
    const codes = o.coding.map((c) => (c as { display?: unknown; code?: unknown }).display ?? (c as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
    if (codes.length) return codes.join(', ');
  }
  // A quantity: "7.2 %".
  if ('value' in shape && 'unit' in shape && typeof o.value === 'number') return `${textOf(o.value, undefined, section)}${typeof o.unit === 'string' ? ` ${o.unit}` : ''}`;
  // A reference: its display name (a link to another record without one still says it is there).
  if ('display' in shape && 'reference' in shape) return typeof o.display === 'string' && o.display.trim() ? o.display.trim() : typeof o.reference === 'string' ? 'linked record' : '';
  // A bare coding (a visit's class): its display, else its code.
  if ('system' in shape && 'code' in shape && 'display' in shape) return typeof o.display === 'string' && o.display.trim() ? o.display.trim() : typeof o.code === 'string' ? o.code : '';
  const parts: string[] = [];
  for (const [key, sub] of Object.entries(shape)) {
    if (SKIPPED.has(key)) continue;
    const t = textOf(o[key], sub, section);
    if (t) parts.push(key === 'text' || key === 'value' ? t : `${labelOf(section, key).toLowerCase()} ${t}`);
  }
  return parts.join(', ');
}

/** The record's fields with a value, in schema order, each as one line. */
export function recordDetails(section: SectionName, record: Record<string, unknown>): DetailLine[] {
  const schema = unwrap(SECTIONS[section].schema as unknown as Schema);
  const shape = defOf(schema).shape ?? {};
  const out: DetailLine[] = [];
  for (const [field, sub] of Object.entries(shape)) {
    if (SKIPPED.has(field)) continue;
    const value = textOf(record[field], sub, section);
    if (value) out.push({ field, label: labelOf(section, field), value });
  }
  return out;
}

/** The schema fields of a section this module shows (what the test checks against). */
export function shownFields(section: SectionName): string[] {
  const shape = defOf(unwrap(SECTIONS[section].schema as unknown as Schema)).shape ?? {};
  return Object.keys(shape).filter((k) => !SKIPPED.has(k));
}
