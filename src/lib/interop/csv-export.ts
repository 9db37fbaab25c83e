/**
 * `export --format csv`: the logs a clinician or a spreadsheet wants as tables (issue 12 item 5,
 * docs/decisions/0030): vitals, lab results, the dose log and the symptom journal. One row per
 * value, dates as recorded (FHIR dateTimes are ISO 8601, a date alone is its reduced form), a
 * `unit` column with the UCUM code for measured values. Rows in time order, oldest first.
 */
import { LOINC, RXNORM, SNOMED, type Concept, type Quantity } from '../../../crdt-schemas/health/index.ts';
import { csvDocument, type Cell } from './csv-format.ts';
import { instantOf, type ExportSource } from './fhir/export-source.ts';

export const CSV_LOGS = ['vitals', 'labs', 'doses', 'journal'] as const;
export type CsvLog = (typeof CSV_LOGS)[number];

export const isCsvLog = (s: string): s is CsvLog => (CSV_LOGS as readonly string[]).includes(s);

const codeIn = (c: Concept | undefined, system: string): string | undefined => c?.coding?.find((x) => x.system === system)?.code;
const unitOf = (q: Quantity | undefined): string | undefined => q?.code ?? q?.unit;
/** Oldest first by instant (time zones differ between readings); ties keep the log's order. */
const byTime = <T>(at: (r: T) => string | undefined) => (a: T, b: T) => instantOf(at(a)) - instantOf(at(b)) || 0;

export const CSV_HEADERS: Readonly<Record<CsvLog, readonly string[]>> = {
  vitals: ['record_id', 'effective', 'loinc', 'name', 'value', 'unit', 'status'],
  labs: ['record_id', 'effective', 'loinc', 'name', 'value', 'unit', 'reference_low', 'reference_high', 'interpretation', 'status'],
  doses: ['record_id', 'at', 'scheduled_for', 'medication', 'rxnorm', 'status', 'reason', 'note'],
  journal: ['record_id', 'at', 'symptom', 'snomed', 'severity_0_10', 'triggers', 'notes'],
};

export function exportCsv(log: CsvLog, source: ExportSource): string {
  return csvDocument(CSV_HEADERS[log], ROWS[log](source));
}

const ROWS: Readonly<Record<CsvLog, (s: ExportSource) => Cell[][]>> = {
  vitals: (s) =>
    [...s.list('list:vitals')].sort(byTime((r) => r.effectiveDateTime)).flatMap((r) => {
      // A blood pressure reading is one row per component (systolic, diastolic), both with the panel's id.
      const parts = r.component?.length ? r.component.map((c) => ({ code: c.code, q: c.valueQuantity })) : [{ code: r.code, q: r.valueQuantity }];
      return parts.map(({ code, q }) => [r.id, r.effectiveDateTime, codeIn(code, LOINC), code.text, q?.value, unitOf(q), r.status]);
    }),
  labs: (s) =>
    [...s.list('lab-results')]
      .sort(byTime((r) => r.effectiveDateTime ?? r.issued))
      .map((r) => [
        r.id,
        r.effectiveDateTime ?? r.issued,
        codeIn(r.code, LOINC),
        r.code.text,
        r.valueQuantity?.value ?? r.valueString ?? r.valueCodeableConcept?.text,
        unitOf(r.valueQuantity),
        r.referenceRange?.[0]?.low?.value,
        r.referenceRange?.[0]?.high?.value,
        r.interpretation?.map((i) => i.text).join('; '),
        r.status,
      ]),
  doses: (s) =>
    [...s.list('list:doses')].sort(byTime((r) => r.at)).map((r) => [r.id, r.at, r.scheduledFor, r.medication.text, codeIn(r.medication, RXNORM), r.status, r.reason, r.note]),
  journal: (s) =>
    [...s.list('list:journal')].sort(byTime((r) => r.at)).map((r) => [r.id, r.at, r.symptom.text, codeIn(r.symptom, SNOMED), r.severity, r.triggers?.join('; '), r.notes]),
};
