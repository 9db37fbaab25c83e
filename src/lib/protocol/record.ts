/**
 * Envelope records: the only thing that ever leaves a device. Header layouts: record-layout.ts.
 * This module seals and parses; the record shapes (record-shapes.ts), what the bytes derive
 * (record-hashes.ts), signatures (record-signatures.ts) and opening (record-opening.ts) live
 * beside it and are re-exported from here.
 *
 *   v1, v2: body = nonce(24) ‖ secretbox(headerHash ‖ pad(payload), nonce, epochKey)
 *   v3:     body = n(16) ‖ secretbox(pad(payload), n ‖ 0^8, recordKey),
 *           recordKey = H("fhv/record-key/v3", epochKey ‖ headerHash)        (sealed types)
 *   cleartext types: body empty (all in ext)
 *   record = header ‖ body ‖ sig,  sig = Ed25519(domain ‖ header ‖ body)
 *
 * secretbox has no associated data and is not key-committing, so context is bound three ways:
 * the header is signed; the ciphertext opens only under the header it was sealed with (v1/v2:
 * the header's hash is inside the plaintext; v3: the key is derived from it, so the MAC fails
 * under any other header); and the epoch names exactly one key. Parsing, verifying and
 * opening are separate pure steps; each returns a typed Result.
 */
import {
  concatBytes,
  secretboxSeal,
  signDetached,
  bytesEqual,
  type Ed25519Engine,
  type Hash32,
  type RandomSource,
  type Signature,
  type SigningPublicKey,
  type SigningSecretKey,
  type SymmetricKey,
} from '../crypto/index.ts';
import {
  DEFAULT_MAX_RECORD_BYTES,
  DOC_ID_LENGTH,
  HASH_LENGTH,
  HEADER_V3_FIXED_LENGTH,
  MAGIC_0,
  MAGIC_1,
  MAX_EXT_LENGTH,
  NONCE_LENGTH,
  NONCE_V3_LENGTH,
  CURRENT_RECORD_VERSION,
  PUBLIC_KEY_LENGTH,
  RecordVersion,
  SIGNATURE_LENGTH,
  recordTypeName,
  type RecordTypeCode,
  type RecordVersionCode,
} from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import { SEALED_TYPES } from './record-types.ts';
import { pad, padmeLength } from './padding.ts';
import { encodeHeader, parseLayout } from './record-layout.ts';
import { headerHash, recordIdOf, recordKeyFor, v3Nonce } from './record-hashes.ts';
import { rememberOwnSignature, SIG_DOMAIN } from './record-signatures.ts';
import type { ParsedRecord, RecordHeader, VerifiedRecord } from './record-shapes.ts';

export type { OpenedRecord, ParsedRecord, RawRecord, RecordHeader, VerifiedRecord } from './record-shapes.ts';
export { headerHash, recordIdOf, recordKeyFor } from './record-hashes.ts';
export { startVerifying, verifyRecord } from './record-signatures.ts';
export { openAhead, openRecord } from './record-opening.ts';

function checkHeaderFields(h: RecordHeader): void {
  if (h.docId.length !== DOC_ID_LENGTH) throw new RangeError('docId must be 16 bytes');
  if (h.author.length !== PUBLIC_KEY_LENGTH) throw new RangeError('author must be 32 bytes');
  if (h.prev.length !== HASH_LENGTH) throw new RangeError('prev must be 32 bytes');
  if (h.ext.length > MAX_EXT_LENGTH) throw new RangeError('ext too long');
  if (!Number.isInteger(h.seq) || h.seq < 1 || h.seq > 0xffffffff) throw new RangeError('seq must be a u32 >= 1');
  if (!Number.isInteger(h.epoch) || h.epoch < 0 || h.epoch > 0xffffffff) throw new RangeError('epoch must be a u32');
}

export interface SealOptions {
  readonly header: RecordHeader;
  /** Required for sealed types; must be empty for cleartext types. */
  readonly payload: Uint8Array;
  readonly key?: SymmetricKey;
  readonly secretKey: SigningSecretKey;
  readonly engine: Ed25519Engine;
  readonly random: RandomSource;
  /** Record format; the current one unless a test reproduces an older app's record. */
  readonly version?: RecordVersionCode;
}

export interface SealedRecord {
  readonly bytes: Uint8Array;
  readonly id: Hash32;
  /** `parseRecord(bytes)`'s answer, parsed once here (docs/decisions/0058): `parseOwnRecord` returns it. */
  readonly parsed: Result<ParsedRecord>;
}

/** Encrypts (if the type is sealed), signs and encodes one record. */
export async function sealRecord(o: SealOptions): Promise<SealedRecord> {
  checkHeaderFields(o.header);
  const sealed = SEALED_TYPES.has(o.header.type);
  const version = o.version ?? CURRENT_RECORD_VERSION;
  let headerBytes: Uint8Array;
  let body: Uint8Array;
  if (sealed) {
    if (!o.key) throw new TypeError('a sealed record type needs an epoch key');
    if (version === RecordVersion.v3) {
      headerBytes = encodeHeader(o.header, 0, version);
      // 128 random bits under a key that only this header has: a repeat needs the same
      // author, seq, prev and epoch and then a 2^-128 coincidence.
      const n = o.random(NONCE_V3_LENGTH);
      body = concatBytes(n, secretboxSeal(pad(o.payload), v3Nonce(n), recordKeyFor(o.key, headerBytes)));
    } else {
      const bodyLength = NONCE_LENGTH + 16 + HASH_LENGTH + padmeLength(o.payload.length + 4);
      headerBytes = encodeHeader(o.header, bodyLength, version);
      const nonce = o.random(NONCE_LENGTH);
      const plaintext = concatBytes(headerHash(headerBytes), pad(o.payload));
      body = concatBytes(nonce, secretboxSeal(plaintext, nonce, o.key));
    }
  } else {
    if (o.payload.length !== 0) throw new TypeError('cleartext record types carry everything in ext');
    headerBytes = encodeHeader(o.header, 0, version);
    body = new Uint8Array(0);
  }
  // The engine signs (WebCrypto: on another thread) while this one hashes the record's id.
  const signing = signDetached(o.engine, concatBytes(SIG_DOMAIN, headerBytes, body), o.secretKey);
  const id = recordIdOf(headerBytes, body);
  const signature: Signature = await signing;
  rememberOwnSignature(o.engine, id, signature, o.secretKey, o.header.author);
  const bytes = concatBytes(headerBytes, body, signature);
  // Parsed from its final bytes as any reader would, except for the id: hashed above from the
  // same header and body bytes, so not hashed a second time (docs/decisions/0058).
  return { bytes, id, parsed: parse(bytes, DEFAULT_MAX_RECORD_BYTES, {}, id) };
}

/**
 * Structural parse: lengths, magic, version, type. No crypto. A type this version does not know
 * is refused unless `unknownTypes` is set: a replica keeps a newer app's records (and follows
 * its author's chain through them) without knowing what they mean; the relay never takes them.
 */
export function parseRecord(bytes: Uint8Array, maxBytes = DEFAULT_MAX_RECORD_BYTES, o: { unknownTypes?: boolean } = {}): Result<ParsedRecord> {
  return parse(bytes, maxBytes, o, undefined);
}

/** `parseRecord`; `knownId` only from `sealRecord`, which hashed it from these header and body bytes. */
function parse(bytes: Uint8Array, maxBytes: number, o: { unknownTypes?: boolean }, knownId: Hash32 | undefined): Result<ParsedRecord> {
  if (!(bytes instanceof Uint8Array)) return fail('RECORD_BAD_LENGTH', 'record is not binary');
  if (bytes.length > maxBytes) return fail('RECORD_TOO_LARGE', `record exceeds ${maxBytes} bytes`);
  if (bytes.length < HEADER_V3_FIXED_LENGTH + SIGNATURE_LENGTH) return fail('RECORD_TRUNCATED', 'record shorter than a header');
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return fail('RECORD_BAD_MAGIC', 'not an envelope record');
  const version = bytes[2]!;
  if (version !== RecordVersion.v1 && version !== RecordVersion.v2 && version !== RecordVersion.v3) return fail('RECORD_BAD_VERSION', `unsupported record version ${version}`);
  const type = bytes[3]!;
  const known = recordTypeName(type) !== undefined;
  if (!known && !o.unknownTypes) return fail('RECORD_UNKNOWN_TYPE', `unknown record type ${type}`);
  const layout = parseLayout(bytes);
  if (!layout.ok) return layout;
  const { headerLength, bodyLength, fields } = layout.value;
  const sealed = SEALED_TYPES.has(type);
  const minBody = version === RecordVersion.v3 ? NONCE_V3_LENGTH + 16 + 4 : NONCE_LENGTH + 16 + HASH_LENGTH + 4;
  if (known && sealed && bodyLength < minBody) return fail('RECORD_BAD_LENGTH', 'sealed body too short');
  if (known && !sealed && bodyLength !== 0) return fail('RECORD_BAD_LENGTH', 'cleartext record with a body');
  if (fields.seq < 1) return fail('RECORD_BAD_LENGTH', 'seq must start at 1');
  const headerBytes = bytes.subarray(0, headerLength);
  const body = bytes.subarray(headerLength, headerLength + bodyLength);
  return ok({
    bytes,
    version: layout.value.version,
    header: { ...fields, type: type as RecordTypeCode, author: fields.author as SigningPublicKey },
    headerBytes,
    body,
    signature: bytes.subarray(headerLength + bodyLength),
    id: knownId ?? recordIdOf(headerBytes, body),
  });
}

/**
 * A record this process sealed a moment ago with its own signing key: verified by construction
 * (the only place besides `verifyRecord` that makes a VerifiedRecord).
 */
export function parseOwnRecord(sealed: SealedRecord): Result<VerifiedRecord> {
  const parsed = sealed.parsed;
  return parsed.ok ? ok(parsed.value as VerifiedRecord) : parsed;
}

export const isSameDoc = (record: ParsedRecord, docId: Uint8Array): boolean => bytesEqual(record.header.docId, docId);
