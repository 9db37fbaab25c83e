/**
 * The WebAuthn calls of the app lock (docs/decisions/0043): a passkey made on this device with
 * the PRF extension, and its PRF output for a given salt. There is no server to check the
 * assertion's signature: what protects the keys is the PRF output, which only the authenticator
 * holding the credential computes, after verifying the person (userVerification: required).
 * The passkey's names are neutral ("Family Health Vault"): password managers and the OS list them.
 */
import { secureRandom, type RandomSource } from '../crypto/index.ts';
import { VaultError } from './errors.ts';

/** Two minutes for the person to touch or look at their authenticator. */
const PROMPT_TIMEOUT_MS = 120_000;

interface PrfResults {
  prf?: { enabled?: boolean; results?: { first?: ArrayBuffer | Uint8Array } };
}

const bytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof ArrayBuffer ? new Uint8Array(b.slice(0)) : new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export function passkeysAvailable(): boolean {
  return typeof globalThis.PublicKeyCredential === 'function' && !!globalThis.navigator?.credentials;
}

async function ask<T>(call: () => Promise<T | null>): Promise<T> {
  let out: T | null;
  try {
    out = await call();
  } catch {
    throw new VaultError('LOCK_PASSKEY_FAILED', 'The passkey was not used (cancelled or refused)');
  }
  if (!out) throw new VaultError('LOCK_PASSKEY_FAILED', 'The passkey was not used (cancelled or refused)');
  return out;
}

/** The PRF output of a credential for `salt` (LOCK_NO_PRF where the browser or passkey has none). */
export async function passkeyPrf(credentialId: Uint8Array, salt: Uint8Array, o: { random?: RandomSource } = {}): Promise<Uint8Array> {
  const cred = await ask(
    () =>
      navigator.credentials.get({
        publicKey: {
          challenge: (o.random ?? secureRandom)(32) as BufferSource,
          rpId: location.hostname,
          allowCredentials: [{ type: 'public-key', id: credentialId as BufferSource }],
          userVerification: 'required',
          timeout: PROMPT_TIMEOUT_MS,
          extensions: { prf: { eval: { first: salt as BufferSource } } } as AuthenticationExtensionsClientInputs,
        },
      }) as Promise<PublicKeyCredential | null>,
  );
  const first = (cred.getClientExtensionResults() as PrfResults).prf?.results?.first;
  if (!first) throw new VaultError('LOCK_NO_PRF', 'This browser or passkey cannot lock the app (no PRF extension)');
  return bytes(first);
}

/** A new passkey for this app on this device, checked to offer PRF; returns its id, salt and PRF output. */
export async function createPasskeyForLock(o: { random?: RandomSource } = {}): Promise<{ credentialId: Uint8Array; salt: Uint8Array; prf: Uint8Array }> {
  const random = o.random ?? secureRandom;
  const salt = random(32);
  const cred = await ask(
    () =>
      navigator.credentials.create({
        publicKey: {
          rp: { name: 'Family Health Vault', id: location.hostname },
          user: { id: random(16) as BufferSource, name: 'Family Health Vault', displayName: 'Family Health Vault' },
          challenge: random(32) as BufferSource,
          pubKeyCredParams: [
            { type: 'public-key', alg: -7 },
            { type: 'public-key', alg: -257 },
          ],
          authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
          timeout: PROMPT_TIMEOUT_MS,
          extensions: { prf: { eval: { first: salt as BufferSource } } } as AuthenticationExtensionsClientInputs,
        },
      }) as Promise<PublicKeyCredential | null>,
  );
  const credentialId = bytes(cred.rawId);
  const results = (cred.getClientExtensionResults() as PrfResults).prf;
  if (results?.enabled === false) throw new VaultError('LOCK_NO_PRF', 'This browser or passkey cannot lock the app (no PRF extension)');
  // Some authenticators give the PRF output only on use, not on creation: ask once more then.
  const first = results?.results?.first;
  const prf = first ? bytes(first) : await passkeyPrf(credentialId, salt, o);
  return { credentialId, salt, prf };
}
