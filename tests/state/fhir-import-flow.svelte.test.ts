/**
 * The app's FHIR import flow (src/lib/state/fhir-import.svelte.ts) over a real profile: each
 * transition of the state machine, the plan that writes nothing, the progress the facade reports
 * after each sealed chunk, the report, the patient-mismatch confirm step, refusals that never
 * repeat the file, and the read models of the import screens (kept list, origin marks, file names).
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { FhirImportFlow, type ImportPhase } from '../../src/lib/state/fhir-import.svelte.ts';
import { importOrigin, REJECT_MESSAGES, totalOf } from '../../src/lib/state/fhir-import.ts';
import { keptViews } from '../../src/lib/state/fhir-import-kept.ts';
import { csvFileName, documentFileName } from '../../src/lib/state/exports.ts';
import { CSV_LOG_CHOICES, mayDownloadWholeRecord } from '../../src/lib/state/export-access.ts';
import { CSV_LOGS } from '../../src/lib/vault/export.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { createPrng } from '../helpers/prng.ts';
import { bundle, condition, patient, type Json } from '../interop/fhir.ts';
import { syntheaBundle } from '../interop/synthea.ts';

const cleanups = cleanupList();
let clock = Date.parse('2026-12-01T10:00:00Z');
const now = () => (clock += 1000);
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

async function setup(o: { chunkChars?: number } = {}) {
  const profile = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), now });
  cleanups.push(() => profile.close());
  // No relay in these tests, so DocumentReferences stay kept (with a relay they become documents).
  const flow = new FhirImportFlow(profile, { now, ...o });
  return { profile, flow };
}

const step = (flow: FhirImportFlow) => flow.phase.step;
function expectPhase<S extends ImportPhase['step']>(flow: FhirImportFlow, s: S): Extract<ImportPhase, { step: S }> {
  expect(flow.phase.step).toBe(s);
  return flow.phase as Extract<ImportPhase, { step: S }>;
}

describe('FhirImportFlow', () => {
  it('plans without writing, imports with progress after each chunk, and reports what it did', async () => {
    const { profile, flow } = await setup({ chunkChars: 8000 });
    const b = syntheaBundle(createPrng(21).next, { encounters: 5 });
    const before = JSON.stringify(profile.toJSON());
    expect(flow.allowed).toBe(true);
    flow.choose({ name: 'portal-export.json', bytes: bytes(b) });
    const { plan } = expectPhase(flow, 'plan');
    expect(plan.resources).toBe((b.entry as unknown[]).length);
    expect(plan.sections.find((s) => s.key === 'visits')).toMatchObject({ label: expect.any(String), count: 5 });
    expect(plan.kept.find((k) => k.key === 'ExplanationOfBenefit')?.count).toBe(5);
    expect(plan.rejected).toEqual([]);
    expect(JSON.stringify(profile.toJSON())).toBe(before);

    // Every phase the flow passes through, as the screen would see it.
    const phases: ImportPhase[] = [];
    const own = Object.getOwnPropertyDescriptor(FhirImportFlow.prototype, 'phase')!;
    Object.defineProperty(flow, 'phase', { get: () => own.get!.call(flow), set: (v: ImportPhase) => (phases.push(v), own.set!.call(flow, v)) });
    const running = flow.start();
    expect(step(flow)).toBe('importing');
    await running;

    const { report } = expectPhase(flow, 'done');
    const total = totalOf(plan.sections) + totalOf(plan.kept);
    expect(totalOf(report.sections) + totalOf(report.kept)).toBe(total);
    expect(report.sections).toEqual(plan.sections);
    expect(report.unchanged).toBe(0);
    expect(report.conflicts).toBe(0);
    expect(report.source).toBe('portal-export.json');
    expect(profile.records.list('visits')).toHaveLength(5);
    // Progress is the facade's: one step per sealed chunk (several, as the chunks are small),
    // rising to the total, then the report.
    const progress = phases.filter((ph): ph is Extract<ImportPhase, { step: 'importing' }> => ph.step === 'importing' && ph.total > 0);
    expect(progress.length).toBeGreaterThan(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.written).toBeGreaterThan(progress[i - 1]!.written);
    expect(progress.at(-1)).toEqual({ step: 'importing', written: total, total });
    expect(phases.at(-1)!.step).toBe('done');
  });

  it('the same file again is all unchanged; reset returns to idle', async () => {
    const { flow } = await setup();
    const b = bytes(bundle('collection', [patient(), condition('c1'), condition('c2', { code: { text: 'Asthma' } })]));
    flow.choose({ name: 'a.json', bytes: b });
    await flow.start();
    expect(expectPhase(flow, 'done').report.sections.map((s) => [s.key, s.count])).toEqual([
      ['conditions', 2],
      ['demographics', 1],
    ]);
    flow.reset();
    expect(step(flow)).toBe('idle');
    flow.choose({ name: 'a.json', bytes: b });
    await flow.start();
    const { report } = expectPhase(flow, 'done');
    expect(report.sections).toEqual([]);
    expect(report.unchanged).toBe(3);
  });

  it("a file whose patient differs asks first; confirming plans and imports it", async () => {
    const { profile, flow } = await setup();
    profile.records.put('demographics', { id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'Sam Example', family: 'Example' }], birthDate: '1980-04-12' });
    const b = bytes(bundle('collection', [patient({ birthDate: '1999-01-01', name: [{ family: 'Canarysson' }] }), condition('c1')]));
    flow.choose({ name: 'other.json', bytes: b });
    const mismatch = expectPhase(flow, 'mismatch');
    expect(JSON.stringify(mismatch)).not.toMatch(/Canarysson|1999/);
    // start() does nothing until confirmed.
    await flow.start();
    expect(step(flow)).toBe('mismatch');
    expect(profile.records.list('conditions')).toEqual([]);
    flow.confirmMismatch();
    expect(expectPhase(flow, 'plan').forced).toBe(true);
    await flow.start();
    expect(expectPhase(flow, 'done').report.sections.find((s) => s.key === 'conditions')?.count).toBe(1);
    // The typed-in person's details win.
    expect(profile.records.get('demographics', 'patient')!.birthDate).toBe('1980-04-12');
  });

  it('a refused file fails with a coded message that repeats nothing of it, and changes nothing', async () => {
    const { profile, flow } = await setup();
    const before = JSON.stringify(profile.toJSON());
    flow.choose({ name: 'x.json', bytes: new TextEncoder().encode('{"CANARY-7731": ') });
    const failed = expectPhase(flow, 'failed');
    expect(failed.code).toBe('IMPORT_NOT_JSON');
    expect(failed.message).not.toContain('CANARY');
    flow.choose({ name: 'y.json', bytes: bytes({ resourceType: 'Bundle', type: 'history', entry: [] }) });
    expect(expectPhase(flow, 'failed').code).toBe('IMPORT_UNSUPPORTED_BUNDLE');
    flow.choose({ name: 'z.json', bytes: bytes({ hello: 'CANARY-7731' }) });
    expect(expectPhase(flow, 'failed').code).toBe('IMPORT_NOT_FHIR');
    expect(JSON.stringify(profile.toJSON())).toBe(before);
  });

  it('rejected entries are listed by position, type and code with a plain message; the rest imports', async () => {
    const { flow } = await setup();
    const b = bundle('collection', [patient(), condition('c1', { subject: { reference: 'urn:uuid:00000000-0000-4000-a000-000000000000' } }), condition('c2')]);
    flow.choose({ name: 'r.json', bytes: bytes(b) });
    const { plan } = expectPhase(flow, 'plan');
    expect(plan.rejected).toEqual([{ entry: 2, resourceType: 'Condition', code: 'IMPORT_BROKEN_REFERENCE', message: REJECT_MESSAGES.IMPORT_BROKEN_REFERENCE }]);
    await flow.start();
    const { report } = expectPhase(flow, 'done');
    expect(report.rejected).toHaveLength(1);
    expect(report.sections.find((s) => s.key === 'conditions')?.count).toBe(1);
  });

  it('a device that may not write is not offered the import, and the facade refuses it anyway', async () => {
    const { profile, flow } = await setup();
    Object.defineProperty(profile, 'canWrite', { get: () => false });
    expect(flow.allowed).toBe(false);
    flow.choose({ name: 'a.json', bytes: bytes(bundle('collection', [condition('c1', { subject: undefined })])) });
    await flow.start();
    expect(expectPhase(flow, 'failed').code).toBe('RECORD_READ_ONLY');
    expect(profile.records.list('conditions')).toEqual([]);
  });

  it('a record edited since its import shows its source and a conflict after a changed re-import', async () => {
    const { profile, flow } = await setup();
    flow.choose({ name: 'c.json', bytes: bytes(bundle('collection', [condition('c1', { subject: undefined })])) });
    await flow.start();
    const [rec] = profile.records.list('conditions');
    expect(importOrigin(rec as Json)).toEqual({ source: 'c.json', conflict: false });
    profile.records.put('conditions', { ...rec!, note: [{ text: 'mine' }] });
    flow.reset();
    flow.choose({ name: 'c.json', bytes: bytes(bundle('collection', [condition('c1', { subject: undefined, onsetDateTime: '2020-01-01' })])) });
    await flow.start();
    expect(expectPhase(flow, 'done').report.conflicts).toBe(1);
    const origin = importOrigin(profile.records.list('conditions')[0] as Json);
    expect(origin).toMatchObject({ source: 'c.json', conflict: true, incoming: { onsetDateTime: '2020-01-01' } });
    expect(importOrigin({ id: 'typed', schemaVersion: 1 })).toBeUndefined();
  });
});

describe('import screens read models', () => {
  it('kept resources read as type, date and a summary, newest first', async () => {
    const { profile, flow } = await setup();
    flow.choose({ name: 'k.json', bytes: bytes(syntheaBundle(createPrng(5).next, { encounters: 2 })) });
    await flow.start();
    const views = keptViews(profile.records.list('kept') as never);
    expect(views.length).toBeGreaterThan(0);
    expect(views.map((v) => v.date ?? '')).toEqual([...views.map((v) => v.date ?? '')].sort().reverse());
    const claim = views.find((v) => v.resourceType === 'Claim');
    expect(claim?.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const v of views) expect(v.summary.length).toBeGreaterThan(0);
    expect(keptViews([{ id: 'g', resource: { resourceType: 'Goal', description: { text: 'Walk daily' }, lifecycleStatus: 'active' } }])[0]).toEqual({
      id: 'g',
      resourceType: 'Goal',
      summary: 'Walk daily · active',
    });
  });

  it('download names say what and when, never whose; guests get none', () => {
    const day = new Date(2026, 11, 2, 9, 30);
    expect(documentFileName('ips', day)).toBe('ips-2026-12-02.json');
    expect(documentFileName('fhir', day)).toBe('fhir-2026-12-02.json');
    expect(csvFileName('vitals', day)).toBe('vitals-2026-12-02.csv');
    expect(mayDownloadWholeRecord({ guest: true })).toBe(false);
    expect(mayDownloadWholeRecord({ guest: false })).toBe(true);
    // The overview's list of logs is the export's own.
    expect([...CSV_LOG_CHOICES]).toEqual([...CSV_LOGS]);
  });
});
