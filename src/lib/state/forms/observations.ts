/** Forms for vital signs (one reading per entry, blood pressure as a panel) and lab results. */
import { BLOOD_PRESSURE_PANEL, LOINC, OBSERVATION_CATEGORY, UCUM, VITALS, type VitalName } from '../../vault/health.ts';
import {
  asString,
  choice,
  codedChoice,
  compact,
  concept,
  date,
  dateTime,
  defineForm,
  field,
  firstString,
  formatNumber,
  getIn,
  isRec,
  labelOf,
  notePart,
  nowInput,
  opts,
  parseNumber,
  referenceName,
  str,
  text,
  type Part,
  type Rec,
} from './bind.ts';
import type { FieldOption, FieldSpec, FormValues, SectionForm } from './types.ts';

const vitalSigns = { coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs' }] };
const laboratory = { coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory' }] };

// ---- vitals ----------------------------------------------------------------------------------------

/** What a person picks: each single vital, and blood pressure (the panel) instead of its two parts. */
export type VitalChoice = Exclude<VitalName, 'systolic' | 'diastolic'> | 'bloodPressure';

const VITAL_LABELS: Record<VitalChoice, string> = {
  bloodPressure: 'Blood pressure',
  heartRate: 'Heart rate',
  bodyWeight: 'Weight',
  bodyHeight: 'Height',
  bodyTemperature: 'Temperature',
  oxygenSaturation: 'Oxygen saturation',
  glucoseMass: 'Blood sugar (mg/dL)',
  glucoseMoles: 'Blood sugar (mmol/L)',
};
const VITAL_CHOICES = Object.entries(VITAL_LABELS).map(([value, label]) => ({ value, label })) as readonly FieldOption[];

/** How each allowed UCUM code reads. */
const UNIT_LABELS: Record<string, string> = {
  'mm[Hg]': 'mmHg',
  '/min': 'beats per minute',
  kg: 'kg',
  g: 'g',
  '[lb_av]': 'lb',
  cm: 'cm',
  m: 'm',
  '[in_i]': 'in',
  'mg/dL': 'mg/dL',
  'mmol/L': 'mmol/L',
  '%': '%',
  Cel: '°C',
  '[degF]': '°F',
};
const unitLabel = (code: string): string => UNIT_LABELS[code] ?? code;

const isVital = (v: unknown): v is Exclude<VitalChoice, 'bloodPressure'> => typeof v === 'string' && v in VITALS && v !== 'systolic' && v !== 'diastolic';
const unitsFor = (values: FormValues): readonly FieldOption[] => {
  const v = values.vital;
  return isVital(v) ? VITALS[v].units.map((u) => ({ value: u, label: unitLabel(u) })) : [];
};
const isBp = (values: FormValues) => values.vital === 'bloodPressure';
const single = (values: FormValues) => isVital(values.vital);

const loincOf = (c: unknown): string | undefined => {
  const coding = isRec(c) && Array.isArray(c.coding) ? c.coding : [];
  const hit = coding.find((x) => isRec(x) && x.system === LOINC);
  return isRec(hit) && typeof hit.code === 'string' ? hit.code : undefined;
};
const vitalOfLoinc = (code: string | undefined): VitalChoice | '' => {
  if (code === BLOOD_PRESSURE_PANEL.loinc) return 'bloodPressure';
  const hit = (Object.keys(VITALS) as VitalName[]).find((n) => VITALS[n].loinc === code);
  return hit && hit !== 'systolic' && hit !== 'diastolic' ? hit : '';
};
const coded = (loinc: string, display: string) => ({ text: display, coding: [{ system: LOINC, code: loinc, display }] });
const ucum = (value: number | undefined, code: string): Rec => ({ ...(value === undefined ? {} : { value }), unit: unitLabel(code), system: UCUM, code });

const VITAL_FIELDS = {
  vital: { name: 'vital', label: 'Measurement', kind: 'select', required: true, options: VITAL_CHOICES, paths: [['code']] },
  systolic: { name: 'systolic', label: 'Systolic (upper)', kind: 'number', required: true, unit: 'mmHg', min: 0, step: 1, group: 'Blood pressure', visible: isBp, paths: [['component', 0], ['component']] },
  diastolic: { name: 'diastolic', label: 'Diastolic (lower)', kind: 'number', required: true, unit: 'mmHg', min: 0, step: 1, group: 'Blood pressure', visible: isBp, paths: [['component', 1]] },
  value: { name: 'value', label: 'Value', kind: 'number', required: true, min: 0, step: 0.1, visible: single, paths: [['valueQuantity'], ['valueQuantity', 'value']] },
  unit: { name: 'unit', label: 'Unit', kind: 'select', required: true, options: unitsFor, visible: single, paths: [['valueQuantity', 'code'], ['valueQuantity', 'unit'], ['valueQuantity', 'system']] },
} as const satisfies Record<string, FieldSpec>;

/**
 * The reading: which vital, and its value(s). Blood pressure is written as the panel with
 * systolic and diastolic components (in that order, other components kept after them); any
 * other vital as a valueQuantity in a unit its LOINC code allows.
 */
const readingPart: Part = {
  fields: Object.values(VITAL_FIELDS),
  read(r) {
    const vital = vitalOfLoinc(loincOf(r.code));
    const components = Array.isArray(r.component) ? r.component : [];
    const part = (loinc: string) => formatNumber(getIn(components.find((c) => loincOf(isRec(c) ? c.code : undefined) === loinc), ['valueQuantity', 'value']));
    const q = isRec(r.valueQuantity) ? r.valueQuantity : {};
    return {
      vital,
      systolic: vital === 'bloodPressure' ? part(VITALS.systolic.loinc) : '',
      diastolic: vital === 'bloodPressure' ? part(VITALS.diastolic.loinc) : '',
      value: vital && vital !== 'bloodPressure' ? formatNumber(q.value) : '',
      unit: vital && vital !== 'bloodPressure' ? str(q.code) : '',
    };
  },
  write(values, w) {
    const vital = asString(values.vital);
    const loinc = vital === 'bloodPressure' ? BLOOD_PRESSURE_PANEL.loinc : isVital(vital) ? VITALS[vital].loinc : undefined;
    if (!loinc) return w.put(['code'], undefined);
    if (loincOf(w.get(['code'])) !== loinc) w.put(['code'], coded(loinc, vital === 'bloodPressure' ? BLOOD_PRESSURE_PANEL.display : VITALS[vital as VitalName].display));
    if (vital === 'bloodPressure') {
      const old = Array.isArray(w.get(['component'])) ? (w.get(['component']) as unknown[]) : [];
      const component = (spec: (typeof VITALS)['systolic' | 'diastolic'], v: string | boolean | string[] | undefined) => {
        const prev = old.find((c) => isRec(c) && loincOf(c.code) === spec.loinc);
        return { ...(isRec(prev) ? prev : { code: coded(spec.loinc, spec.display) }), valueQuantity: ucum(parseNumber(v), 'mm[Hg]') };
      };
      const bp: readonly string[] = [VITALS.systolic.loinc, VITALS.diastolic.loinc];
      const others = old.filter((c) => !(isRec(c) && bp.includes(loincOf(c.code) ?? '')));
      w.put(['component'], [component(VITALS.systolic, values.systolic), component(VITALS.diastolic, values.diastolic), ...others]);
      w.put(['valueQuantity'], undefined);
    } else {
      const unit = asString(values.unit);
      const old = w.get(['valueQuantity']);
      const { value: _v, unit: _u, system: _s, code: _c, ...rest } = isRec(old) ? old : {};
      const value = parseNumber(values.value);
      w.put(['valueQuantity'], unit ? { ...rest, ...ucum(value, unit) } : { ...rest, ...(value === undefined ? {} : { value }) });
      w.put(['component'], undefined);
    }
  },
};

export const vitalsForm: SectionForm = defineForm({
  section: 'list:vitals',
  title: 'Vital signs',
  singular: 'reading',
  resourceType: 'Observation',
  parts: [readingPart, field({ name: 'at', label: 'Measured at', kind: 'datetime', required: true }, ['effectiveDateTime'], dateTime), notePart()],
  defaults: (now) => ({ at: nowInput(now) }),
  complete(out, w) {
    if (out.status === undefined) w.put(['status'], 'final');
    if (!w.previous && out.category === undefined) w.put(['category'], [vitalSigns]);
  },
  summary(r) {
    const vital = vitalOfLoinc(loincOf(r.code));
    const values = readingPart.read(r);
    const reading =
      vital === 'bloodPressure'
        ? `${values.systolic}/${values.diastolic} mmHg`
        : vital
          ? `${values.value} ${unitLabel(asString(values.unit))}`.trim()
          : '';
    return { title: vital ? VITAL_LABELS[vital] : (text(r.code) ?? 'Reading'), subtitle: reading || undefined, when: firstString(r.effectiveDateTime) };
  },
});

// ---- lab results ----------------------------------------------------------------------------------------

const LAB_STATUS = opts(['final', 'Final'], ['preliminary', 'Preliminary'], ['amended', 'Amended'], ['corrected', 'Corrected'], ['registered', 'Waiting for the result'], ['cancelled', 'Cancelled'], ['entered-in-error', 'Entered in error'], ['unknown', 'Unknown']);
const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const INTERPRETATION = opts(['N', 'Normal'], ['H', 'High'], ['L', 'Low'], ['A', 'Abnormal']);
/** Units written with the UCUM system; anything else is kept as the unit's text only. */
const LAB_UCUM = new Set(['%', 'mg/dL', 'mmol/L', 'umol/L', 'g/dL', 'g/L', 'mg/L', 'ng/mL', 'pg/mL', 'ug/L', 'U/L', '[IU]/L', 'm[IU]/L', 'u[IU]/mL', 'mL/min', 'mL/min/{1.73_m2}', '10*9/L', '10*12/L', 'fL', 'pg', 'mm/h', 'meq/L', 's', '{ratio}']);
const NUMERIC = /^[-+]?(\d+([.,]\d*)?|[.,]\d+)$/;

const labQuantity = (value: number, unit: string, old: unknown): Rec => {
  const { value: _v, unit: _u, system: _s, code: _c, ...rest } = isRec(old) ? old : {};
  return { ...rest, value, ...(unit ? { unit, ...(LAB_UCUM.has(unit) ? { system: UCUM, code: unit } : {}) } : {}) };
};
const quantityUnit = (q: unknown): string => (isRec(q) ? str(q.unit) || str(q.code) : '');

const LAB_FIELDS = {
  result: { name: 'result', label: 'Result', kind: 'text', required: true, placeholder: 'e.g. 5.4, or "negative"', paths: [['valueQuantity'], ['valueString'], ['valueCodeableConcept']] },
  unit: { name: 'unit', label: 'Unit', kind: 'text', placeholder: 'e.g. mmol/L', help: 'Used when the result is a number.', paths: [['valueQuantity', 'unit'], ['valueQuantity', 'code'], ['valueQuantity', 'system']] },
  low: { name: 'low', label: 'Normal from', kind: 'number', group: 'Normal range', paths: [['referenceRange', 0, 'low']] },
  high: { name: 'high', label: 'Normal up to', kind: 'number', group: 'Normal range', paths: [['referenceRange', 0, 'high']] },
} as const satisfies Record<string, FieldSpec>;

/** The result (a number with its unit, else text) and the normal range in the same unit. */
const resultPart: Part = {
  fields: Object.values(LAB_FIELDS),
  read(r) {
    const q = isRec(r.valueQuantity) ? r.valueQuantity : undefined;
    const result = q ? formatNumber(q.value) : typeof r.valueString === 'string' ? r.valueString : (text(r.valueCodeableConcept) ?? '');
    const range = getIn(r, ['referenceRange', 0]);
    const low = isRec(range) ? range.low : undefined;
    const high = isRec(range) ? range.high : undefined;
    return { result, unit: quantityUnit(q) || quantityUnit(low) || quantityUnit(high), low: formatNumber(getIn(low, ['value'])), high: formatNumber(getIn(high, ['value'])) };
  },
  write(values, w) {
    const result = asString(values.result).trim();
    const unit = asString(values.unit).trim();
    const number = NUMERIC.test(result) ? parseNumber(result) : undefined;
    w.put(['valueQuantity'], number === undefined ? undefined : labQuantity(number, unit, w.get(['valueQuantity'])));
    w.put(['valueString'], number === undefined && result ? result : undefined);
    if (number !== undefined || result !== text(w.get(['valueCodeableConcept']))) w.put(['valueCodeableConcept'], undefined);
    if (w.get(['valueCodeableConcept']) !== undefined) w.put(['valueString'], undefined);
    for (const end of ['low', 'high'] as const) {
      const n = parseNumber(values[end]);
      w.put(['referenceRange', 0, end], n === undefined ? undefined : labQuantity(n, unit, getIn(w.get(['referenceRange', 0]), [end])));
    }
  },
};

export const labResultsForm: SectionForm = defineForm({
  section: 'lab-results',
  title: 'Lab results',
  singular: 'lab result',
  resourceType: 'Observation',
  parts: [
    field({ name: 'test', label: 'Test', kind: 'text', required: true, placeholder: 'e.g. HbA1c' }, ['code'], concept),
    resultPart,
    field({ name: 'rangeText', label: 'Normal range as printed', kind: 'text', group: 'Normal range' }, ['referenceRange', 0, 'text'], {
      read: str,
      write: (v) => asString(v).trim() || undefined,
    }),
    field({ name: 'interpretation', label: 'Interpretation', kind: 'select', options: INTERPRETATION }, ['interpretation', 0], codedChoice(INTERPRETATION, INTERPRETATION_SYSTEM)),
    field({ name: 'date', label: 'Sample taken', kind: 'date' }, ['effectiveDateTime'], date),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: LAB_STATUS }, ['status'], choice),
    field({ name: 'lab', label: 'Laboratory', kind: 'text' }, ['performer', 0], referenceName),
    notePart(),
  ],
  defaults: () => ({ status: 'final' }),
  complete(out, w) {
    if (!w.previous && out.category === undefined) w.put(['category'], [laboratory]);
  },
  summary(r) {
    const v = resultPart.read(r);
    return {
      title: text(r.code) ?? 'Lab result',
      subtitle: `${v.result} ${isRec(r.valueQuantity) ? v.unit : ''}`.trim() || undefined,
      badges: compact([text(getIn(r, ['interpretation', 0])), r.status !== 'final' && labelOf(LAB_STATUS, r.status)]),
      when: firstString(r.effectiveDateTime, r.issued),
    };
  },
});
