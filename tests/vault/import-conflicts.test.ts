/**
 * resolveImportConflict (decision 0034's design, built in 0037): keep mine / take imported, each
 * one history line and one undo step; afterwards the same file is unchanged and a later change
 * is compared the usual way. Refusals are typed and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { importConflicts, resolveImportConflict } from '../../src/lib/vault/fhir-import-conflicts.ts';
import { importFhir } from '../../src/lib/vault/fhir-import.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { RecordError } from '../../src/lib/vault/records.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { bundle, condition, type Json } from '../interop/fhir.ts';

const cleanups = cleanupList();
let clock = Date.parse('2026-12-01T10:00:00Z');
const now = () => (clock += 1000);

const v1 = () => bundle('collection', [condition('c1', { subject: undefined })]);
const v2 = () => bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2020-01-01' })]);
const v3 = () => bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2021-06-01' })]);
const run = (p: Profile, b: Json) => importFhir(p, JSON.stringify(b), { fileName: 'portal.json', now });

/** A profile whose imported condition was edited here, then met a changed file: one conflict. */
async function withConflict(): Promise<{ p: Profile; id: string }> {
  const p = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), now });
  cleanups.push(() => p.close());
  await run(p, v1());
  const [rec] = p.records.list('conditions');
  p.records.put('conditions', { ...rec!, note: [{ text: 'my own note' }] });
  expect((await run(p, v2())).conflicts).toBe(1);
  p.undo.stopCapturing();
  return { p, id: rec!.id };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof VaultError || e instanceof RecordError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('resolving an import conflict', () => {
  it('lists the conflict with both versions', async () => {
    const { p, id } = await withConflict();
    const [c] = importConflicts(p, ['conditions', 'allergies']);
    expect(c).toMatchObject({ section: 'conditions', id, mine: { note: [{ text: 'my own note' }] }, imported: { onsetDateTime: '2020-01-01' } });
    expect(c!.mine.onsetDateTime).toBeUndefined();
    expect(c!.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keep mine: the edit stays, the conflict goes; the same file again is unchanged, a newer one conflicts again', async () => {
    const { p, id } = await withConflict();
    const [c] = importConflicts(p, ['conditions']);
    const lines = p.records.history('conditions', id).length;
    resolveImportConflict(p, 'conditions', id, 'mine', c!.digest);
    const rec = p.records.get('conditions', id)!;
    expect(rec.note).toEqual([{ text: 'my own note' }]);
    expect(rec.onsetDateTime).toBeUndefined();
    expect(rec.imported!.conflict).toBeUndefined();
    expect(importConflicts(p, ['conditions'])).toEqual([]);
    expect(p.records.history('conditions', id)).toHaveLength(lines + 1);
    expect(await run(p, v2())).toMatchObject({ records: {}, unchanged: 1, conflicts: 0 });
    // Still an edited record: a newer file waits beside it again rather than overwriting the edit.
    expect(await run(p, v3())).toMatchObject({ records: {}, conflicts: 1 });
  });

  it('take imported: the waiting version becomes the record; the same file again is unchanged, a newer one is a plain new version', async () => {
    const { p, id } = await withConflict();
    resolveImportConflict(p, 'conditions', id, 'imported');
    const rec = p.records.get('conditions', id)!;
    expect(rec.onsetDateTime).toBe('2020-01-01');
    expect(rec.note).toBeUndefined();
    expect(rec.imported!.conflict).toBeUndefined();
    expect(await run(p, v2())).toMatchObject({ records: {}, unchanged: 1, conflicts: 0 });
    expect(await run(p, v3())).toMatchObject({ records: { conditions: 1 }, conflicts: 0 });
    expect(p.records.get('conditions', id)!.onsetDateTime).toBe('2021-06-01');
  });

  it('one undo step brings the conflict back', async () => {
    const { p, id } = await withConflict();
    resolveImportConflict(p, 'conditions', id, 'imported');
    expect(p.undo.undo()).toBe(true);
    const rec = p.records.get('conditions', id)!;
    expect(rec.note).toEqual([{ text: 'my own note' }]);
    expect(rec.imported!.conflict).toBeDefined();
  });

  it('refusals are typed and change nothing: no conflict, a version the person did not see, no record', async () => {
    const { p, id } = await withConflict();
    const [c] = importConflicts(p, ['conditions']);
    const before = JSON.stringify(p.toJSON());
    expect(codeOf(() => resolveImportConflict(p, 'conditions', id, 'imported', 'f'.repeat(64)))).toBe('IMPORT_CONFLICT_CHANGED');
    expect(codeOf(() => resolveImportConflict(p, 'conditions', 'nope', 'mine'))).toBe('RECORD_NOT_FOUND');
    expect(JSON.stringify(p.toJSON())).toBe(before);
    resolveImportConflict(p, 'conditions', id, 'mine', c!.digest);
    expect(codeOf(() => resolveImportConflict(p, 'conditions', id, 'mine', c!.digest))).toBe('IMPORT_NO_CONFLICT');
    // A later import replaced the waiting version: the choice shown before is refused.
    const q = await withConflict();
    const [old] = importConflicts(q.p, ['conditions']);
    await run(q.p, v3());
    expect(codeOf(() => resolveImportConflict(q.p, 'conditions', q.id, 'imported', old!.digest))).toBe('IMPORT_CONFLICT_CHANGED');
  });
});
