/**
 * `vault erase` (decision 0035) through the real relay, as a user runs it: an editor is refused
 * (typed), a wrong confirmation erases nothing, the owner's erase drops the profile on the relay
 * and on the owner's device; the editor's next `sync` verifies the order and drops its copy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, memberCode, ok, vault } from './run-cli.ts';

describe('vault erase', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const owner = tempDir('fhv-erase-owner-');
  const editor = tempDir('fhv-erase-editor-');
  let name = '';
  beforeAll(async () => {
    relay = await testRelay();
    await ok(owner.path, 'init');
    await ok(editor.path, 'init');
    name = (await ok(owner.path, 'create', 'mum', '--relay', relay.url, '--member', `${await memberCode(editor.path)}:editor`)).split('\n').at(-1)!;
    await ok(owner.path, 'set', 'mum', 'allergies', 'peanut', '{"resourceType":"AllergyIntolerance","code":{"text":"CANARY-cli-erase"}}');
    await ok(owner.path, 'sync', 'mum');
    await ok(editor.path, 'join', 'mum', name, '--relay', relay.url);
    await ok(editor.path, 'sync', 'mum');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    owner.remove();
    editor.remove();
  });

  it('refuses a non-owner and a wrong confirmation; the owner erases; the editor drops its copy on sync', async () => {
    const byEditor = await vault(editor.path, ['erase', 'mum', '--confirm', 'mum']);
    expect(byEditor.error).toMatchObject({ code: 'ERASE_NOT_OWNER', number: 277 });
    const mistyped = await vault(owner.path, ['erase', 'mum', '--confirm', 'mun']);
    expect(mistyped.error).toMatchObject({ code: 'ERASE_CONFIRM_MISMATCH', number: 278 });
    expect(await relay.storage.tombstone(name)).toBeUndefined();

    expect(JSON.parse(await ok(owner.path, 'erase', 'mum', '--confirm', 'mum'))).toMatchObject({ erased: name });
    expect(await relay.storage.tombstone(name)).toBeDefined();
    expect(relay.store.load(name)).toBeUndefined();
    // The owner's device: no alias, no local copy, a note in its erasure log.
    expect((await vault(owner.path, ['get', 'mum', 'allergies'])).error).toMatchObject({ code: 'CLI_UNKNOWN_PROFILE' });
    expect(readFileSync(join(owner.path, 'erasures.jsonl'), 'utf8')).toContain(name);

    // The editor learns it on its next sync, verifies the owner's order, and drops its copy.
    expect(JSON.parse(await ok(editor.path, 'sync', 'mum'))).toMatchObject({ erased: name });
    expect((await vault(editor.path, ['get', 'mum', 'allergies'])).error).toMatchObject({ code: 'CLI_UNKNOWN_PROFILE' });
    const store = [join(editor.path, 'store', 'relay.sqlite'), join(editor.path, 'store', 'relay.sqlite-wal')].filter(existsSync);
    for (const f of store) expect(readFileSync(f).includes(Buffer.from(name))).toBe(false);
    expect(readFileSync(join(editor.path, 'erasures.jsonl'), 'utf8')).toContain(name);
  });
});
