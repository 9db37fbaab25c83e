import { describe, expect, it } from 'vitest';
import { SECTIONS, SECTION_NAMES, validateRecord } from '../../crdt-schemas/health/sections.ts';
import { symptomJournal } from '../../crdt-schemas/health/journal.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { createPrng } from '../helpers/prng.ts';

const v0 = { id: 'j1', symptom: 'Headache', intensity: 6, time: '2024-03-02T07:30:00+01:00', notes: 'after screen time', triggers: ['screens'], keptFromV0: 'yes' };

describe('schema versions and migrations', () => {
  it('every kind is at version 1 and migrating from the current version changes nothing', () => {
    for (const s of SECTION_NAMES) {
      const kind = SECTIONS[s];
      expect(kind.schemaVersion).toBe(1);
      const record = generateRecord(s, createPrng(5).next) as Record<string, unknown>;
      expect(kind.migrate(1, record)).toBe(record);
    }
  });

  it('journal v0 → v1 renames intensity/time and lifts the symptom to a concept', () => {
    expect(symptomJournal.migrate(0, v0)).toEqual({
      id: 'j1',
      schemaVersion: 1,
      symptom: { text: 'Headache' },
      severity: 6,
      at: '2024-03-02T07:30:00+01:00',
      notes: 'after screen time',
      triggers: ['screens'],
      keptFromV0: 'yes',
    });
    expect(v0).not.toHaveProperty('severity'); // the input is not modified
  });

  it('validateRecord migrates a record without schemaVersion (v0) before checking it', () => {
    const r = validateRecord('list:journal', v0);
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toMatchObject({ schemaVersion: 1, severity: 6, symptom: { text: 'Headache' }, keptFromV0: 'yes' });
    expect(r.ok && 'intensity' in r.value).toBe(false);
    const bad = validateRecord('list:journal', { ...v0, intensity: 11 });
    expect(bad).toEqual({ ok: false, code: 'SCHEMA_INVALID', issues: [{ path: ['severity'], message: 'too big: must be <= 10' }] });
  });

  it('kinds with no path from an old version refuse it', () => {
    const a = generateRecord('allergies', createPrng(2).next);
    const { schemaVersion: _v, ...unversioned } = a;
    expect(validateRecord('allergies', unversioned)).toEqual({ ok: false, code: 'SCHEMA_INVALID', issues: [{ path: ['schemaVersion'], message: 'no migration from version 0 to 1' }] });
    for (const schemaVersion of [-1, 1.5, '1']) {
      const r = validateRecord('allergies', { ...a, schemaVersion });
      expect(r.ok || r.issues.map((i) => i.path.join('.'))).toEqual(['schemaVersion']);
    }
  });

  it('a record from a newer version is kept as it is, new fields included', () => {
    const a = generateRecord('allergies', createPrng(4).next);
    const newer = { ...a, schemaVersion: 3, addedInV3: { x: 1 } };
    const r = validateRecord('allergies', newer);
    expect(r).toEqual({ ok: true, value: newer });
    expect(validateRecord('allergies', { ...newer, code: {} }).ok).toBe(false); // still checked against what v1 knows
  });
});
