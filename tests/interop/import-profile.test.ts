/**
 * Importing into a real profile (src/lib/vault/fhir-import.ts): idempotence, new versions with
 * history, conflicts with edits made on the device, the patient check, one history line, one
 * undo step, chunks sealed as separate records, and refusals that change nothing.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP } from '../../src/lib/protocol/index.ts';
import { importFhir, type ImportReport } from '../../src/lib/vault/fhir-import.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { testRelay } from '../helpers/relay.ts';
import { downloadBlob } from '../../src/lib/vault/blobs.ts';
import { createPrng } from '../helpers/prng.ts';
import { bundle, condition, patient, type Json } from './fhir.ts';
import { syntheaBundle } from './synthea.ts';

const cleanups = cleanupList();
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
let clock = Date.parse('2026-12-01T10:00:00Z');
const now = () => (clock += 1000);

async function fresh(): Promise<Profile> {
  const p = await Profile.create({ ...device(), now });
  cleanups.push(() => p.close());
  return p;
}
const json = (v: unknown) => JSON.stringify(v);
const run = (p: Profile, v: unknown, o: { force?: boolean; fileName?: string; chunkChars?: number } = {}): Promise<ImportReport> => importFhir(p, json(v), { fileName: o.fileName ?? 'export.json', now, ...o });
const snapshot = (p: Profile) => JSON.stringify(p.toJSON());
async function refusedWith(p: Profile, input: string | Uint8Array, force = false): Promise<string> {
  try {
    await importFhir(p, input, { fileName: 'bad.json', force, now });
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(VaultError);
    return (e as VaultError).code;
  }
}

describe('import into a profile', () => {
  it('counts per section and kept type; importing the same file again changes nothing', async () => {
    const p = await fresh();
    const b = syntheaBundle(createPrng(11).next, { encounters: 6 });
    const first = await run(p, b);
    const total = (b.entry as unknown[]).length;
    expect(first.resources).toBe(total);
    expect(first.rejected).toEqual([]);
    expect(first.records.visits).toBe(6);
    // Per encounter: height, weight, heart rate and the blood pressure panel (BMI and respiratory rate are kept).
    expect(first.records['list:vitals']).toBe(6 * 4);
    expect(first.kept.Observation).toBe(6 * 3); // BMI, respiratory rate, smoking status
    expect(first.kept.ExplanationOfBenefit).toBe(6);
    expect(p.records.list('visits')).toHaveLength(6);
    expect(p.records.list('kept').length).toBe(Object.values(first.kept).reduce((a, n) => a + n, 0));
    const before = snapshot(p);
    const again = await run(p, b);
    expect(again.records).toEqual({});
    expect(again.kept).toEqual({});
    const written = Object.values(first.records).reduce((a, n) => a + n, 0) + Object.values(first.kept).reduce((a, n) => a + n, 0);
    expect(again.unchanged).toBe(written);
    expect(snapshot(p)).toBe(before);
  });

  it('one history line and one undo step for the whole import', async () => {
    const p = await fresh();
    p.records.put('conditions', { ...condition('mine'), id: 'mine', schemaVersion: 1, subject: undefined });
    p.undo.stopCapturing();
    const r = await run(p, syntheaBundle(createPrng(12).next, { encounters: 3 }), { chunkChars: 4000 });
    const n = Object.values(r.records).reduce((a, x) => a + x, 0) + Object.values(r.kept).reduce((a, x) => a + x, 0);
    const lines = p.records.recent(1000).filter((h) => h.action === 'import');
    expect(lines).toEqual([expect.objectContaining({ section: 'import', id: 'export.json', count: n })]);
    expect(p.records.recent(1000).filter((h) => h.action === 'add')).toHaveLength(1); // only mine
    expect(p.undo.undo()).toBe(true);
    expect(p.records.list('visits')).toEqual([]);
    expect(p.records.list('kept')).toEqual([]);
    expect(p.records.list('conditions').map((c) => c.id)).toEqual(['mine']);
  });

  it('a large import is sealed in several records, each under the chunk budget', async () => {
    const p = await fresh();
    await p.flush();
    const records = engineOf(p).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP);
    const before = new Set(records.keys());
    await run(p, syntheaBundle(createPrng(13).next, { encounters: 4 }), { chunkChars: 20_000 });
    await p.flush();
    const added = [...records.entries()].filter(([k]) => !before.has(k)).map(([, v]) => v.length);
    expect(added.length).toBeGreaterThan(2);
    for (const size of added) expect(size).toBeLessThan(20_000 * 3);
  });

  it('changed content becomes a new version of the record; history shows the edit', async () => {
    const p = await fresh();
    await run(p, bundle('collection', [condition('c1', { subject: undefined })]));
    const [rec] = p.records.list('conditions');
    const r = await run(p, bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2020-01-01' })]));
    expect(r.records).toEqual({ conditions: 1 });
    expect(p.records.list('conditions')).toHaveLength(1);
    expect(p.records.get('conditions', rec!.id)?.onsetDateTime).toBe('2020-01-01');
    expect(p.records.history('conditions', rec!.id).map((h) => h.action)).toEqual(['edit']);
  });

  it('a record edited on the device since its import keeps the edit; the changed import waits beside it as a conflict', async () => {
    const p = await fresh();
    await run(p, bundle('collection', [condition('c1', { subject: undefined })]));
    const [rec] = p.records.list('conditions');
    p.records.put('conditions', { ...rec, note: [{ text: 'my own note' }] });
    const same = await run(p, bundle('collection', [condition('c1', { subject: undefined })]));
    expect(same.unchanged).toBe(1);
    const changed = await run(p, bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2020-01-01' })]));
    expect(changed.conflicts).toBe(1);
    expect(changed.records).toEqual({});
    const now1 = p.records.get('conditions', rec!.id)!;
    expect(now1.note).toEqual([{ text: 'my own note' }]);
    expect(now1.onsetDateTime).toBeUndefined();
    expect((now1.imported!.conflict!.record as Json).onsetDateTime).toBe('2020-01-01');
    const again = await run(p, bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2020-01-01' })]));
    expect(again).toMatchObject({ conflicts: 0, unchanged: 1 });
  });

  it("the file's Patient must be the profile's person unless forced; a typed-in person gains what the file adds", async () => {
    const p = await fresh();
    p.records.put('demographics', { id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'Sam Example', family: 'Example' }], birthDate: '1980-04-12' });
    const before = snapshot(p);
    expect(await refusedWith(p, json(bundle('collection', [patient({ birthDate: '1999-01-01' }), condition('c1')])))).toBe('IMPORT_PATIENT_MISMATCH');
    expect(await refusedWith(p, json(bundle('collection', [patient({ name: [{ family: 'Other' }] }), condition('c1')])))).toBe('IMPORT_PATIENT_MISMATCH');
    expect(snapshot(p)).toBe(before);
    const ok = await run(p, bundle('collection', [patient({ gender: 'female' }), condition('c1')]));
    expect(ok.records).toEqual({ demographics: 1, conditions: 1 });
    const me = p.records.get('demographics', 'patient')!;
    expect(me.name).toEqual([{ text: 'Sam Example', family: 'Example' }]);
    expect(me.gender).toBe('female');
    const forced = await run(p, bundle('collection', [patient({ birthDate: '1999-01-01', id: 'other' }), condition('c9', { subject: { reference: 'Patient/other' } })]), { force: true });
    expect(forced.records).toEqual({ conditions: 1 });
    expect(p.records.get('demographics', 'patient')!.birthDate).toBe('1980-04-12');
  });

  it('every bad input is a typed refusal and the profile is unchanged; nothing of the content is echoed', async () => {
    const p = await fresh();
    await run(p, bundle('collection', [condition('c1', { subject: undefined })]));
    const before = snapshot(p);
    const CANARY = 'CANARY-PHI-7f3a';
    const cases: [string | Uint8Array, string][] = [
      [`{"resourceType":"${CANARY}`, 'IMPORT_NOT_JSON'],
      [new Uint8Array([0xff, 0xfe, 0x00]), 'IMPORT_NOT_JSON'],
      [json({ hello: CANARY }), 'IMPORT_NOT_FHIR'],
      [json({ resourceType: 'MedicationOrder', id: 'x', note: CANARY }), 'IMPORT_FHIR_VERSION'],
      [json({ resourceType: 'Bundle', type: 'message', entry: [] }), 'IMPORT_UNSUPPORTED_BUNDLE'],
      [json(bundle('collection', [patient(), patient({ id: 'p2', name: [{ family: CANARY }] })])), 'IMPORT_MULTIPLE_PATIENTS'],
      [new Uint8Array(32 * 1024 * 1024 + 1), 'IMPORT_TOO_LARGE'],
    ];
    for (const [input, code] of cases) {
      try {
        await importFhir(p, input, { fileName: 'bad.json', now });
        expect.unreachable(code);
      } catch (e) {
        expect((e as VaultError).code, code).toBe(code);
        expect((e as Error).message).not.toContain(CANARY);
      }
    }
    expect(snapshot(p)).toBe(before);
  });

  it('a resource failing its section schema is rejected by index, the rest imported', async () => {
    const p = await fresh();
    const r = await run(p, bundle('collection', [condition('c1', { subject: undefined }), condition('c2', { subject: undefined, clinicalStatus: { coding: [{ system: 'x', code: 'y' }] } })]));
    expect(r.rejected).toEqual([{ index: 1, resourceType: 'Condition', code: 'IMPORT_RESOURCE_INVALID' }]);
    expect(r.records).toEqual({ conditions: 1 });
  });

  it('DocumentReferences with inline attachments: documents with their files in the blob store (app), kept verbatim without one (CLI)', async () => {
    const text = 'Discharge summary, synthetic: CANARY-DOC-55';
    const doc = { resourceType: 'DocumentReference', id: 'd1', status: 'current', type: { text: 'Discharge summary' }, date: '2024-05-01T10:00:00Z', content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text).toString('base64'), title: 'summary.txt' } }] };
    const local = await fresh();
    expect((await run(local, doc)).kept).toEqual({ DocumentReference: 1 });
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    // Real time: the relay checks the token's time.
    const p = await Profile.create({ ...device(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => p.close());
    await p.flush();
    const r = await importFhir(p, json(doc), { fileName: 'portal.json', now });
    expect(r.records).toEqual({ documents: 1 });
    const [stored] = p.records.list('documents');
    const attachment = stored!.content[0]!.attachment as Json;
    expect(attachment).toMatchObject({ title: 'summary.txt', contentType: 'text/plain', size: text.length });
    expect(JSON.stringify(stored)).not.toContain('CANARY-DOC-55');
    expect(new TextDecoder().decode(await downloadBlob(p, attachment as never))).toBe(text);
    const again = await importFhir(p, json(doc), { fileName: 'portal.json', now });
    expect(again).toMatchObject({ records: {}, unchanged: 1 });
  });
});
