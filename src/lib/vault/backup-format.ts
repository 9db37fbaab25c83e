/**
 * The backup archive's container, format v1 (docs/decisions/0033-backup-archive.md). Pure:
 * randomness is injected, nothing touches the disk, the network or the clock.
 *
 *   header  = magic "FHVBAK" ‖ version u16 (=1) ‖ kdf u8 (=0: none) ‖ reserved u8 (=0)
 *             ‖ chunkSize u32 ‖ salt(16) ‖ noncePrefix(19) ‖ check(16)                 65 bytes, big-endian
 *   key     = H("fhv/backup-key/v1", secret ‖ header)
 *   check   = H("fhv/backup-check/v1", secret ‖ salt)[0..16)
 *   chunk i = len u32 ‖ XSalsa20-Poly1305(body[i·chunkSize ..], noncePrefix ‖ i u32 ‖ last u8, key)
 *
 * The secret is the 32-byte identity seed the recovery code spells (256 bits): no password KDF
 * is needed, a hash separates the domains. The whole header is hashed into the key, so an edited
 * header byte is a failed open; the check value tells a wrong code from a damaged file before any
 * chunk is tried; the chunk index and the last-chunk flag in each nonce refuse reordered, dropped
 * or appended chunks.
 */
import { bytesEqual, concatBytes, hashWithDomain, secretboxOpen, secretboxSeal, secureRandom, SECRETBOX_OVERHEAD, utf8, type RandomSource, type SymmetricKey } from '../crypto/index.ts';
import { VaultError } from './errors.ts';

export const BACKUP_MAGIC = utf8('FHVBAK');
export const BACKUP_VERSION = 1;
/** KDF id 0: none (the secret has 256 bits of entropy). Any other id is a later version's. */
export const BACKUP_KDF_NONE = 0;
export const BACKUP_HEADER_LENGTH = 65;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Read limits, checked before anything is allocated for a chunk. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const SALT_LENGTH = 16;
const NONCE_PREFIX_LENGTH = 19;
const CHECK_LENGTH = 16;

export interface SealOptions {
  readonly random?: RandomSource;
  readonly chunkSize?: number;
  /** Called after each sealed chunk (done, total) bytes of plaintext. */
  readonly progress?: (done: number, total: number) => void;
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

function chunkNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(24);
  nonce.set(prefix);
  new DataView(nonce.buffer).setUint32(NONCE_PREFIX_LENGTH, index);
  nonce[23] = last ? 1 : 0;
  return nonce;
}

const backupKey = (secret: Uint8Array, header: Uint8Array): SymmetricKey => hashWithDomain('fhv/backup-key/v1', secret, header) as Uint8Array as SymmetricKey;
const checkValue = (secret: Uint8Array, salt: Uint8Array): Uint8Array => hashWithDomain('fhv/backup-check/v1', secret, salt).slice(0, CHECK_LENGTH);

/** Seals `body` under the secret (draws: salt(16), then noncePrefix(19)). */
export function sealArchive(secret: Uint8Array, body: Uint8Array, o: SealOptions = {}): Uint8Array {
  const random = o.random ?? secureRandom;
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new RangeError('chunk size out of range');
  const salt = random(SALT_LENGTH);
  const prefix = random(NONCE_PREFIX_LENGTH);
  const header = new Uint8Array(BACKUP_HEADER_LENGTH);
  const view = new DataView(header.buffer);
  header.set(BACKUP_MAGIC, 0);
  view.setUint16(6, BACKUP_VERSION);
  header[8] = BACKUP_KDF_NONE;
  header[9] = 0;
  view.setUint32(10, chunkSize);
  header.set(salt, 14);
  header.set(prefix, 30);
  header.set(checkValue(secret, salt), 49);
  const key = backupKey(secret, header);
  const parts: Uint8Array[] = [header];
  const count = Math.max(1, Math.ceil(body.length / chunkSize));
  for (let i = 0; i < count; i++) {
    const plain = body.subarray(i * chunkSize, Math.min(body.length, (i + 1) * chunkSize));
    const sealed = secretboxSeal(plain, chunkNonce(prefix, i, i === count - 1), key);
    parts.push(u32(sealed.length), sealed);
    o.progress?.(Math.min(body.length, (i + 1) * chunkSize), body.length);
  }
  return concatBytes(...parts);
}

/**
 * Opens an archive, or throws a VaultError: BACKUP_NOT_AN_ARCHIVE (no magic, or shorter than a
 * header), BACKUP_VERSION (a version or KDF this build does not read), BACKUP_WRONG_CODE (the
 * check value does not match this secret), BACKUP_DAMAGED (cut short, altered, reordered or
 * extended). Nothing is returned unless every chunk opened.
 */
export function openArchive(secret: Uint8Array, file: Uint8Array, o: { progress?: (done: number, total: number) => void } = {}): Uint8Array {
  if (file.length < BACKUP_MAGIC.length || !bytesEqual(file.subarray(0, BACKUP_MAGIC.length), BACKUP_MAGIC)) {
    throw new VaultError('BACKUP_NOT_AN_ARCHIVE', 'this file is not a family vault backup');
  }
  if (file.length < BACKUP_HEADER_LENGTH) throw new VaultError('BACKUP_DAMAGED', 'the backup file is cut short');
  const header = file.slice(0, BACKUP_HEADER_LENGTH);
  const view = new DataView(header.buffer);
  if (view.getUint16(6) !== BACKUP_VERSION || header[8] !== BACKUP_KDF_NONE || header[9] !== 0) {
    throw new VaultError('BACKUP_VERSION', 'this backup was made by another version of the app');
  }
  const chunkSize = view.getUint32(10);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new VaultError('BACKUP_DAMAGED', 'the backup file is damaged (header)');
  if (!bytesEqual(checkValue(secret, header.subarray(14, 30)), header.subarray(49, 65))) {
    throw new VaultError('BACKUP_WRONG_CODE', 'this recovery code does not open this backup');
  }
  const key = backupKey(secret, header);
  const prefix = header.subarray(30, 49);
  const damaged = () => new VaultError('BACKUP_DAMAGED', 'the backup file is damaged or was altered');
  const plains: Uint8Array[] = [];
  let at = BACKUP_HEADER_LENGTH;
  for (let i = 0; ; i++) {
    if (at + 4 > file.length) throw damaged();
    const len = new DataView(file.buffer, file.byteOffset + at, 4).getUint32(0);
    if (len < SECRETBOX_OVERHEAD || len > chunkSize + SECRETBOX_OVERHEAD || at + 4 + len > file.length) throw damaged();
    const sealed = file.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    const last = at === file.length;
    const plain = secretboxOpen(sealed, chunkNonce(prefix, i, last), key);
    // A chunk sealed as last followed by more bytes, or a non-last one at the end, fails here.
    if (!plain) throw damaged();
    plains.push(plain);
    o.progress?.(at, file.length);
    if (last) break;
  }
  return concatBytes(...plains);
}
