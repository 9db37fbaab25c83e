import { describe, expect, it } from 'vitest';
import { createPrng, withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES, validateRecord, type SchemaIssue, type ValidationResult } from '../../crdt-schemas/health/sections.ts';
import { UCUM } from '../../crdt-schemas/health/common.ts';

const FILE = 'tests/schemas/validation.test.ts';
const CANARY = 'CANARY-7f3a-PHI-do-not-echo';

function rejected(result: ValidationResult): readonly SchemaIssue[] {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.code).toBe('SCHEMA_INVALID');
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) expect(JSON.stringify(issue)).not.toContain('CANARY');
  return result.issues;
}
const paths = (issues: readonly SchemaIssue[]) => issues.map((i) => i.path.join('.'));
const gen = <S extends (typeof SECTION_NAMES)[number]>(s: S, seed = 1) => generateRecord(s, createPrng(seed).next);

describe('validateRecord rejects broken records', () => {
  it('unknown sections', () => {
    const r = validateRecord(`${CANARY}-section`, { id: 'x' });
    expect(r).toEqual({ ok: false, code: 'SCHEMA_UNKNOWN_SECTION', issues: [{ path: [], message: 'not a health-record section' }] });
    expect(validateRecord('profiles', {}).ok).toBe(false); // the vault's own section is not a health record
  });

  it('non-objects', () => {
    for (const v of [null, 3, CANARY, [CANARY], undefined]) expect(paths(rejected(validateRecord('allergies', v)))).toEqual(['']);
  });

  it('missing free text', () => {
    const a = gen('allergies');
    expect(paths(rejected(validateRecord('allergies', { ...a, code: { coding: [{ system: 'http://snomed.info/sct', code: '764146007', display: CANARY }] } })))).toEqual(['code.text']);
    expect(paths(rejected(validateRecord('allergies', { ...a, code: { text: '   ' } })))).toEqual(['code.text']);
    const m = gen('medications');
    expect(paths(rejected(validateRecord('medications', { ...m, dosage: [{ timing: { repeat: { frequency: 2 } } }] })))).toEqual(['dosage.0.text']);
    const p = gen('demographics');
    expect(paths(rejected(validateRecord('demographics', { ...p, name: [] })))).toEqual(['name']);
  });

  it('wrong types and values', () => {
    const c = gen('conditions');
    const issues = rejected(validateRecord('conditions', { ...c, resourceType: CANARY, code: { text: 42 }, onsetDateTime: `${CANARY}-2020`, clinicalStatus: { coding: [{ system: CANARY, code: CANARY }] } }));
    expect(paths(issues).sort()).toEqual(['clinicalStatus.coding.0.code', 'clinicalStatus.coding.0.system', 'code.text', 'onsetDateTime', 'resourceType']);
    expect(issues.find((i) => i.path.join('.') === 'code.text')!.message).toBe('expected string');
    const d = gen('list:doses');
    expect(paths(rejected(validateRecord('list:doses', { ...d, status: 'maybe', by: CANARY, at: '2024-01-01' }))).sort()).toEqual(['at', 'by', 'status']);
    expect(paths(rejected(validateRecord('allergies', { ...gen('allergies'), id: `${CANARY} with spaces` })))).toEqual(['id']);
  });

  it('severity outside 0-10', () => {
    const j = gen('list:journal');
    expect(validateRecord('list:journal', { ...j, severity: 10 }).ok).toBe(true);
    expect(validateRecord('list:journal', { ...j, severity: 0 }).ok).toBe(true);
    for (const severity of [11, -1, 2.5, '5']) expect(paths(rejected(validateRecord('list:journal', { ...j, severity })))).toEqual(['severity']);
    expect(rejected(validateRecord('list:journal', { ...j, severity: 11 }))[0]!.message).toBe('too big: must be <= 10');
  });

  it('a vital whose unit does not fit its LOINC code', () => {
    const temp = { id: 't1', schemaVersion: 1, resourceType: 'Observation', status: 'final', effectiveDateTime: '2024-05-01T08:00:00Z', code: { text: 'Temperature', coding: [{ system: 'http://loinc.org', code: '8310-5' }] } };
    expect(validateRecord('list:vitals', { ...temp, valueQuantity: { value: 37.2, unit: 'Cel', system: UCUM, code: 'Cel' } }).ok).toBe(true);
    expect(paths(rejected(validateRecord('list:vitals', { ...temp, valueQuantity: { value: 37.2, unit: CANARY, system: UCUM, code: 'mm[Hg]' } })))).toEqual(['valueQuantity.code']);
    expect(paths(rejected(validateRecord('list:vitals', { ...temp, valueQuantity: { value: 37.2, code: 'Cel' } })))).toEqual(['valueQuantity.code']); // not UCUM
    expect(paths(rejected(validateRecord('list:vitals', temp)))).toEqual(['valueQuantity']);
    expect(paths(rejected(validateRecord('list:vitals', { ...temp, code: { text: CANARY, coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 6, system: UCUM, code: '%' } })))).toEqual(['code.coding']);
    expect(paths(rejected(validateRecord('list:vitals', { ...temp, code: { text: 'no code' }, valueQuantity: { value: 6, system: UCUM, code: '%' } })))).toEqual(['code.coding']);
  });

  it('a blood pressure reading needs both components in mm[Hg]', () => {
    const prng = createPrng(3);
    let bp = generateRecord('list:vitals', prng.next);
    while (bp.component === undefined) bp = generateRecord('list:vitals', prng.next);
    expect(validateRecord('list:vitals', bp).ok).toBe(true);
    expect(paths(rejected(validateRecord('list:vitals', { ...bp, component: [bp.component[0]] })))).toEqual(['component']);
    const wrongUnit = [bp.component[0], { ...bp.component[1], valueQuantity: { value: 80, system: UCUM, code: 'kg' } }];
    expect(paths(rejected(validateRecord('list:vitals', { ...bp, component: wrongUnit })))).toEqual(['component.1.valueQuantity.code']);
  });

  it('lab results need a value; documents refuse inline bytes', () => {
    const lab = gen('lab-results');
    const { valueQuantity: _q, valueString: _s, valueCodeableConcept: _c, ...noValue } = lab;
    expect(paths(rejected(validateRecord('lab-results', noValue)))).toEqual(['valueQuantity']);
    const doc = gen('documents');
    const withData = { ...doc, content: [{ attachment: { ...doc.content[0]!.attachment, data: Buffer.from(CANARY).toString('base64') } }] };
    expect(paths(rejected(validateRecord('documents', withData)))).toEqual(['content.0.attachment.data']);
    expect(paths(rejected(validateRecord('documents', { ...doc, content: [{ attachment: { ...doc.content[0]!.attachment, size: -1, hash: CANARY } }] }))).sort()).toEqual(['content.0.attachment.hash', 'content.0.attachment.size']);
  });

  const fuzzName = 'random corruptions of every section are rejected without echoing the input';
  it(fuzzName, () =>
    withSeed(FILE, fuzzName, async (prng) => {
      let corrupted = 0;
      for (const section of SECTION_NAMES) {
        for (let i = 0; i < 40; i++) {
          const record = structuredClone(generateRecord(section, prng.next)) as Record<string, unknown>;
          // Walk to a random leaf the schema knows and put something of the wrong kind there.
          let parent: Record<string, unknown> | unknown[] = record;
          let key: string | number = prng.pick(Object.keys(record));
          while (typeof (parent as Record<string | number, unknown>)[key] === 'object' && prng.bool(0.7)) {
            const child = (parent as Record<string | number, unknown>)[key] as Record<string, unknown> | unknown[];
            const keys = Array.isArray(child) ? child.map((_, j) => j) : Object.keys(child);
            if (keys.length === 0) break;
            parent = child;
            key = prng.pick(keys as (string | number)[]);
          }
          const old = (parent as Record<string | number, unknown>)[key];
          (parent as Record<string | number, unknown>)[key] =
            typeof old === 'string' ? prng.pick([12345, { text: CANARY }, [CANARY]]) : typeof old === 'number' ? `${CANARY}` : prng.pick([CANARY, 7]);
          const result = validateRecord(section, record);
          expect(result.ok, `${section}: ${String(key)} accepted a wrong type`).toBe(false);
          rejected(result);
          corrupted++;
        }
      }
      expect(corrupted).toBe(SECTION_NAMES.length * 40);
    }),
  );
});

describe('validateRecord keeps what it does not know', () => {
  it('unknown fields at every level survive, and the input is not modified', () => {
    for (const section of SECTION_NAMES) {
      const record = gen(section, 11) as Record<string, unknown>;
      const withExtras = { ...record, futureField: { nested: [1, 2] }, extension: [{ url: 'http://example.org/x', valueString: 'y' }] };
      const before = structuredClone(withExtras);
      const result = validateRecord(section, withExtras);
      expect(result.ok).toBe(true);
      if (!result.ok) continue;
      expect(result.value).toEqual(withExtras);
      expect(withExtras).toEqual(before);
    }
    const a = gen('allergies');
    const nested = { ...a, code: { ...a.code, fromV2: 'kept' }, reaction: [{ manifestation: [{ text: 'Hives', certainty: 'likely' }], extra: true }] };
    const r = validateRecord('allergies', nested);
    expect(r.ok && r.value.code).toEqual({ ...a.code, fromV2: 'kept' });
    expect(r.ok && r.value.reaction).toEqual([{ manifestation: [{ text: 'Hives', certainty: 'likely' }], extra: true }]);
  });
});
