/**
 * The CLI import after decision 0037, as a user runs it: the `"conflicts"` key is an addition
 * printed last and only when an import met records edited here (the five keys otherwise,
 * exactly); documents with inline attachments take the app's path into the relay's blob store
 * when the profile has a relay, and stay kept verbatim without one.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok } from '../cli/run-cli.ts';
import { bundle, condition, patient, type Json } from './fhir.ts';

const STATED_KEYS = ['resources', 'records', 'unchanged', 'kept', 'rejected'];
type Line = { resources: number; records: Record<string, number>; unchanged: number; kept: Record<string, number>; rejected: unknown[]; conflicts?: number };

const CANARY = 'CANARY-CLI-DOC-0037';
const doc: Json = { resourceType: 'DocumentReference', id: 'd1', status: 'current', type: { text: 'Discharge summary' }, content: [{ attachment: { contentType: 'text/plain', title: 'summary.txt', data: Buffer.from(`Discharge summary, synthetic: ${CANARY}`).toString('base64') } }] };

/** Every file under `dir`, read as text (the relay's store: envelopes and blobs). */
function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? allText(path) : readFileSync(path).toString('latin1');
  }
  return out;
}

describe('CLI import: conflicts key and documents (decision 0037)', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('fhv-import-0037-');
  let relay: Awaited<ReturnType<typeof testRelay>>;
  beforeAll(async () => {
    relay = await testRelay();
    await ok(dir.path, 'init');
    await ok(dir.path, 'create', 'local');
    await ok(dir.path, 'create', 'synced', '--relay', relay.url);
    await ok(dir.path, 'sync', 'synced');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay?.destroy();
    dir.remove();
  });

  const write = (name: string, value: unknown): string => {
    const path = join(dir.path, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const importLine = async (alias: string, file: string): Promise<Line> => {
    const out = await ok(dir.path, 'import', alias, file);
    expect(out.split('\n')).toHaveLength(1);
    return JSON.parse(out) as Line;
  };

  it('"conflicts" is printed last and only when there are some; otherwise the stated keys exactly', async () => {
    const file = write('portal.json', bundle('collection', [patient(), condition('c1')]));
    const first = await importLine('local', file);
    expect(Object.keys(first)).toEqual(STATED_KEYS);
    // Edit the imported condition on this device, then the portal corrects it.
    const [stored] = JSON.parse(await ok(dir.path, 'get', 'local', 'conditions')) as Json[];
    await ok(dir.path, 'set', 'local', 'conditions', String(stored!.id), JSON.stringify({ ...stored, note: [{ text: 'Diagnosed again in 2024' }] }));
    // The same file name: the source is part of a resource's identity.
    const changed = write('portal.json', bundle('collection', [patient(), condition('c1', { severity: { text: 'Moderate' } })]));
    const second = await importLine('local', changed);
    expect(Object.keys(second)).toEqual([...STATED_KEYS, 'conflicts']);
    expect(second).toMatchObject({ records: {}, conflicts: 1 });
    // The same changed file again: the conflict already waits; nothing new, so no key.
    const third = await importLine('local', changed);
    expect(Object.keys(third)).toEqual(STATED_KEYS);
    expect(third).toMatchObject({ records: {}, unchanged: 2 });
  });

  it('inline attachments: kept verbatim without a relay; into the blob store with one, the profile holding only the key', async () => {
    const file = write('docs.json', bundle('collection', [patient(), doc]));
    expect((await importLine('local', file)).kept).toEqual({ DocumentReference: 1 });

    const line = await importLine('synced', file);
    expect(line.records).toEqual({ demographics: 1, documents: 1 });
    expect(line.kept).toEqual({});
    const [document] = JSON.parse(await ok(dir.path, 'get', 'synced', 'documents')) as { content: { attachment: Json }[] }[];
    const attachment = document!.content[0]!.attachment;
    expect(attachment).toMatchObject({ title: 'summary.txt', contentType: 'text/plain' });
    expect(String(attachment.url)).toMatch(/^fhv-blob:|\/blobs\//);
    expect(typeof attachment.key).toBe('string');
    expect(JSON.stringify(document)).not.toContain(CANARY);
    expect(await ok(dir.path, 'get', 'synced', 'kept')).not.toContain('DocumentReference');
    // The same file again uploads nothing and changes nothing.
    expect(await importLine('synced', file)).toMatchObject({ records: {}, kept: {}, unchanged: 2 });
    await ok(dir.path, 'sync', 'synced');
    // The relay holds ciphertext only: neither the file's text nor its base64 shows in its store.
    const stored = allText(relay.dataDir);
    expect(stored).not.toContain(CANARY);
    expect(stored).not.toContain(String((doc.content as { attachment: { data: string } }[])[0]!.attachment.data).slice(0, 24));
  });
});
