/**
 * Human-typable recovery code for a 32-byte secret (identity backup).
 *
 *   code = CrockfordBase32( secret(32) ‖ first 2 bytes of H("fhv/recovery/v1", secret) ), 3 zero pad bits
 *        = 55 characters, printed upper-case in groups of 4 joined by '-' (the last group has 3)
 *
 * Input is case-insensitive; spaces, tabs, line breaks and dashes are ignored anywhere; I and L
 * read as 1, O as 0 (Crockford). U and other characters are refused. A single mistyped
 * character is caught by the 16-bit checksum (or the zero pad bits) except with probability
 * about 2^-16. Failure messages are fixed texts: they never echo the input.
 */
import { bytesEqual } from './bytes.ts';
import { CryptoError } from './errors.ts';
import { hashWithDomain } from './hash.ts';
import type { SymmetricKey } from './keys.ts';

export const RECOVERY_SECRET_LENGTH = 32;
export const RECOVERY_CHECKSUM_LENGTH = 2;
/** ceil((32 + 2) × 8 / 5) */
export const RECOVERY_CODE_CHARS = Math.ceil(((RECOVERY_SECRET_LENGTH + RECOVERY_CHECKSUM_LENGTH) * 8) / 5);
export const RECOVERY_GROUP_SIZE = 4;
export const RECOVERY_DOMAIN = { checksum: 'fhv/recovery/v1', key: 'fhv/recovery-key/v1' } as const;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  DECODE[ALPHABET.charCodeAt(i)] = i;
  DECODE[ALPHABET.toLowerCase().charCodeAt(i)] = i;
}
for (const [alias, value] of [['I', 1], ['L', 1], ['O', 0]] as const) {
  DECODE[alias.charCodeAt(0)] = value;
  DECODE[alias.toLowerCase().charCodeAt(0)] = value;
}
const IGNORED = /[\s-]/;

export type RecoveryCodeErrorCode = 'RECOVERY_MALFORMED' | 'RECOVERY_CHECKSUM';
export type RecoveryCodeResult =
  | { readonly ok: true; readonly value: Uint8Array }
  | { readonly ok: false; readonly code: RecoveryCodeErrorCode; readonly message: string };

/** The only failure messages decodeRecoveryCode returns (no digits, nothing from the input). */
export const RECOVERY_MESSAGES = {
  illegalCharacter: 'recovery code contains a character that is not allowed',
  wrongLength: 'recovery code has the wrong number of characters',
  checksum: 'recovery code does not check out: a character is probably mistyped',
} as const;

function checkSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length !== RECOVERY_SECRET_LENGTH) {
    throw new CryptoError('CRYPTO_BAD_KEY_LENGTH', `recovery secret must be ${RECOVERY_SECRET_LENGTH} bytes`);
  }
}

const checksumOf = (secret: Uint8Array): Uint8Array =>
  hashWithDomain(RECOVERY_DOMAIN.checksum, secret).subarray(0, RECOVERY_CHECKSUM_LENGTH);

export function encodeRecoveryCode(secret: Uint8Array): string {
  checkSecret(secret);
  const data = new Uint8Array(RECOVERY_SECRET_LENGTH + RECOVERY_CHECKSUM_LENGTH);
  data.set(secret);
  data.set(checksumOf(secret), RECOVERY_SECRET_LENGTH);
  let chars = '';
  let acc = 0;
  let bits = 0;
  for (const byte of data) {
    acc = ((acc << 8) | byte) & 0xfff; // at most 4 + 8 live bits
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      chars += ALPHABET[(acc >> bits) & 31];
    }
  }
  if (bits > 0) chars += ALPHABET[(acc << (5 - bits)) & 31]; // zero pad bits
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += RECOVERY_GROUP_SIZE) groups.push(chars.slice(i, i + RECOVERY_GROUP_SIZE));
  return groups.join('-');
}

export function decodeRecoveryCode(text: string): RecoveryCodeResult {
  const values: number[] = [];
  for (const ch of text) {
    if (IGNORED.test(ch)) continue;
    const c = ch.charCodeAt(0);
    const v = ch.length === 1 && c < 128 ? DECODE[c]! : -1;
    if (v < 0) return { ok: false, code: 'RECOVERY_MALFORMED', message: RECOVERY_MESSAGES.illegalCharacter };
    values.push(v);
    if (values.length > RECOVERY_CODE_CHARS) break;
  }
  if (values.length !== RECOVERY_CODE_CHARS) {
    return { ok: false, code: 'RECOVERY_MALFORMED', message: RECOVERY_MESSAGES.wrongLength };
  }
  const data = new Uint8Array(RECOVERY_SECRET_LENGTH + RECOVERY_CHECKSUM_LENGTH);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values) {
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      data[o++] = (acc >> bits) & 0xff;
    }
  }
  // The pad bits of the last character must be zero: a non-zero pad is a mistyped last character.
  const padOk = (acc & ((1 << bits) - 1)) === 0;
  const secret = data.slice(0, RECOVERY_SECRET_LENGTH);
  const sumOk = bytesEqual(checksumOf(secret), data.subarray(RECOVERY_SECRET_LENGTH));
  data.fill(0);
  if (!padOk || !sumOk) {
    secret.fill(0);
    return { ok: false, code: 'RECOVERY_CHECKSUM', message: RECOVERY_MESSAGES.checksum };
  }
  return { ok: true, value: secret };
}

/** Key that wraps identity backups: H("fhv/recovery-key/v1", secret). */
export function deriveRecoveryKey(secret: Uint8Array): SymmetricKey {
  checkSecret(secret);
  return hashWithDomain(RECOVERY_DOMAIN.key, secret) as Uint8Array as SymmetricKey;
}
