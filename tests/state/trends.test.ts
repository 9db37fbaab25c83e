/**
 * Vital-sign and lab trends: grouping, unit conversion, reference ranges, ordering, and what is
 * left out. Hand-made records pin each rule; generated ones check the invariants.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { BLOOD_PRESSURE_PANEL, LOINC, UCUM, VITALS, type LabResultRecord, type VitalSignRecord } from '../../src/lib/vault/health.ts';
import { labTrends, vitalTrends, type TrendGroup } from '../../src/lib/state/trends.ts';
import { toFhirDateTime } from '../../src/lib/state/fhir-time.ts';

const FILE = 'tests/state/trends.test.ts';
const day = (d: number, h = 8) => new Date(2026, 10, d, h, 0);
const at = (d: number, h = 8) => toFhirDateTime(day(d, h));
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const coded = (loinc: string, text = loinc) => ({ text, coding: [{ system: LOINC, code: loinc }] });

let n = 0;
function vital(loinc: string, value: number, unit: string, when: string, status: VitalSignRecord['status'] = 'final'): VitalSignRecord {
  return { id: `v${++n}`, schemaVersion: 1, resourceType: 'Observation', status, code: coded(loinc), effectiveDateTime: when, valueQuantity: q(value, unit) };
}
function bp(sys: number, dia: number, when: string): VitalSignRecord {
  return {
    id: `v${++n}`,
    schemaVersion: 1,
    resourceType: 'Observation',
    status: 'final',
    code: coded(BLOOD_PRESSURE_PANEL.loinc),
    effectiveDateTime: when,
    component: [
      { code: coded(VITALS.diastolic.loinc), valueQuantity: q(dia, 'mm[Hg]') },
      { code: coded(VITALS.systolic.loinc), valueQuantity: q(sys, 'mm[Hg]') },
    ],
  };
}
function lab(code: { text: string; coding?: { system: string; code: string }[] }, value: LabResultRecord['valueQuantity'] | string, when: string | undefined, extra: Partial<LabResultRecord> = {}): LabResultRecord {
  return {
    id: `l${++n}`,
    schemaVersion: 1,
    resourceType: 'Observation',
    status: 'final',
    code,
    ...(when ? { effectiveDateTime: when } : {}),
    ...(typeof value === 'string' ? { valueString: value } : { valueQuantity: value }),
    ...extra,
  };
}
const group = (groups: TrendGroup[], key: string) => groups.find((g) => g.key === key)!;
const values = (g: TrendGroup, i = 0) => g.series[i]!.points.map((p) => p.v);

describe('vitalTrends', () => {
  it('blood pressure panels make one group with systolic and diastolic series, their own guidance ranges, and readings above them flagged', () => {
    const groups = vitalTrends([bp(130, 85, at(3)), bp(118, 76, at(1))]);
    expect(groups).toEqual([
      {
        key: 'blood-pressure',
        title: 'Blood pressure',
        unit: 'mmHg',
        rangeBasis: 'adult range, no birth date recorded',
        series: [
          { label: 'Systolic', points: [{ t: day(1).getTime(), v: 118 }, { t: day(3).getTime(), v: 130, flag: 'high' }], referenceRange: { low: 90, high: 120 } },
          { label: 'Diastolic', points: [{ t: day(1).getTime(), v: 76 }, { t: day(3).getTime(), v: 85, flag: 'high' }], referenceRange: { low: 60, high: 80 } },
        ],
      },
    ]);
  });

  it("a child's blood pressure has no default range, so no band and no flag (the AAP's depend on height)", () => {
    const groups = vitalTrends([bp(130, 85, at(3))], '2020-05-01');
    expect(groups[0]!.series.map((s) => s.referenceRange)).toEqual([undefined, undefined]);
    expect(groups[0]!.series.flatMap((s) => s.points.map((p) => p.flag))).toEqual([undefined, undefined]);
  });

  it('one group per vital, sorted by title, values converted to the first unit', () => {
    const groups = vitalTrends([
      vital(VITALS.bodyWeight.loinc, 154, '[lb_av]', at(2)),
      vital(VITALS.bodyWeight.loinc, 70.5, 'kg', at(1)),
      vital(VITALS.bodyWeight.loinc, 3450, 'g', at(3)),
      vital(VITALS.bodyHeight.loinc, 1.8, 'm', at(1)),
      vital(VITALS.bodyHeight.loinc, 70, '[in_i]', at(2)),
      vital(VITALS.bodyHeight.loinc, 181, 'cm', at(3)),
      vital(VITALS.bodyTemperature.loinc, 98.6, '[degF]', at(1)),
      vital(VITALS.bodyTemperature.loinc, 37.9, 'Cel', at(2)),
      vital(VITALS.heartRate.loinc, 72, '/min', at(1)),
      vital(VITALS.oxygenSaturation.loinc, 97, '%', at(1)),
      vital(VITALS.glucoseMass.loinc, 95, 'mg/dL', at(1)),
      vital(VITALS.glucoseMoles.loinc, 5.4, 'mmol/L', at(1)),
    ]);
    expect(groups.map((g) => [g.title, g.unit])).toEqual([
      ['Blood glucose', 'mmol/L'],
      ['Blood glucose', 'mg/dL'],
      ['Heart rate', 'bpm'],
      ['Height', 'cm'],
      ['Oxygen saturation', '%'],
      ['Temperature', '°C'],
      ['Weight', 'kg'],
    ]);
    expect(values(group(groups, VITALS.bodyWeight.loinc))).toEqual([70.5, 69.853, 3.45]);
    expect(values(group(groups, VITALS.bodyHeight.loinc))).toEqual([180, 177.8, 181]);
    expect(values(group(groups, VITALS.bodyTemperature.loinc))).toEqual([37, 37.9]);
    expect(group(groups, VITALS.heartRate.loinc).referenceRange).toEqual({ low: 60, high: 100 });
    expect(group(groups, VITALS.oxygenSaturation.loinc).referenceRange).toEqual({ low: 95, high: 100 });
    expect(group(groups, VITALS.bodyTemperature.loinc).referenceRange).toEqual({ low: 36.1, high: 37.2 });
    expect(group(groups, VITALS.bodyWeight.loinc).referenceRange).toBeUndefined();
    expect(group(groups, VITALS.bodyWeight.loinc).series.map((s) => s.label)).toEqual(['Weight']);
  });

  it('skips readings entered in error or cancelled, timed only to a month or year, or in a unit the vital does not allow', () => {
    const w = VITALS.bodyWeight.loinc;
    const groups = vitalTrends([
      vital(w, 70, 'kg', at(1)),
      vital(w, 700, 'kg', at(2), 'entered-in-error'),
      vital(w, 700, 'kg', at(3), 'cancelled'),
      vital(w, 700, 'kg', '2026-11'),
      vital(w, 700, 'kg', '2026'),
      vital(w, 700, 'stone', at(4)),
      vital(w, 71, 'kg', '2026-11-05'),
      vital('0000-0', 1, 'kg', at(1)),
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.series[0]!.points).toEqual([
      { t: day(1).getTime(), v: 70 },
      { t: new Date(2026, 10, 5).getTime(), v: 71 }, // a day-only reading at local midnight
    ]);
    expect(vitalTrends([])).toEqual([]);
  });
});

describe('labTrends', () => {
  const A1C = coded('4548-4', 'HbA1c');

  it('numeric results grouped by LOINC code, title and unit from the earliest, points by time', () => {
    const groups = labTrends([
      lab({ ...A1C, text: 'Hemoglobin A1c' }, q(6.1, '%'), at(5)),
      lab(A1C, q(6.8, '%'), at(1)),
      lab(A1C, 'pending', at(2)),
      lab(A1C, undefined, at(3), { valueCodeableConcept: { text: 'High' } }),
      lab({ text: 'Ferritin' }, q(80, 'ug/L'), undefined, { issued: at(4) }),
      lab({ text: ' ferritin' }, q(60, 'ug/L'), at(2)),
      lab({ text: 'No time' }, q(1, 'mg/dL'), undefined),
    ]);
    expect(groups.map((g) => [g.title, g.unit, values(g)])).toEqual([
      [' ferritin', 'ug/L', [60, 80]],
      ['HbA1c', '%', [6.8, 6.1]],
    ]);
    expect(groups[1]!.series).toHaveLength(1);
    expect(groups[1]!.key).toContain('4548-4');
  });

  it('results of one test in another unit get their own group rather than a wrong axis', () => {
    const glucose = coded('2345-7', 'Glucose');
    const groups = labTrends([lab(glucose, q(95, 'mg/dL'), at(1)), lab(glucose, q(5.1, 'mmol/L'), at(2)), lab(glucose, q(101, 'mg/dL'), at(3))]);
    expect(groups.map((g) => [g.unit, values(g)])).toEqual(
      expect.arrayContaining([
        ['mg/dL', [95, 101]],
        ['mmol/L', [5.1]],
      ]),
    );
    expect(groups).toHaveLength(2);
  });

  it('the reference range is the latest result’s own, in the group’s unit', () => {
    const chol = coded('2093-3', 'Cholesterol');
    const range = (low?: number, high?: number, unit = 'mg/dL') => ({ referenceRange: [{ ...(low !== undefined ? { low: q(low, unit) } : {}), ...(high !== undefined ? { high: q(high, unit) } : {}) }] });
    const g = (...labs: LabResultRecord[]) => labTrends(labs)[0]!.referenceRange;
    expect(g(lab(chol, q(190, 'mg/dL'), at(1), range(100, 200)), lab(chol, q(210, 'mg/dL'), at(2), range(undefined, 190)))).toEqual({ high: 190 });
    expect(g(lab(chol, q(190, 'mg/dL'), at(2), range(100, 200)), lab(chol, q(210, 'mg/dL'), at(1), range(undefined, 190)))).toEqual({ low: 100, high: 200 });
    expect(g(lab(chol, q(190, 'mg/dL'), at(1), range(2, 5, 'mmol/L')))).toBeUndefined();
    expect(g(lab(chol, q(190, 'mg/dL'), at(1), { referenceRange: [{ text: 'under 200' }, { high: { value: 200 } }] }))).toEqual({ high: 200 });
    expect(g(lab(chol, q(190, 'mg/dL'), at(1)))).toBeUndefined();
  });

  it('skips entered-in-error, cancelled and comparator values', () => {
    const t = coded('3016-3', 'TSH');
    const groups = labTrends([
      lab(t, q(2, 'm[IU]/L'), at(1)),
      lab(t, q(9, 'm[IU]/L'), at(2), { status: 'entered-in-error' }),
      lab(t, q(9, 'm[IU]/L'), at(3), { status: 'cancelled' }),
      lab(t, { ...q(0.01, 'm[IU]/L'), comparator: '<' } as LabResultRecord['valueQuantity'], at(4)),
    ]);
    expect(groups.map((g) => values(g))).toEqual([[2]]);
  });
});

describe('generated records', () => {
  const name = 'generated vitals and labs give sorted groups of finite, time-ordered points';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      const vitals = Array.from({ length: 300 }, () => generateRecord('list:vitals', prng.next));
      const labs = Array.from({ length: 200 }, () => generateRecord('lab-results', prng.next));
      const groups = [vitalTrends(vitals), labTrends(labs)];
      for (const list of groups) {
        for (let i = 1; i < list.length; i++) expect(list[i - 1]!.title.localeCompare(list[i]!.title)).toBeLessThanOrEqual(0);
        for (const g of list) {
          expect(g.series.length).toBeGreaterThan(0);
          for (const s of g.series) {
            for (const p of s.points) expect(Number.isFinite(p.t) && Number.isFinite(p.v)).toBe(true);
            for (let i = 1; i < s.points.length; i++) expect(s.points[i - 1]!.t).toBeLessThanOrEqual(s.points[i]!.t);
          }
        }
      }
      const [v, l] = groups as [TrendGroup[], TrendGroup[]];
      expect(new Set(v.map((g) => g.key)).size).toBe(v.length);
      // Every vital kind the generator draws shows up (300 samples, day-or-better times ~2/3 of them).
      expect(v.length).toBe(8);
      const bpGroup = group(v, 'blood-pressure');
      expect(bpGroup.series[0]!.points.length).toBe(bpGroup.series[1]!.points.length);
      // Each single-vital group holds exactly its day-or-better readings, converted to the first unit.
      const toFirst = (v: number, unit: string) => ({ '[lb_av]': v * 0.45359237, g: v / 1000, '[in_i]': v * 2.54, m: v * 100, '[degF]': ((v - 32) * 5) / 9 })[unit] ?? v;
      for (const g of v.filter((g) => g.key !== 'blood-pressure')) {
        const expected = vitals
          .filter((r) => r.code.coding?.[0]?.code === g.key && r.effectiveDateTime.length >= 10)
          .map((r) => ({ t: new Date(r.effectiveDateTime.length === 10 ? `${r.effectiveDateTime}T00:00` : r.effectiveDateTime).getTime(), v: toFirst(r.valueQuantity!.value, r.valueQuantity!.code!) }))
          .sort((a, b) => a.t - b.t);
        const got = g.series[0]!.points;
        expect(got.map((p) => p.t)).toEqual(expected.map((p) => p.t));
        got.forEach((p, i) => expect(p.v).toBeCloseTo(expected[i]!.v, 2));
      }
      const charted = l.reduce((sum, g) => sum + g.series[0]!.points.length, 0);
      const numeric = labs.filter((r) => r.valueQuantity && (r.effectiveDateTime ?? '').length >= 10).length;
      expect(charted).toBe(numeric);
    }),
  );
});
