/**
 * Issue 10: two CLI processes on one --dir lost 2 of 10 writes, all reporting success, and every
 * later sync of that device was refused (a forked author chain). One process at a time now: the
 * second gets CLI_LOCKED at once (see src/cli/lock.ts for why it fails rather than waits).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from './run-cli.ts';

const allergy = (text: string) => JSON.stringify({ resourceType: 'AllergyIntolerance', code: { text } });

describe('one CLI process per device directory', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const phone = tempDir('fhv-lock-');
  beforeAll(async () => {
    relay = await testRelay();
    await ok(phone.path, 'init');
    await ok(phone.path, 'create', 'mum', '--relay', relay.url);
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    phone.remove();
  });

  it('concurrent writers: each either succeeds or gets CLI_LOCKED; no reported success is lost; sync still works', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `a${i}`);
    const results = await Promise.all(ids.map((id) => vault(phone.path, ['set', 'mum', 'allergies', id, allergy(id)])));
    for (const r of results) {
      if (r.code !== 0) expect(r.error).toMatchObject({ code: 'CLI_LOCKED', number: 311 });
    }
    const succeeded = ids.filter((_, i) => results[i]!.code === 0).sort();
    expect(succeeded.length).toBeGreaterThan(0);
    const stored = (JSON.parse(await ok(phone.path, 'get', 'mum', 'allergies')) as Array<{ id: string }>).map((r) => r.id).sort();
    expect(stored).toEqual(succeeded);
    expect(JSON.parse(await ok(phone.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', pending: 0, problems: [] });
    expect(existsSync(join(phone.path, 'lock'))).toBe(false);
  });

  it('a held lock: the second process gets CLI_LOCKED and changes nothing', async () => {
    // This test process is alive: its pid in the lock file is a live holder.
    writeFileSync(join(phone.path, 'lock'), String(process.pid));
    try {
      const r = await vault(phone.path, ['set', 'mum', 'allergies', 'held', allergy('held')]);
      expect(r.code).toBe(1);
      expect(r.error).toMatchObject({ code: 'CLI_LOCKED' });
      expect(r.error?.message).toContain(String(process.pid));
    } finally {
      // Only the holder removes its lock.
      rmSync(join(phone.path, 'lock'));
    }
    expect(JSON.parse(await ok(phone.path, 'get', 'mum', 'allergies', 'held'))).toBeNull();
  });

  it('a stale lock from a dead process is recovered', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']);
    expect(dead.status).toBe(0);
    writeFileSync(join(phone.path, 'lock'), String(dead.pid));
    await ok(phone.path, 'set', 'mum', 'allergies', 'after-crash', allergy('after crash'));
    expect(JSON.parse(await ok(phone.path, 'get', 'mum', 'allergies', 'after-crash'))).toMatchObject({ id: 'after-crash' });
    expect(existsSync(join(phone.path, 'lock'))).toBe(false);
  });
});
