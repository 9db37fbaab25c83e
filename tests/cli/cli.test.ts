/** The headless CLI end to end: two devices, one relay, typed errors that exit non-zero. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/cli/vault.ts', import.meta.url).pathname;

async function vault(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--no-warnings', CLI, '--dir', dir, ...args], { timeout: 60_000 });
    return { code: 0, out: stdout.trim(), err: stderr.trim() };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout.trim(), err: x.stderr.trim() };
  }
}

describe('vault CLI', () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const phone = tempDir('fhv-cli-a-');
  const laptop = tempDir('fhv-cli-b-');
  beforeAll(async () => {
    relay = await testRelay();
  });
  afterAll(async () => {
    await relay.destroy();
    phone.remove();
    laptop.remove();
  });

  it('creates, shares, edits offline, syncs and exports', async () => {
    const a = await vault(phone.path, 'init');
    const b = await vault(laptop.path, 'init');
    expect(a.out).toMatch(/^[0-9a-f]{64}$/);
    expect((await vault(phone.path, 'create', 'mum', '--relay', relay.url, '--member', `${b.out}:editor`)).code).toBe(0);
    expect((await vault(phone.path, 'set', 'mum', 'allergies', 'penicillin', '{"reaction":"rash"}')).code).toBe(0);
    expect((await vault(phone.path, 'note', 'mum', 'visits', '--append', 'Cardiology follow-up.')).code).toBe(0);
    const synced = await vault(phone.path, 'sync', 'mum');
    expect(synced.code, synced.err).toBe(0);
    expect(JSON.parse(synced.out)).toMatchObject({ state: 'synced', pending: 0, problems: [] });

    const bundle = (await vault(phone.path, 'bundle', 'mum')).out;
    expect((await vault(laptop.path, 'join', 'mum', bundle, '--relay', relay.url)).code).toBe(0);
    expect((await vault(laptop.path, 'sync', 'mum')).code).toBe(0);
    expect(JSON.parse((await vault(laptop.path, 'get', 'mum', 'allergies', 'penicillin')).out)).toEqual({ reaction: 'rash' });
    await vault(laptop.path, 'note', 'mum', 'visits', '--append', ' Bring the BP log.');
    await vault(laptop.path, 'sync', 'mum');
    await vault(phone.path, 'sync', 'mum');
    expect((await vault(phone.path, 'note', 'mum', 'visits')).out).toBe('Cardiology follow-up. Bring the BP log.');
    const exported = JSON.parse((await vault(phone.path, 'export', 'mum')).out);
    expect(exported).toEqual({ allergies: { penicillin: { reaction: 'rash' } }, 'note:visits': 'Cardiology follow-up. Bring the BP log.' });
  });

  it('invites a relative by link; the link works once', async () => {
    const sister = tempDir('fhv-cli-c-');
    try {
      await vault(sister.path, 'init');
      const link = await vault(phone.path, 'invite', 'mum', 'editor');
      expect(link.code, link.err).toBe(0);
      expect(link.out).toMatch(/#\/join\/[\w-]{22}\.[\w-]{43}$/);
      const joined = await vault(sister.path, 'accept', 'mum', link.out, '--relay', relay.url);
      expect(joined.code, joined.err).toBe(0);
      expect((await vault(sister.path, 'sync', 'mum')).code).toBe(0);
      expect(JSON.parse((await vault(sister.path, 'get', 'mum', 'allergies', 'penicillin')).out)).toEqual({ reaction: 'rash' });
      const again = await vault(laptop.path, 'accept', 'mum2', link.out, '--relay', relay.url);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/^error CLI_INVITE: INVITE_REFUSED/);
    } finally {
      sister.remove();
    }
  });

  it('bad input gets a typed error, a non-zero exit and no echo of the value', async () => {
    const bad = await vault(phone.path, 'set', 'mum', 'allergies', 'x', '{not json SECRET-VALUE');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error CLI_BAD_JSON:/);
    expect(bad.err).not.toContain('SECRET-VALUE');
    expect((await vault(phone.path, 'get', 'nobody', 'x')).err).toMatch(/^error CLI_UNKNOWN_PROFILE:/);
    expect((await vault(laptop.path, 'join', 'x', 'garbage!!')).err).toMatch(/^error CLI_BAD_BUNDLE:/);
    const usage = await vault(phone.path, 'frobnicate');
    expect(usage.code).toBe(2);
    expect(JSON.parse((await vault(phone.path, 'get', 'mum', 'allergies', 'x')).out)).toBeNull();
  });
});
