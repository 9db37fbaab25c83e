/** Keys at rest: wrapped by a non-extractable device key; unreadable elsewhere; tamper-evident. */
import { describe, expect, it } from 'vitest';
import { seededRandom, toBase64Url, toHex } from '../../src/lib/crypto/index.ts';
import { createDeviceWrappingKey, KeyStoreError, unwrapSecrets, wrapSecrets } from '../../src/lib/vault/key-store.ts';

describe('device key store', () => {
  const rnd = seededRandom(11);
  const secrets = { identitySeed: rnd(32), deviceSigningSeed: rnd(32), deviceBoxSecret: rnd(32) };

  it('round-trips, and the stored form contains none of the secret bytes', async () => {
    const key = await createDeviceWrappingKey();
    const wrapped = await wrapSecrets(secrets, key);
    expect(await unwrapSecrets(wrapped, key)).toEqual(secrets);
    const stored = JSON.stringify(wrapped);
    for (const s of Object.values(secrets)) {
      expect(stored).not.toContain(toBase64Url(s));
      expect(stored).not.toContain(toHex(s));
    }
  });

  it('the wrapping key cannot be exported', async () => {
    const key = await createDeviceWrappingKey();
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it("another device's key, a flipped byte or a wrong version fail with KEYSTORE_UNWRAP_FAILED", async () => {
    const key = await createDeviceWrappingKey();
    const wrapped = await wrapSecrets(secrets, key);
    const other = await createDeviceWrappingKey();
    await expect(unwrapSecrets(wrapped, other)).rejects.toBeInstanceOf(KeyStoreError);
    const ct = wrapped.ct;
    const flipped = { ...wrapped, ct: (ct[0] === 'A' ? 'B' : 'A') + ct.slice(1) };
    await expect(unwrapSecrets(flipped, key)).rejects.toMatchObject({ code: 'KEYSTORE_UNWRAP_FAILED' });
    await expect(unwrapSecrets({ ...wrapped, v: 2 as 1 }, key)).rejects.toMatchObject({ code: 'KEYSTORE_UNWRAP_FAILED' });
  });
});
