/**
 * Issue 10: a device joined with an access bundle lost access after any key change (a clinician
 * session rotates) and was told nothing: `sync` said "pending" with exit 0, `export` printed {},
 * `set` spun at 100% CPU for ever. Members added by member code get lockboxes and keep up; a
 * device that still cannot read gets a typed error. An editor invite made before a clinician
 * session must still be accepted (it failed with INVITE_NO_KEY).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, memberCode, ok, vault } from './run-cli.ts';

const record = (text: string) => JSON.stringify({ resourceType: 'AllergyIntolerance', code: { text } });

describe('CLI after a key change', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const dirs = { phone: tempDir('fhv-kc-phone-'), bundled: tempDir('fhv-kc-bundled-'), boxed: tempDir('fhv-kc-boxed-'), late: tempDir('fhv-kc-late-') };
  beforeAll(async () => {
    relay = await testRelay();
    for (const d of Object.values(dirs)) await ok(d.path, 'init');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    for (const d of Object.values(dirs)) d.remove();
  });

  it('a bundle-only device is told it cannot read (typed, non-zero, no spin); a lockbox member keeps reading; re-adding by code repairs it', async () => {
    const { phone, bundled, boxed } = dirs;
    const bundledKey = (JSON.parse(await ok(bundled.path, 'whoami')) as { signingKey: string }).signingKey;
    const created = await ok(phone.path, 'create', 'mum', '--relay', relay.url, '--member', `${bundledKey}:editor`, '--member', `${await memberCode(boxed.path)}:editor`);
    const name = created.split('\n').at(-1)!;
    await ok(phone.path, 'set', 'mum', 'allergies', 'asthma', record('Asthma'));
    await ok(phone.path, 'sync', 'mum');
    await ok(bundled.path, 'join', 'mum', await ok(phone.path, 'bundle', 'mum'), '--relay', relay.url);
    await ok(boxed.path, 'join', 'mum', name, '--relay', relay.url);
    await ok(bundled.path, 'sync', 'mum');
    await ok(boxed.path, 'sync', 'mum');
    expect(JSON.parse(await ok(bundled.path, 'get', 'mum', 'allergies', 'asthma'))).toMatchObject({ id: 'asthma' });

    // A clinician session rotates the key; the owner writes under the new one.
    await ok(phone.path, 'invite', 'mum', 'clinician', '--minutes', '30');
    await ok(phone.path, 'set', 'mum', 'allergies', 'eczema', record('Eczema'));
    await ok(phone.path, 'sync', 'mum');

    const synced = await vault(bundled.path, ['sync', 'mum']);
    expect(synced.code).toBe(1);
    expect(synced.error).toMatchObject({ code: 'CLI_NO_KEY', number: 320 });
    const exported = await vault(bundled.path, ['export', 'mum']);
    expect(exported.code).toBe(1);
    expect(exported.out).toBe('');
    expect(exported.error).toMatchObject({ code: 'CLI_NO_KEY' });
    const write = await vault(bundled.path, ['set', 'mum', 'allergies', 'hayfever', record('Hay fever')]);
    expect(write.code).toBe(1);
    expect(write.error).toMatchObject({ code: 'CLI_NO_KEY' });

    // The lockbox member received the new key.
    await ok(boxed.path, 'sync', 'mum');
    expect(JSON.parse(await ok(boxed.path, 'get', 'mum', 'allergies', 'eczema'))).toMatchObject({ id: 'eczema' });

    // Repair: the owner re-adds the device with its member code; a lockbox now reaches it.
    const readded = JSON.parse(await ok(phone.path, 'add-member', 'mum', await memberCode(bundled.path), 'editor'));
    expect(readded).toMatchObject({ added: bundledKey, lockbox: true, safetyCode: (JSON.parse(await ok(bundled.path, 'whoami')) as { safetyCode: string }).safetyCode });
    await ok(phone.path, 'sync', 'mum');
    expect(JSON.parse(await ok(bundled.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', readable: 'ok' });
    expect(JSON.parse(await ok(bundled.path, 'get', 'mum', 'allergies', 'eczema'))).toMatchObject({ id: 'eczema' });
  });

  it('an editor invite made before a clinician session can still be accepted', async () => {
    const { phone, late } = dirs;
    await ok(phone.path, 'create', 'dad', '--relay', relay.url);
    const link = await ok(phone.path, 'invite', 'dad', 'editor');
    await ok(phone.path, 'invite', 'dad', 'clinician', '--minutes', '30');
    await ok(phone.path, 'set', 'dad', 'allergies', 'latex', record('Latex'));
    await ok(phone.path, 'sync', 'dad');
    const joined = await vault(late.path, ['accept', 'dad', link, '--relay', relay.url]);
    expect(joined.error?.code ?? 'none', joined.err).toBe('none');
    expect(joined.code).toBe(0);
    await ok(late.path, 'sync', 'dad');
    expect(JSON.parse(await ok(late.path, 'get', 'dad', 'allergies', 'latex'))).toMatchObject({ id: 'latex' });
  });
});
