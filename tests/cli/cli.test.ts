/** The headless CLI end to end: two devices, one relay, lockboxes for members, typed errors that exit non-zero. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from './run-cli.ts';

const ALLERGY = '{"resourceType":"AllergyIntolerance","code":{"text":"Penicillin"},"reaction":[{"manifestation":[{"text":"Rash"}]}]}';

describe('vault CLI', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const phone = tempDir('fhv-cli-a-');
  const laptop = tempDir('fhv-cli-b-');
  beforeAll(async () => {
    relay = await testRelay();
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    phone.remove();
    laptop.remove();
  });

  it('creates, shares by member code (lockbox), edits offline, syncs and exports', async () => {
    const a = JSON.parse(await ok(phone.path, 'init'));
    expect(a).toMatchObject({ member: expect.stringMatching(/^m1\.[\w-]{86}$/), signingKey: expect.stringMatching(/^[0-9a-f]{64}$/), safetyCode: expect.stringMatching(/^\d{5}( \d{5}){3}$/) });
    await ok(laptop.path, 'init');
    const laptopWhoami = JSON.parse(await ok(laptop.path, 'whoami'));
    const created = await vault(phone.path, ['create', 'mum', '--relay', relay.url, '--member', `${laptopWhoami.member}:editor`]);
    expect(created.code, created.err).toBe(0);
    // The owner sees the code of the key it just gave a lockbox to, to compare with the laptop's screen.
    expect(JSON.parse(created.out.split('\n')[0]!)).toMatchObject({ added: laptopWhoami.signingKey, lockbox: true, safetyCode: laptopWhoami.safetyCode });
    await ok(phone.path, 'set', 'mum', 'allergies', 'penicillin', ALLERGY);
    await ok(phone.path, 'note', 'mum', 'visits', '--append', 'Cardiology follow-up.');
    expect(JSON.parse(await ok(phone.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', pending: 0, problems: [] });

    // No bundle: the laptop needs only the profile's name; its lockbox carries the key.
    const name = created.out.split('\n').at(-1)!;
    expect(name).toMatch(/^[\w-]{22}$/);
    await ok(laptop.path, 'join', 'mum', name, '--relay', relay.url);
    await ok(laptop.path, 'sync', 'mum');
    expect(JSON.parse(await ok(laptop.path, 'get', 'mum', 'allergies', 'penicillin'))).toMatchObject({ id: 'penicillin', code: { text: 'Penicillin' } });
    await ok(laptop.path, 'note', 'mum', 'visits', '--append', ' Bring the BP log.');
    await ok(laptop.path, 'sync', 'mum');
    await ok(phone.path, 'sync', 'mum');
    expect(await ok(phone.path, 'note', 'mum', 'visits')).toBe('Cardiology follow-up. Bring the BP log.');
    const exported = JSON.parse(await ok(phone.path, 'export', 'mum'));
    expect(exported.allergies.penicillin).toMatchObject({ resourceType: 'AllergyIntolerance' });
    expect(exported['note:visits']).toBe('Cardiology follow-up. Bring the BP log.');
  });

  it('invites a relative by link; the link works once; a refused invite prints its own code', async () => {
    const sister = tempDir('fhv-cli-c-');
    try {
      await ok(sister.path, 'init');
      const link = await vault(phone.path, ['invite', 'mum', 'editor']);
      expect(link.code, link.err).toBe(0);
      expect(link.out).toMatch(/#\/join\/[\w-]{22}\.[\w-]{43}$/);
      const joined = await vault(sister.path, ['accept', 'mum', link.out, '--relay', relay.url]);
      expect(joined.code, joined.err).toBe(0);
      await ok(sister.path, 'sync', 'mum');
      expect(JSON.parse(await ok(sister.path, 'get', 'mum', 'allergies', 'penicillin'))).toMatchObject({ id: 'penicillin' });
      const again = await vault(laptop.path, ['accept', 'mum2', link.out, '--relay', relay.url]);
      expect(again.code).toBe(1);
      // The invite error's own code, not a catch-all CLI_INVITE.
      expect(again.error).toMatchObject({ code: 'INVITE_REFUSED' });
    } finally {
      sister.remove();
    }
  });

  it('bad input gets a typed error, a non-zero exit and no echo of the value', async () => {
    const bad = await vault(phone.path, ['set', 'mum', 'allergies', 'x', '{not json SECRET-VALUE']);
    expect(bad.code).toBe(1);
    expect(bad.error).toMatchObject({ code: 'CLI_BAD_JSON', number: 306 });
    expect(bad.err).not.toContain('SECRET-VALUE');
    expect((await vault(phone.path, ['get', 'nobody', 'allergies'])).error).toMatchObject({ code: 'CLI_UNKNOWN_PROFILE', number: 304 });
    expect((await vault(laptop.path, ['join', 'x', 'garbage!!'])).error).toMatchObject({ code: 'CLI_BAD_BUNDLE' });
    const usage = await vault(phone.path, ['frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.error).toMatchObject({ code: 'CLI_USAGE', number: 300 });
    expect(JSON.parse(await ok(phone.path, 'get', 'mum', 'allergies', 'x'))).toBeNull();
  });

  it('an unknown option is CLI_USAGE on every command, never a stack trace', async () => {
    for (const args of [['sync', 'mum', '--frobnicate'], ['--nope'], ['set', 'mum', '-x']]) {
      const r = await vault(phone.path, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.error).toMatchObject({ code: 'CLI_USAGE' });
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
