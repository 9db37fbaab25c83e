/**
 * Vital signs and lab results as chart-ready groups (one TrendChart each). Pure: the same records
 * give the same groups, sorted by title, points by time.
 *
 * Readings are left out when they cannot be placed or read: entered in error or cancelled, no
 * number, a time known only to the month or year (a trend needs at least the day; a day-only
 * reading is drawn at local midnight), or a value with a comparator ("<5" is not 5).
 */
import { BLOOD_PRESSURE_PANEL, LOINC, VITALS, type LabResultRecord, type Quantity, type VitalSignRecord, type VitalSpec } from '../vault/health.ts';
import { fhirSpan } from './fhir-time.ts';

export interface TrendRange {
  low?: number;
  high?: number;
}

export interface TrendGroupSeries {
  label: string;
  points: { t: number; v: number }[];
  /** A range for this series alone, when the group's series differ (systolic vs diastolic). */
  referenceRange?: TrendRange;
}

export interface TrendGroup {
  /** Stable id: 'blood-pressure', a vital's LOINC code, or 'lab:…' for lab tests. */
  key: string;
  title: string;
  /** Display unit ("kg", "°C", "mmHg"). */
  unit: string;
  series: TrendGroupSeries[];
  referenceRange?: TrendRange;
}

interface VitalGroupSpec {
  spec: VitalSpec;
  title: string;
  unit: string;
  range?: TrendRange;
}

// Adult ranges, as general guidance only (not a diagnosis, not for children, pregnancy or
// athletes); a clinician's own targets for the person take precedence. Weight, height and
// glucose (which depends on fasting and timing) get no band.
const BP_RANGES = { systolic: { low: 90, high: 120 }, diastolic: { low: 60, high: 80 } };
const VITAL_GROUPS: readonly VitalGroupSpec[] = [
  { spec: VITALS.bodyWeight, title: 'Weight', unit: 'kg' },
  { spec: VITALS.bodyHeight, title: 'Height', unit: 'cm' },
  { spec: VITALS.heartRate, title: 'Heart rate', unit: 'bpm', range: { low: 60, high: 100 } },
  { spec: VITALS.glucoseMass, title: 'Blood glucose', unit: 'mg/dL' },
  { spec: VITALS.glucoseMoles, title: 'Blood glucose', unit: 'mmol/L' },
  { spec: VITALS.oxygenSaturation, title: 'Oxygen saturation', unit: '%', range: { low: 95, high: 100 } },
  { spec: VITALS.bodyTemperature, title: 'Temperature', unit: '°C', range: { low: 36.1, high: 37.2 } },
];
const BY_LOINC = new Map(VITAL_GROUPS.map((g) => [g.spec.loinc, g]));

/** Each allowed non-default UCUM unit to the vital's first unit (kg, cm, Cel). */
const TO_FIRST_UNIT: Readonly<Record<string, (v: number) => number>> = {
  '[lb_av]': (v) => v * 0.45359237,
  g: (v) => v / 1000,
  '[in_i]': (v) => v * 2.54,
  m: (v) => v * 100,
  '[degF]': (v) => ((v - 32) * 5) / 9,
};

const SKIPPED_STATUSES = new Set(['entered-in-error', 'cancelled']);

export function vitalTrends(vitals: readonly VitalSignRecord[]): TrendGroup[] {
  const groups = new Map<string, TrendGroup>();
  const add = (key: string, make: () => TrendGroup, series: number, t: number, v: number | undefined) => {
    if (v === undefined) return;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = make()));
    g.series[series]!.points.push({ t, v });
  };
  for (const r of vitals) {
    const t = timeOf(r.status, r.effectiveDateTime);
    if (t === undefined) continue;
    const code = loincOf(r.code);
    if (code === BLOOD_PRESSURE_PANEL.loinc) {
      const part = (spec: VitalSpec) => valueIn(spec, r.component?.find((c) => loincOf(c.code) === spec.loinc)?.valueQuantity);
      const systolic = part(VITALS.systolic);
      const diastolic = part(VITALS.diastolic);
      const make = (): TrendGroup => ({
        key: 'blood-pressure',
        title: 'Blood pressure',
        unit: 'mmHg',
        series: [
          { label: 'Systolic', points: [], referenceRange: BP_RANGES.systolic },
          { label: 'Diastolic', points: [], referenceRange: BP_RANGES.diastolic },
        ],
      });
      add('blood-pressure', make, 0, t, systolic);
      add('blood-pressure', make, 1, t, diastolic);
      continue;
    }
    const g = code === undefined ? undefined : BY_LOINC.get(code);
    if (!g) continue;
    const make = (): TrendGroup => ({ key: g.spec.loinc, title: g.title, unit: g.unit, series: [{ label: g.title, points: [] }], ...(g.range ? { referenceRange: g.range } : {}) });
    add(g.spec.loinc, make, 0, t, valueIn(g.spec, r.valueQuantity));
  }
  return finish([...groups.values()]);
}

/**
 * Numeric lab results, one group per test (LOINC code, else the test's text) and unit: mg/dL and
 * mmol/L readings of one test are not comparable on one axis, so each unit gets its own chart.
 * Title and unit come from the earliest result; the reference range from the latest result that
 * gives one in the group's unit.
 */
export function labTrends(labs: readonly LabResultRecord[]): TrendGroup[] {
  const byKey = new Map<string, { r: LabResultRecord; t: number; v: number }[]>();
  for (const r of labs) {
    const t = timeOf(r.status, r.effectiveDateTime ?? r.issued);
    const q = r.valueQuantity;
    if (t === undefined || !q || !Number.isFinite(q.value) || hasComparator(q)) continue;
    const code = loincOf(r.code);
    const key = `lab:${code ? `loinc:${code}` : `text:${r.code.text.trim().toLowerCase()}`}|${unitKey(q) ?? ''}`;
    const list = byKey.get(key) ?? [];
    list.push({ r, t, v: q.value });
    byKey.set(key, list);
  }
  const groups: TrendGroup[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.t - b.t);
    const first = list[0]!.r;
    const unit = first.valueQuantity?.unit ?? first.valueQuantity?.code ?? '';
    const group: TrendGroup = { key, title: first.code.text, unit, series: [{ label: first.code.text, points: list.map(({ t, v }) => ({ t, v })) }] };
    for (let i = list.length - 1; i >= 0; i--) {
      const range = rangeOf(list[i]!.r, unitKey(first.valueQuantity!));
      if (range) {
        group.referenceRange = range;
        break;
      }
    }
    groups.push(group);
  }
  return finish(groups);
}

function finish(groups: TrendGroup[]): TrendGroup[] {
  for (const g of groups) for (const s of g.series) s.points.sort((a, b) => a.t - b.t);
  return groups.sort((a, b) => a.title.localeCompare(b.title) || a.key.localeCompare(b.key));
}

/** Epoch ms of a reading, or undefined when it should not be charted. */
function timeOf(status: string, when: string | undefined): number | undefined {
  if (SKIPPED_STATUSES.has(status)) return undefined;
  const span = fhirSpan(when);
  return span && (span.precision === 'instant' || span.precision === 'day') ? span.start : undefined;
}

function loincOf(c: { coding?: { system?: string; code?: string }[] }): string | undefined {
  return c.coding?.find((x) => x.system === LOINC && x.code)?.code;
}

/** The value in the spec's first unit, or undefined when missing or in a unit the spec does not allow. */
function valueIn(spec: VitalSpec, q: Quantity | undefined): number | undefined {
  if (!q || !Number.isFinite(q.value) || hasComparator(q)) return undefined;
  const code = q.code ?? q.unit;
  if (code === spec.units[0]) return q.value;
  const convert = code !== undefined && (spec.units as readonly string[]).includes(code) ? TO_FIRST_UNIT[code] : undefined;
  // Rounded so a converted 154 lb reads 69.853 kg, not 69.85296498 kg.
  return convert ? Math.round(convert(q.value) * 1000) / 1000 : undefined;
}

function hasComparator(q: Quantity): boolean {
  return (q as { comparator?: unknown }).comparator !== undefined;
}

function unitKey(q: Quantity): string | undefined {
  return q.code ?? q.unit;
}

/** The record's first reference range with a bound in `unit` (a bound without a unit is taken as in it). */
function rangeOf(r: LabResultRecord, unit: string | undefined): TrendRange | undefined {
  for (const rr of r.referenceRange ?? []) {
    const ok = (b: Quantity | undefined): b is Quantity => !!b && Number.isFinite(b.value) && (unitKey(b) === undefined || unitKey(b) === unit);
    const out: TrendRange = {};
    if (ok(rr.low)) out.low = rr.low.value;
    if (ok(rr.high)) out.high = rr.high.value;
    if (out.low !== undefined || out.high !== undefined) return out;
  }
  return undefined;
}
