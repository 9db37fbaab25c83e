/**
 * Issue 10: a store truncated to 0 bytes exported {} with exit 0; a tampered bundle was accepted;
 * keyring.json held every secret key in plain base64. A damaged store or key file is now a typed
 * error with a non-zero exit, and the keyring's secrets are sealed under the passphrase.
 */
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { tempDir } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok, PASSPHRASE, vault } from './run-cli.ts';

const allergy = JSON.stringify({ resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });

describe('damaged stores and key files', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const base = tempDir('fhv-dmg-');
  let keys: { signingKey: string };
  beforeAll(async () => {
    keys = JSON.parse(await ok(base.path, 'init'));
    await ok(base.path, 'create', 'mum');
    await ok(base.path, 'set', 'mum', 'allergies', 'penicillin', allergy);
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(() => base.remove());

  /** A fresh copy of the healthy device to damage. */
  function copy(): { path: string; remove(): void } {
    const d = tempDir('fhv-dmg-copy-');
    cpSync(base.path, d.path, { recursive: true });
    return d;
  }

  it('a store truncated to 0 bytes: CLI_DAMAGED_STORE, never {} with exit 0', async () => {
    const d = copy();
    try {
      truncateSync(join(d.path, 'store', 'relay.sqlite'), 0);
      rmSync(join(d.path, 'store', 'relay.sqlite-wal'), { force: true });
      for (const command of ['export', 'get', 'status']) {
        const r = await vault(d.path, command === 'get' ? ['get', 'mum', 'allergies'] : [command, 'mum']);
        expect(r.code, command).toBe(1);
        expect(r.out, command).toBe('');
        expect(r.error, command).toMatchObject({ code: 'CLI_DAMAGED_STORE', number: 318 });
      }
    } finally {
      d.remove();
    }
  });

  it('a store overwritten with garbage: CLI_DAMAGED_STORE', async () => {
    const d = copy();
    try {
      writeFileSync(join(d.path, 'store', 'relay.sqlite'), 'this is not a database'.repeat(100));
      rmSync(join(d.path, 'store', 'relay.sqlite-wal'), { force: true });
      const r = await vault(d.path, ['export', 'mum']);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.error).toMatchObject({ code: 'CLI_DAMAGED_STORE' });
    } finally {
      d.remove();
    }
  });

  it('a keyring truncated, garbage or with an edited public key: CLI_BAD_KEYRING', async () => {
    const d = copy();
    try {
      const file = join(d.path, 'keyring.json');
      const good = readFileSync(file, 'utf8');
      truncateSync(file, 0);
      expect((await vault(d.path, ['export', 'mum'])).error).toMatchObject({ code: 'CLI_BAD_KEYRING', number: 303 });
      writeFileSync(file, '{"version":2,"garbage":true}');
      expect((await vault(d.path, ['export', 'mum'])).error).toMatchObject({ code: 'CLI_BAD_KEYRING' });
      writeFileSync(file, good.replace(keys.signingKey, '00'.repeat(32)));
      expect((await vault(d.path, ['export', 'mum'])).error).toMatchObject({ code: 'CLI_BAD_KEYRING' });
    } finally {
      d.remove();
    }
  });

  it('secrets at rest are sealed; a wrong or missing passphrase or an edited ciphertext is a typed error', async () => {
    const file = readFileSync(join(base.path, 'keyring.json'), 'utf8');
    const parsed = JSON.parse(file) as { secrets: { scheme: string; ciphertext: string } };
    expect(parsed.secrets.scheme).toBe('fhv-passphrase');
    expect(file).not.toMatch(/signingSecretKey|boxSecretKey|"keys"/);
    const wrong = await vault(base.path, ['export', 'mum'], { env: { VAULT_PASSPHRASE: `${PASSPHRASE}!` } });
    expect(wrong.code).toBe(1);
    expect(wrong.error).toMatchObject({ code: 'CLI_BAD_PASSPHRASE', number: 316 });
    const none = await vault(base.path, ['export', 'mum'], { env: { VAULT_PASSPHRASE: undefined } });
    expect(none.error).toMatchObject({ code: 'CLI_NO_PASSPHRASE' });
    // Without the explicit test setting the weak test cost is refused, never silently accepted.
    const strict = await vault(base.path, ['export', 'mum'], { env: { VAULT_TEST_WEAK_KDF: undefined } });
    expect(strict.error).toMatchObject({ code: 'CLI_BAD_KEYRING' });
    const d = copy();
    try {
      const c = parsed.secrets.ciphertext;
      const edited = { ...parsed, secrets: { ...parsed.secrets, ciphertext: (c[0] === 'A' ? 'B' : 'A') + c.slice(1) } };
      writeFileSync(join(d.path, 'keyring.json'), JSON.stringify(edited));
      expect((await vault(d.path, ['export', 'mum'])).error).toMatchObject({ code: 'CLI_BAD_PASSPHRASE' });
    } finally {
      d.remove();
    }
  });

  it('an old plaintext keyring (version 1) is sealed on first use', async () => {
    const d = tempDir('fhv-dmg-v1-');
    try {
      const secret = toBase64Url(generateSigningKeyPair().secretKey);
      writeFileSync(join(d.path, 'keyring.json'), JSON.stringify({ version: 1, signingSecretKey: secret, profiles: {} }));
      expect(await ok(d.path, 'list')).toBe('');
      const after = readFileSync(join(d.path, 'keyring.json'), 'utf8');
      expect(after).not.toContain(secret);
      expect(JSON.parse(after)).toMatchObject({ version: 2, secrets: { scheme: 'fhv-passphrase' } });
    } finally {
      d.remove();
    }
  });

  it('a tampered or cut access bundle is refused', async () => {
    const bundle = await ok(base.path, 'bundle', 'mum');
    const other = tempDir('fhv-dmg-other-');
    try {
      await ok(other.path, 'init');
      const body = bundle.split('.')[1]!;
      const flipped = `b1.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}.${bundle.split('.')[2]}`;
      for (const bad of [flipped, bundle.slice(0, -3), bundle.replace(/\.[^.]+$/, '.AAAAAAAAAAA')]) {
        const r = await vault(other.path, ['join', 'mum', bad]);
        expect(r.code).toBe(1);
        expect(r.error).toMatchObject({ code: 'CLI_BAD_BUNDLE', number: 305 });
      }
      expect(await ok(other.path, 'join', 'mum', bundle)).toBe('joined');
    } finally {
      other.remove();
    }
  });
});
