/**
 * Out-of-range flags: a lab result against its own range (bounds inclusive, unit respected), a
 * vital against the default for the person's age at the reading, and no flag where no range is
 * known.
 */
import { describe, expect, it } from 'vitest';
import { LOINC, UCUM, VITALS, type LabResultRecord, type VitalSignRecord } from '../../src/lib/vault/health.ts';
import { ageAt, defaultRange, describeFlag, judge, labFlag, vitalReadings } from '../../src/lib/state/ranges.ts';

const lab = (value: number, unit: string, range?: { low?: number; high?: number; unit?: string }, extra: Partial<LabResultRecord> = {}): LabResultRecord => ({
  id: 'l',
  schemaVersion: 1,
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'HbA1c', coding: [{ system: LOINC, code: '4548-4' }] },
  valueQuantity: { value, unit },
  ...(range
    ? { referenceRange: [{ ...(range.low !== undefined ? { low: { value: range.low, unit: range.unit ?? unit } } : {}), ...(range.high !== undefined ? { high: { value: range.high, unit: range.unit ?? unit } } : {}) }] }
    : {}),
  ...extra,
});
const hr = (value: number, when = '2026-11-20T08:00:00Z'): VitalSignRecord => ({
  id: 'v',
  schemaVersion: 1,
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Heart rate', coding: [{ system: LOINC, code: VITALS.heartRate.loinc }] },
  effectiveDateTime: when,
  valueQuantity: { value, unit: '/min', system: UCUM, code: '/min' },
});

describe('lab results against their own range', () => {
  it('flags an HbA1c above its recorded range as High, with the range in words', () => {
    const flag = labFlag(lab(7.2, '%', { low: 4, high: 5.6 }));
    expect(flag).toMatchObject({ level: 'high', text: 'High', source: 'record', range: { low: 4, high: 5.6 } });
    expect(describeFlag(flag!, '%')).toBe('High: above 4–5.6 % (reference range)');
  });

  it('bounds are inclusive; below the low bound is Low; a one-sided range works', () => {
    expect(labFlag(lab(5.6, '%', { low: 4, high: 5.6 }))).toBeUndefined();
    expect(labFlag(lab(4, '%', { low: 4, high: 5.6 }))).toBeUndefined();
    expect(labFlag(lab(3.9, '%', { low: 4, high: 5.6 }))?.level).toBe('low');
    expect(labFlag(lab(250, 'mg/dL', { high: 200 }))?.level).toBe('high');
  });

  it('no range, a range in another unit, a text result or a comparator: no flag', () => {
    expect(labFlag(lab(7.2, '%'))).toBeUndefined();
    expect(labFlag(lab(55, 'mmol/mol', { low: 4, high: 5.6, unit: '%' }))).toBeUndefined();
    const text: LabResultRecord = { ...lab(0, '%', { low: 4, high: 5.6 }), valueQuantity: undefined, valueString: 'negative' };
    expect(labFlag(text)).toBeUndefined();
    expect(labFlag(lab(7.2, '%', { low: 4, high: 5.6 }, { valueQuantity: { value: 7.2, unit: '%', comparator: '>' } as never }))).toBeUndefined();
  });
});

describe('vitals against the default for the age', () => {
  it('takes the age at the reading, not today', () => {
    expect(ageAt('2020-06-15', new Date(2026, 5, 14).getTime())).toBe(5);
    expect(ageAt('2020-06-15', new Date(2026, 5, 15).getTime())).toBe(6);
    expect(ageAt('2020', new Date(2026, 5, 15).getTime())).toBeUndefined(); // a year alone is not enough
    expect(ageAt(undefined, Date.now())).toBeUndefined();
  });

  it('a heart rate of 130 is high for an adult, normal for a 2-year-old (Fleming 2011 bands)', () => {
    expect(vitalReadings(hr(130), '1980-01-01')[0]!.flag).toMatchObject({ level: 'high', source: 'default', basis: 'adult range' });
    expect(vitalReadings(hr(130), '2024-06-01')[0]!.flag).toBeUndefined();
    expect(vitalReadings(hr(90), '2024-06-01')[0]!.flag).toBeUndefined();
    expect(vitalReadings(hr(80), '2024-06-01')[0]!.flag).toMatchObject({ level: 'low', basis: 'range for ages 1–2' });
  });

  it('without a birth date the adult range is used and the flag says so', () => {
    expect(vitalReadings(hr(130))[0]!.flag?.basis).toBe('adult range, no birth date recorded');
  });

  it('weight, height and blood sugar have no default range: no flag whatever the value', () => {
    for (const spec of [VITALS.bodyWeight, VITALS.bodyHeight, VITALS.glucoseMass, VITALS.glucoseMoles]) expect(defaultRange(spec, 40)).toBeUndefined();
  });

  it('converts units before judging (98.6 °F is 37 °C, in range; 101 °F is high)', () => {
    const temp = (v: number): VitalSignRecord => ({ ...hr(0), code: { text: 't', coding: [{ system: LOINC, code: VITALS.bodyTemperature.loinc }] }, valueQuantity: { value: v, unit: '°F', system: UCUM, code: '[degF]' } });
    expect(vitalReadings(temp(98.6))[0]!.flag).toBeUndefined();
    expect(vitalReadings(temp(101))[0]!.flag?.level).toBe('high');
  });

  it('judge ignores a missing or non-finite bound', () => {
    expect(judge(5, undefined, 'record')).toBeUndefined();
    expect(judge(5, { low: Number.NaN, high: 4 }, 'record')?.level).toBe('high');
    expect(judge(5, {}, 'record')).toBeUndefined();
  });
});
