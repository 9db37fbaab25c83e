/**
 * Plausibility limits of vital signs: values inside each vital's limits (in any unit it allows)
 * are accepted, values outside are refused with a typed VITAL_IMPLAUSIBLE issue at the value's
 * path; the form turns it into a sentence with the limits and unit. Seeded values around each
 * limit (TEST_SEED reproduces a run; the seed prints on failure).
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../helpers/prng.ts';
import { BLOOD_PRESSURE_PANEL, IMPLAUSIBLE, LOINC, UCUM, VITALS, fromFirstUnit, validateRecord, type VitalName } from '../../src/lib/vault/health.ts';
import { fieldErrors, SECTION_FORMS } from '../../src/lib/state/forms/index.ts';

const FILE = 'tests/schemas/plausibility.test.ts';
const coded = (loinc: string) => ({ text: loinc, coding: [{ system: LOINC, code: loinc }] });
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const base = { id: 'v1', schemaVersion: 1, resourceType: 'Observation', status: 'final', effectiveDateTime: '2026-12-01T08:00:00Z' };
const single = (name: VitalName, value: number, unit: string) => ({ ...base, code: coded(VITALS[name].loinc), valueQuantity: q(value, unit) });
const bp = (sys: number, dia: number) => ({
  ...base,
  code: coded(BLOOD_PRESSURE_PANEL.loinc),
  component: [
    { code: coded(VITALS.systolic.loinc), valueQuantity: q(sys, 'mm[Hg]') },
    { code: coded(VITALS.diastolic.loinc), valueQuantity: q(dia, 'mm[Hg]') },
  ],
});
const SINGLES = (Object.keys(VITALS) as VitalName[]).filter((n) => n !== 'systolic' && n !== 'diastolic');

describe('vital plausibility', () => {
  it('refuses a diastolic of 300 mmHg with a typed issue the form shows by the diastolic field', () => {
    const v = validateRecord('list:vitals', bp(320, 300));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.issues.filter((i) => i.code === IMPLAUSIBLE).map((i) => i.path)).toEqual([
      ['component', 0, 'valueQuantity', 'value'],
      ['component', 1, 'valueQuantity', 'value'],
    ]);
    const errors = fieldErrors(v.issues, SECTION_FORMS['list:vitals']);
    expect(errors.diastolic).toBe('Not possible: diastolic blood pressure must be between 10 and 250 mmHg.');
    expect(errors.systolic).toBe('Not possible: systolic blood pressure must be between 20 and 300 mmHg.');
  });

  it('refuses a diastolic at or above the systolic', () => {
    const v = validateRecord('list:vitals', bp(120, 120));
    expect(v.ok).toBe(false);
    expect(!v.ok && v.issues.map((i) => i.code)).toEqual([IMPLAUSIBLE]);
    expect(validateRecord('list:vitals', bp(120, 119)).ok).toBe(true);
  });

  it('judges a value in its own unit: 154 lb and 1.8 m pass, 1600 lb and 18 m do not; the message names the limits in that unit', () => {
    expect(validateRecord('list:vitals', single('bodyWeight', 154, '[lb_av]')).ok).toBe(true);
    expect(validateRecord('list:vitals', single('bodyHeight', 1.8, 'm')).ok).toBe(true);
    expect(validateRecord('list:vitals', single('bodyWeight', 1600, '[lb_av]')).ok).toBe(false);
    const tall = validateRecord('list:vitals', single('bodyHeight', 18, 'm'));
    expect(!tall.ok && tall.issues[0]!.message).toBe('implausible: body height must be between 0.2 and 2.8 m');
    const hot = validateRecord('list:vitals', single('bodyTemperature', 120, '[degF]'));
    expect(!hot.ok && hot.issues[0]!.message).toBe('implausible: body temperature must be between 77 and 113 °F');
  });

  it('seeded values around every limit, in every allowed unit: accepted inside, refused outside', async () => {
    await withSeed(FILE, 'seeded values around every limit, in every allowed unit: accepted inside, refused outside', async (prng) => {
      console.log(`plausibility seed ${prng.seed} (rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE})`);
      for (let i = 0; i < 400; i++) {
        const name = prng.pick(SINGLES);
        const spec = VITALS[name];
        const unit = prng.pick(spec.units);
        const edge = prng.bool() ? 0 : 1;
        const limit = fromFirstUnit(spec, spec.range[edge], unit);
        // Up to 5 % of the limit either side, never exactly on it (floating conversion).
        const delta = (prng.int(1, 1000) / 1000) * 0.05 * Math.abs(limit) * (prng.bool() ? 1 : -1);
        const value = limit + delta;
        const inside = edge === 0 ? delta > 0 : delta < 0;
        const v = validateRecord('list:vitals', single(name, value, unit));
        const implausible = !v.ok && v.issues.some((x) => x.code === IMPLAUSIBLE);
        expect(implausible, `${name} ${value} ${unit} (limit ${limit})`).toBe(!inside);
        if (!implausible) expect(v.ok, `${name} ${value} ${unit}`).toBe(true);
      }
      for (let i = 0; i < 200; i++) {
        const sys = prng.int(-20, 340);
        const dia = prng.int(-20, 280);
        const ok = sys >= 20 && sys <= 300 && dia >= 10 && dia <= 250 && dia < sys;
        expect(validateRecord('list:vitals', bp(sys, dia)).ok, `${sys}/${dia}`).toBe(ok);
      }
    });
  });

  it('the limits are inclusive in the first unit', () => {
    for (const name of SINGLES) {
      const spec = VITALS[name];
      expect(validateRecord('list:vitals', single(name, spec.range[0], spec.units[0])).ok, name).toBe(true);
      expect(validateRecord('list:vitals', single(name, spec.range[1], spec.units[0])).ok, name).toBe(true);
    }
  });
});
