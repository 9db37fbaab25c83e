/**
 * Secrets at rest on a device: the identity seed and the device's own keys are stored only
 * wrapped (AES-GCM) by a device wrapping key that is a non-extractable WebCrypto key. In the
 * browser that CryptoKey object is kept in IndexedDB (structured clone keeps it
 * non-extractable), so script can use it but never read it out; recovery goes through the
 * recovery code, never through an exported key.
 */
import { fromBase64Url, secureRandom, toBase64Url, utf8, type RandomSource } from '../crypto/index.ts';

export interface DeviceSecrets {
  /** Present on a person's own devices (it re-derives the identity). */
  readonly identitySeed?: Uint8Array;
  readonly deviceSigningSeed: Uint8Array;
  readonly deviceBoxSecret: Uint8Array;
}

export interface WrappedSecrets {
  readonly v: 1;
  readonly iv: string;
  readonly ct: string;
}

import { VaultError } from './errors.ts';

/** Unwrap failures are VaultErrors with code KEYSTORE_UNWRAP_FAILED. */
export { VaultError as KeyStoreError } from './errors.ts';

const AAD = utf8('fhv/device-secrets/v1');

export function createDeviceWrappingKey(subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<CryptoKey> {
  return subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;
}

export async function wrapSecrets(
  secrets: DeviceSecrets,
  key: CryptoKey,
  o: { random?: RandomSource; subtle?: SubtleCrypto } = {},
): Promise<WrappedSecrets> {
  const subtle = o.subtle ?? globalThis.crypto.subtle;
  const iv = (o.random ?? secureRandom)(12);
  const plain = utf8(
    JSON.stringify({
      i: secrets.identitySeed ? toBase64Url(secrets.identitySeed) : null,
      s: toBase64Url(secrets.deviceSigningSeed),
      b: toBase64Url(secrets.deviceBoxSecret),
    }),
  );
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: AAD as BufferSource }, key, plain as BufferSource));
  plain.fill(0);
  return { v: 1, iv: toBase64Url(iv), ct: toBase64Url(ct) };
}

export async function unwrapSecrets(wrapped: WrappedSecrets, key: CryptoKey, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<DeviceSecrets> {
  try {
    if (wrapped.v !== 1) throw new Error('version');
    const plain = await subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64Url(wrapped.iv) as BufferSource, additionalData: AAD as BufferSource },
      key,
      fromBase64Url(wrapped.ct) as BufferSource,
    );
    const j = JSON.parse(new TextDecoder().decode(plain)) as { i: string | null; s: string; b: string };
    const out = { deviceSigningSeed: fromBase64Url(j.s), deviceBoxSecret: fromBase64Url(j.b) };
    if (out.deviceSigningSeed.length !== 32 || out.deviceBoxSecret.length !== 32) throw new Error('shape');
    return j.i ? { ...out, identitySeed: fromBase64Url(j.i) } : out;
  } catch {
    throw new VaultError('KEYSTORE_UNWRAP_FAILED', 'the stored keys cannot be opened on this device');
  }
}
