/**
 * Passphrase-wrapped secrets, format v1: the one scheme the CLI keyring uses today and the app
 * lock and backups will share (docs/decisions/0018-passphrase-wrapped-secrets.md).
 *
 *   key  = H('fhv/passphrase-key/v1', scrypt(NFKC(passphrase), salt, N, r, p, 32) ‖ 'scrypt:N:r:p')
 *   box  = XSalsa20-Poly1305(plaintext, nonce, key)
 *   file = { scheme: 'fhv-passphrase', v: 1, kdf: 'scrypt', N, r, p, salt, nonce, ciphertext }   (base64url)
 *
 * The KDF parameters travel with the ciphertext so the cost can rise later without a new format;
 * hashing them into the key means an edited parameter is a failed open, not a silently weaker
 * key. Because a hostile or corrupted file chooses those parameters, every read checks them
 * against hard limits first (memory, time, lengths), before any work is done.
 *
 * Pure functions: randomness is injected, nothing here touches the disk or the environment.
 */
import { scrypt } from '@noble/hashes/scrypt.js';
import { fromBase64Url, toBase64Url, utf8 } from './bytes.ts';
import { hashWithDomain } from './hash.ts';
import type { SymmetricKey } from './keys.ts';
import { secureRandom, type RandomSource } from './random.ts';
import { SECRETBOX_NONCE_LENGTH, SECRETBOX_OVERHEAD, secretboxOpen, secretboxSeal } from './secretbox.ts';

export const PASSPHRASE_SCHEME = 'fhv-passphrase';
export const PASSPHRASE_VERSION = 1;
const KEY_DOMAIN = 'fhv/passphrase-key/v1';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/** What new files are written with: OWASP's scrypt recommendation (128 MiB, ~0.5 s in JS). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/**
 * Limits every read enforces. `maxMemoryBytes` bounds scrypt's 128·N·r working set, `maxP` its
 * time; `minN` refuses files written too weakly to be worth a passphrase. Only tests lower minN
 * (see WEAK_TEST_LIMITS), explicitly.
 */
export interface PassphraseLimits {
  readonly minN: number;
  readonly maxMemoryBytes: number;
  readonly maxR: number;
  readonly maxP: number;
  readonly maxCiphertextBytes: number;
}

export const PASSPHRASE_LIMITS: PassphraseLimits = {
  minN: 2 ** 15,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxR: 16,
  maxP: 4,
  maxCiphertextBytes: 1024 * 1024,
};

/** Test-only cost (~5 ms): never a default; callers must opt in by name. */
export const WEAK_TEST_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
export const WEAK_TEST_LIMITS: PassphraseLimits = { ...PASSPHRASE_LIMITS, minN: 2 ** 10 };

export const SALT_LENGTH = 16;
const MAX_SALT_LENGTH = 64;

export interface WrappedSecret {
  readonly scheme: typeof PASSPHRASE_SCHEME;
  readonly v: typeof PASSPHRASE_VERSION;
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly nonce: string;
  readonly ciphertext: string;
}

export type PassphraseErrorCode =
  /** Not a wrapped secret of a known scheme and version, or a field of the wrong shape. */
  | 'PASSPHRASE_MALFORMED'
  /** KDF parameters outside the limits (too costly to try, or too weak to accept). */
  | 'PASSPHRASE_LIMITS'
  /** Authentication failed: a wrong passphrase or a tampered file (indistinguishable by design). */
  | 'PASSPHRASE_WRONG';

export type PassphraseResult<T> = { ok: true; value: T } | { ok: false; code: PassphraseErrorCode; message: string };

const fail = (code: PassphraseErrorCode, message: string): { ok: false; code: PassphraseErrorCode; message: string } => ({ ok: false, code, message });

/** Checks parameters against the limits before any KDF work: a hostile file cannot demand huge memory or time. */
export function checkScryptParams(params: ScryptParams, limits: PassphraseLimits = PASSPHRASE_LIMITS): PassphraseResult<ScryptParams> {
  const { N, r, p } = params;
  if (![N, r, p].every((x) => Number.isSafeInteger(x) && x >= 1)) return fail('PASSPHRASE_MALFORMED', 'KDF parameters must be positive integers');
  if ((N & (N - 1)) !== 0 || N < 2) return fail('PASSPHRASE_MALFORMED', 'scrypt N must be a power of two');
  if (N < limits.minN) return fail('PASSPHRASE_LIMITS', 'the KDF cost is below the minimum this build accepts');
  if (r > limits.maxR || p > limits.maxP || 128 * N * r > limits.maxMemoryBytes) {
    return fail('PASSPHRASE_LIMITS', 'the KDF parameters exceed the memory or time this build allows');
  }
  return { ok: true, value: { N, r, p } };
}

/** The wrapping key. Costly on purpose (call once per file and keep the key while the file is open). */
export function derivePassphraseKey(passphrase: string, salt: Uint8Array, params: ScryptParams): SymmetricKey {
  // NFKC: the same passphrase typed on two keyboards (composed or decomposed accents) opens the file.
  const stretched = scrypt(utf8(passphrase.normalize('NFKC')), salt, { N: params.N, r: params.r, p: params.p, dkLen: 32, maxmem: 128 * params.N * params.r + 1024 * 1024 });
  return hashWithDomain(KEY_DOMAIN, stretched, utf8(`scrypt:${params.N}:${params.r}:${params.p}`)) as Uint8Array as SymmetricKey;
}

/** A wrapping key with the header it belongs to, so later saves reuse it without another KDF run. */
export interface PassphraseKey {
  readonly key: SymmetricKey;
  readonly salt: Uint8Array;
  readonly params: ScryptParams;
}

export function newPassphraseKey(passphrase: string, o: { params?: ScryptParams; random?: RandomSource } = {}): PassphraseKey {
  const params = o.params ?? DEFAULT_SCRYPT;
  const salt = (o.random ?? secureRandom)(SALT_LENGTH);
  return { key: derivePassphraseKey(passphrase, salt, params), salt, params };
}

/** Seals under an existing wrapping key with a fresh nonce. */
export function sealWithPassphraseKey(k: PassphraseKey, plaintext: Uint8Array, random: RandomSource = secureRandom): WrappedSecret {
  const nonce = random(SECRETBOX_NONCE_LENGTH);
  return {
    scheme: PASSPHRASE_SCHEME,
    v: PASSPHRASE_VERSION,
    kdf: 'scrypt',
    N: k.params.N,
    r: k.params.r,
    p: k.params.p,
    salt: toBase64Url(k.salt),
    nonce: toBase64Url(nonce),
    ciphertext: toBase64Url(secretboxSeal(plaintext, nonce, k.key)),
  };
}

/** Wraps a secret under a new salt (draws: salt, then nonce). */
export function wrapSecret(passphrase: string, plaintext: Uint8Array, o: { params?: ScryptParams; random?: RandomSource } = {}): WrappedSecret {
  const random = o.random ?? secureRandom;
  return sealWithPassphraseKey(newPassphraseKey(passphrase, { params: o.params, random }), plaintext, random);
}

interface ParsedWrapped {
  readonly params: ScryptParams;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** Parses untrusted JSON (already JSON.parsed) into a wrapped secret, enforcing the limits. */
export function parseWrappedSecret(input: unknown, limits: PassphraseLimits = PASSPHRASE_LIMITS): PassphraseResult<ParsedWrapped> {
  const o = input as Partial<Record<keyof WrappedSecret, unknown>> | null;
  if (typeof o !== 'object' || o === null || o.scheme !== PASSPHRASE_SCHEME) return fail('PASSPHRASE_MALFORMED', 'not a passphrase-wrapped secret');
  if (o.v !== PASSPHRASE_VERSION || o.kdf !== 'scrypt') return fail('PASSPHRASE_MALFORMED', 'unsupported version or KDF');
  if (typeof o.N !== 'number' || typeof o.r !== 'number' || typeof o.p !== 'number') return fail('PASSPHRASE_MALFORMED', 'missing KDF parameters');
  const params = checkScryptParams({ N: o.N, r: o.r, p: o.p }, limits);
  if (!params.ok) return params;
  const salt = decode(o.salt);
  const nonce = decode(o.nonce);
  const ciphertext = decode(o.ciphertext);
  if (!salt || salt.length < SALT_LENGTH || salt.length > MAX_SALT_LENGTH) return fail('PASSPHRASE_MALFORMED', 'bad salt');
  if (!nonce || nonce.length !== SECRETBOX_NONCE_LENGTH) return fail('PASSPHRASE_MALFORMED', 'bad nonce');
  if (!ciphertext || ciphertext.length < SECRETBOX_OVERHEAD || ciphertext.length > limits.maxCiphertextBytes) return fail('PASSPHRASE_MALFORMED', 'bad ciphertext length');
  return { ok: true, value: { params: params.value, salt, nonce, ciphertext } };
}

/**
 * Opens a wrapped secret. Returns the plaintext and the wrapping key (to re-seal later saves
 * without another KDF run). Malformed input and parameters beyond the limits fail before scrypt runs.
 */
export function unwrapSecret(
  input: unknown,
  passphrase: string,
  limits: PassphraseLimits = PASSPHRASE_LIMITS,
): PassphraseResult<{ plaintext: Uint8Array; key: PassphraseKey }> {
  const parsed = parseWrappedSecret(input, limits);
  if (!parsed.ok) return parsed;
  const { params, salt, nonce, ciphertext } = parsed.value;
  const key = derivePassphraseKey(passphrase, salt, params);
  const plaintext = secretboxOpen(ciphertext, nonce, key);
  if (!plaintext) return fail('PASSPHRASE_WRONG', 'wrong passphrase, or the file was altered');
  return { ok: true, value: { plaintext, key: { key, salt, params } } };
}

function decode(v: unknown): Uint8Array | undefined {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]*$/.test(v)) return undefined;
  try {
    return fromBase64Url(v);
  } catch {
    return undefined;
  }
}
