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
import { ageAt, defaultRange, labFlag, vitalReadings, type FlagLevel } from './ranges.ts';

export interface TrendRange {
  low?: number;
  high?: number;
}

export interface TrendPoint {
  t: number;
  v: number;
  /** Outside its range (ranges.ts): the chart marks it and the table says "High"/"Low". */
  flag?: FlagLevel;
}

export interface TrendGroupSeries {
  label: string;
  points: TrendPoint[];
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
  /** Which range the band shows ("adult range", "reference range"). */
  rangeBasis?: string;
}

interface VitalGroupSpec {
  spec: VitalSpec;
  title: string;
  unit: string;
}

// Weight, height and glucose (which depends on fasting and timing) get no band; the others get
// the age-appropriate default of ranges.ts (its sources are cited there).
const VITAL_GROUPS: readonly VitalGroupSpec[] = [
  { spec: VITALS.bodyWeight, title: 'Weight', unit: 'kg' },
  { spec: VITALS.bodyHeight, title: 'Height', unit: 'cm' },
  { spec: VITALS.heartRate, title: 'Heart rate', unit: 'bpm' },
  { spec: VITALS.glucoseMass, title: 'Blood glucose', unit: 'mg/dL' },
  { spec: VITALS.glucoseMoles, title: 'Blood glucose', unit: 'mmol/L' },
  { spec: VITALS.oxygenSaturation, title: 'Oxygen saturation', unit: '%' },
  { spec: VITALS.bodyTemperature, title: 'Temperature', unit: '°C' },
];
const BY_SPEC = new Map(VITAL_GROUPS.map((g) => [g.spec, g]));

const SKIPPED_STATUSES = new Set(['entered-in-error', 'cancelled']);

/**
 * Vital signs, one group per vital (blood pressure: systolic and diastolic in one), each point
 * flagged against the default range for the person's age at that reading; the band drawn is
 * the range at the latest reading's age.
 */
export function vitalTrends(vitals: readonly VitalSignRecord[], birthDate?: string): TrendGroup[] {
  const groups = new Map<string, TrendGroup>();
  const latest = new Map<string, number>();
  for (const r of vitals) {
    const t = timeOf(r.status, r.effectiveDateTime);
    if (t === undefined) continue;
    const readings = vitalReadings(r, birthDate);
    if (loincOf(r.code) === BLOOD_PRESSURE_PANEL.loinc) {
      let g = groups.get('blood-pressure');
      if (!g) groups.set('blood-pressure', (g = { key: 'blood-pressure', title: 'Blood pressure', unit: 'mmHg', series: [{ label: 'Systolic', points: [] }, { label: 'Diastolic', points: [] }] }));
      for (const reading of readings) g.series[reading.spec === VITALS.systolic ? 0 : 1]!.points.push(point(t, reading.value, reading.flag?.level));
      latest.set('blood-pressure', Math.max(latest.get('blood-pressure') ?? -Infinity, t));
      continue;
    }
    const reading = readings[0];
    const spec = BY_SPEC.get(reading?.spec as VitalSpec);
    if (!reading || !spec) continue;
    let g = groups.get(spec.spec.loinc);
    if (!g) groups.set(spec.spec.loinc, (g = { key: spec.spec.loinc, title: spec.title, unit: spec.unit, series: [{ label: spec.title, points: [] }] }));
    g.series[0]!.points.push(point(t, reading.value, reading.flag?.level));
    latest.set(spec.spec.loinc, Math.max(latest.get(spec.spec.loinc) ?? -Infinity, t));
  }
  for (const g of groups.values()) {
    const age = ageAt(birthDate, latest.get(g.key));
    if (g.key === 'blood-pressure') {
      const sys = defaultRange(VITALS.systolic, age);
      const dia = defaultRange(VITALS.diastolic, age);
      if (sys) g.series[0]!.referenceRange = { ...sys.range };
      if (dia) g.series[1]!.referenceRange = { ...dia.range };
      if (sys) g.rangeBasis = sys.basis;
      continue;
    }
    const spec = VITAL_GROUPS.find((s) => s.spec.loinc === g.key)!.spec;
    const d = defaultRange(spec, age);
    if (d) {
      g.referenceRange = { ...d.range };
      g.rangeBasis = d.basis;
    }
  }
  return finish([...groups.values()]);
}

const point = (t: number, v: number, flag: FlagLevel | undefined): TrendPoint => (flag ? { t, v, flag } : { t, v });

/**
 * Numeric lab results, one group per test (LOINC code, else the test's text) and unit: mg/dL and
 * mmol/L readings of one test are not comparable on one axis, so each unit gets its own chart.
 * Title and unit come from the earliest result; the reference range from the latest result that
 * gives one in the group's unit.
 */
export function labTrends(labs: readonly LabResultRecord[]): TrendGroup[] {
  const byKey = new Map<string, { r: LabResultRecord; t: number; v: number; flag?: FlagLevel }[]>();
  for (const r of labs) {
    const t = timeOf(r.status, r.effectiveDateTime ?? r.issued);
    const q = r.valueQuantity;
    if (t === undefined || !q || !Number.isFinite(q.value) || hasComparator(q)) continue;
    const code = loincOf(r.code);
    const key = `lab:${code ? `loinc:${code}` : `text:${r.code.text.trim().toLowerCase()}`}|${unitKey(q) ?? ''}`;
    const list = byKey.get(key) ?? [];
    list.push({ r, t, v: q.value, flag: labFlag(r)?.level });
    byKey.set(key, list);
  }
  const groups: TrendGroup[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.t - b.t);
    const first = list[0]!.r;
    const unit = first.valueQuantity?.unit ?? first.valueQuantity?.code ?? '';
    const group: TrendGroup = { key, title: first.code.text, unit, series: [{ label: first.code.text, points: list.map(({ t, v, flag }) => point(t, v, flag)) }] };
    for (let i = list.length - 1; i >= 0; i--) {
      const range = rangeOf(list[i]!.r, unitKey(first.valueQuantity!));
      if (range) {
        group.referenceRange = range;
        group.rangeBasis = 'reference range';
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
