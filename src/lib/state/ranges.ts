/**
 * Out-of-range flags for lab results and vital signs: the one rule the lists, the overview and
 * the charts share. A flag always carries words ("High", "Low") and the range it was judged
 * against, never only a colour.
 *
 * A lab result is judged against its own reference range (as printed by the lab, in the
 * result's unit). A vital sign is judged against an age-appropriate default range, the person's
 * age taken at the time of the reading from their birth date; with no birth date the adult range
 * is used and the flag says so. Where no range is known (weight, height, blood sugar, a lab
 * result without a numeric range, a child's blood pressure) there is no flag.
 *
 * Default ranges (general guidance, not a diagnosis; a clinician's targets for the person come
 * first), sources:
 * - Heart rate by age: Fleming S. et al., "Normal ranges of heart rate and respiratory rate in
 *   children from birth to 18 years", Lancet 2011;377:1011-8 (rounded to the 1st-99th centile
 *   band); adults 60-100 /min: American Heart Association, "All About Heart Rate (Pulse)".
 * - Blood pressure: 2017 ACC/AHA adult guideline (normal below 120/80; hypotension below 90/60)
 *   and, from 13 years, the 2017 AAP clinical practice guideline (Flynn J.T. et al., Pediatrics
 *   2017;140:e20171904), which uses the adult thresholds from 13; under 13 the AAP's thresholds
 *   depend on height percentiles this app does not have, so no default.
 * - Oxygen saturation 95-100 %: WHO "Pulse oximetry training manual" (2011).
 * - Body temperature 36.1-37.2 °C: the commonly cited normal oral range (e.g. MedlinePlus,
 *   "Body temperature norms"); the same range is used at every age.
 */
import { BLOOD_PRESSURE_PANEL, LOINC, VITALS, toFirstUnit, type LabResultRecord, type Quantity, type VitalSignRecord, type VitalSpec } from '../vault/health.ts';
import { fhirSpan } from './fhir-time.ts';

export interface Range {
  readonly low?: number;
  readonly high?: number;
}

export type FlagLevel = 'high' | 'low';

export interface RangeFlag {
  readonly level: FlagLevel;
  /** "High" / "Low": the words shown with the value (colour is only a second cue). */
  readonly text: string;
  /** The range judged against, in the value's unit. */
  readonly range: Range;
  /** Where the range came from: the record itself, or the app's default for the age. */
  readonly source: 'record' | 'default';
  /** "adult range" / "range for age 1–2": which default applied (default ranges only). */
  readonly basis?: string;
}

/** Where `value` stands against `range`: bounds are inclusive ("4.0–5.6" accepts 5.6). */
export function judge(value: number, range: Range | undefined, source: RangeFlag['source'], basis?: string): RangeFlag | undefined {
  if (!range || !Number.isFinite(value)) return undefined;
  const low = Number.isFinite(range.low) ? range.low : undefined;
  const high = Number.isFinite(range.high) ? range.high : undefined;
  const flag = (level: FlagLevel): RangeFlag => ({ level, text: level === 'high' ? 'High' : 'Low', range, source, ...(basis ? { basis } : {}) });
  if (high !== undefined && value > high) return flag('high');
  if (low !== undefined && value < low) return flag('low');
  return undefined;
}

// ---- lab results ---------------------------------------------------------------------------------

const unitKey = (q: Quantity | undefined): string | undefined => q?.code ?? q?.unit;

/** The record's first reference range with a numeric bound in `unit` (a bound without a unit is taken as in it). */
export function labRange(r: LabResultRecord): Range | undefined {
  const unit = unitKey(r.valueQuantity);
  for (const rr of r.referenceRange ?? []) {
    const ok = (b: Quantity | undefined): b is Quantity => !!b && Number.isFinite(b.value) && (unitKey(b) === undefined || unit === undefined || unitKey(b) === unit);
    const out: { low?: number; high?: number } = {};
    if (ok(rr.low)) out.low = rr.low.value;
    if (ok(rr.high)) out.high = rr.high.value;
    if (out.low !== undefined || out.high !== undefined) return out;
  }
  return undefined;
}

/** A numeric lab result outside its own reference range; none for text results, comparators or no range. */
export function labFlag(r: LabResultRecord): RangeFlag | undefined {
  const q = r.valueQuantity;
  if (!q || (q as { comparator?: unknown }).comparator !== undefined) return undefined;
  return judge(q.value, labRange(r), 'record');
}

// ---- vital signs -----------------------------------------------------------------------------------

/** Age in whole years at `at` from a FHIR birth date; undefined when either is unknown. */
export function ageAt(birthDate: string | undefined, at: number | undefined): number | undefined {
  const span = fhirSpan(birthDate);
  if (!span || at === undefined || span.precision === 'year' || span.precision === 'month') return undefined;
  const b = new Date(span.start);
  const t = new Date(at);
  let age = t.getFullYear() - b.getFullYear();
  if (t.getMonth() < b.getMonth() || (t.getMonth() === b.getMonth() && t.getDate() < b.getDate())) age--;
  return age < 0 ? undefined : age;
}

interface AgeBand {
  /** Youngest age in years this band applies from. */
  readonly from: number;
  readonly range: Range;
}

/** Heart rate bands (Fleming 2011, rounded), oldest last. */
const HEART_RATE: readonly AgeBand[] = [
  { from: 0, range: { low: 100, high: 160 } },
  { from: 1, range: { low: 90, high: 150 } },
  { from: 3, range: { low: 80, high: 140 } },
  { from: 6, range: { low: 70, high: 120 } },
  { from: 12, range: { low: 60, high: 100 } },
];
/** Blood pressure: the adult thresholds from 13 years (AAP 2017), none below. */
const SYSTOLIC: readonly AgeBand[] = [{ from: 13, range: { low: 90, high: 120 } }];
const DIASTOLIC: readonly AgeBand[] = [{ from: 13, range: { low: 60, high: 80 } }];
const EVERY_AGE = (range: Range): readonly AgeBand[] => [{ from: 0, range }];

/** Default bands per vital, in its first unit; absent: no default (no flag). */
const DEFAULTS: ReadonlyMap<VitalSpec, readonly AgeBand[]> = new Map<VitalSpec, readonly AgeBand[]>([
  [VITALS.heartRate, HEART_RATE],
  [VITALS.systolic, SYSTOLIC],
  [VITALS.diastolic, DIASTOLIC],
  [VITALS.oxygenSaturation, EVERY_AGE({ low: 95, high: 100 })],
  [VITALS.bodyTemperature, EVERY_AGE({ low: 36.1, high: 37.2 })],
]);

/** The default range of `spec` for a person `age` years old (adult when unknown), with which band it is. */
export function defaultRange(spec: VitalSpec, age: number | undefined): { range: Range; basis: string } | undefined {
  const bands = DEFAULTS.get(spec);
  if (!bands) return undefined;
  const a = age ?? 18;
  let hit: AgeBand | undefined;
  let next: AgeBand | undefined;
  for (const b of bands) {
    if (b.from <= a) hit = b;
    else if (!next) next = b;
  }
  if (!hit) return undefined;
  const basis =
    bands.length === 1 && hit.from === 0
      ? 'usual range'
      : age === undefined
        ? 'adult range, no birth date recorded'
        : a >= 18
          ? 'adult range'
          : next
            ? `range for ages ${hit.from}–${next.from - 1}`
            : `range from age ${hit.from}`;
  return { range: hit.range, basis };
}

export interface VitalReading {
  /** "Systolic", "Heart rate". */
  readonly label: string;
  readonly spec: VitalSpec;
  /** In the spec's first unit (mmHg, /min, kg, cm, °C, %). */
  readonly value: number;
  readonly flag?: RangeFlag;
}

const loincOf = (c: { coding?: { system?: string; code?: string }[] }): string | undefined => c.coding?.find((x) => x.system === LOINC && x.code)?.code;
const BY_LOINC = new Map<string, VitalSpec>(Object.values(VITALS).map((v) => [v.loinc, v]));

/** A vital's value in its first unit, or undefined (missing, a comparator, a unit it does not allow). */
export function vitalValue(spec: VitalSpec, q: Quantity | undefined): number | undefined {
  if (!q || !Number.isFinite(q.value) || (q as { comparator?: unknown }).comparator !== undefined) return undefined;
  const v = toFirstUnit(spec, q.value, q.code ?? q.unit);
  // Rounded so a converted 154 lb reads 69.853 kg, not 69.85296498 kg.
  return v === undefined ? undefined : Math.round(v * 1000) / 1000;
}

/** The numbers of one vital-sign record (two for blood pressure), each with its flag, in first units. */
export function vitalReadings(r: VitalSignRecord, birthDate?: string): VitalReading[] {
  const at = fhirSpan(r.effectiveDateTime)?.start;
  const age = ageAt(birthDate, at);
  const reading = (label: string, spec: VitalSpec, q: Quantity | undefined): VitalReading[] => {
    const value = vitalValue(spec, q);
    if (value === undefined) return [];
    const d = defaultRange(spec, age);
    const flag = d ? judge(value, d.range, 'default', d.basis) : undefined;
    return [{ label, spec, value, ...(flag ? { flag } : {}) }];
  };
  const code = loincOf(r.code);
  if (code === BLOOD_PRESSURE_PANEL.loinc) {
    const part = (spec: VitalSpec) => r.component?.find((c) => loincOf(c.code) === spec.loinc)?.valueQuantity;
    return [...reading('Systolic', VITALS.systolic, part(VITALS.systolic)), ...reading('Diastolic', VITALS.diastolic, part(VITALS.diastolic))];
  }
  const spec = code === undefined ? undefined : BY_LOINC.get(code);
  return spec ? reading(spec.display, spec, r.valueQuantity) : [];
}

/** "High: above 90–120 mmHg (adult range)": the words a flag is read with. */
export function describeFlag(flag: RangeFlag, unit = ''): string {
  const n = (v: number) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(v);
  const { low, high } = flag.range;
  const u = unit ? ` ${unit}` : '';
  const span = low !== undefined && high !== undefined ? `${n(low)}–${n(high)}${u}` : high !== undefined ? `up to ${n(high)}${u}` : `from ${n(low!)}${u}`;
  const whose = flag.source === 'record' ? 'reference range' : (flag.basis ?? 'usual range');
  return `${flag.text}: ${flag.level === 'high' ? 'above' : 'below'} ${span} (${whose})`;
}

const FIRST_UNIT_TEXT: Readonly<Record<string, string>> = { 'mm[Hg]': 'mmHg', '/min': 'bpm', Cel: '°C' };

/** A record's flags with their words, for its card in a list (lab results and vital signs only). */
export function recordFlags(section: string, record: unknown, birthDate?: string): { flag: RangeFlag; text: string }[] {
  if (section === 'lab-results') {
    const r = record as LabResultRecord;
    const flag = labFlag(r);
    return flag ? [{ flag, text: describeFlag(flag, r.valueQuantity?.unit ?? r.valueQuantity?.code ?? '') }] : [];
  }
  if (section === 'list:vitals') {
    const readings = vitalReadings(record as VitalSignRecord, birthDate);
    return readings.flatMap((x) => {
      if (!x.flag) return [];
      const unit = FIRST_UNIT_TEXT[x.spec.units[0]] ?? x.spec.units[0];
      return [{ flag: x.flag, text: `${readings.length > 1 ? `${x.label} ` : ''}${describeFlag(x.flag, unit)}` }];
    });
  }
  return [];
}
