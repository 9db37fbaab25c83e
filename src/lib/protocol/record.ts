/**
 * Envelope records: the only thing that ever leaves a device. Header layouts: record-layout.ts.
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
  hashWithDomain,
  secretboxOpen,
  secretboxSeal,
  signDetached,
  verifyDetached,
  utf8,
  bytesEqual,
  toHex,
  isAcceptablePublicKey,
  isCanonicalScalar,
  signingKeyPairFromSeed,
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
  DOMAIN,
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
import { pad, padmeLength, unpad } from './padding.ts';
import { encodeHeader, parseLayout } from './record-layout.ts';

export interface RecordHeader {
  readonly type: RecordTypeCode;
  readonly docId: Uint8Array;
  readonly epoch: number;
  readonly author: SigningPublicKey;
  readonly seq: number;
  readonly prev: Uint8Array;
  /** Type-specific cleartext, signed (snapshot coverage, membership entries). */
  readonly ext: Uint8Array;
}

/** Bytes as they arrive from the envelope doc or the wire: nothing is known about them. */
export type RawRecord = Uint8Array & { readonly __brand: 'RawRecord' };

export interface ParsedRecord {
  readonly bytes: Uint8Array;
  /** Record format version (1, 2 or 3): decides the layout and the envelope map key (envelope-index.ts `recordKey`). */
  readonly version: RecordVersionCode;
  readonly header: RecordHeader;
  readonly headerBytes: Uint8Array;
  /** nonce ‖ ciphertext for sealed types, empty otherwise. */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** H(header ‖ body): the record's identity (never the signature bytes). */
  readonly id: Hash32;
}

declare const verifiedBrand: unique symbol;
/** A parsed record whose signature verified. Only these can be opened. */
export type VerifiedRecord = ParsedRecord & { readonly [verifiedBrand]: true };

export interface OpenedRecord {
  readonly record: VerifiedRecord;
  readonly payload: Uint8Array;
}

const SIG_DOMAIN = utf8(DOMAIN.recordSignature);

function checkHeaderFields(h: RecordHeader): void {
  if (h.docId.length !== DOC_ID_LENGTH) throw new RangeError('docId must be 16 bytes');
  if (h.author.length !== PUBLIC_KEY_LENGTH) throw new RangeError('author must be 32 bytes');
  if (h.prev.length !== HASH_LENGTH) throw new RangeError('prev must be 32 bytes');
  if (h.ext.length > MAX_EXT_LENGTH) throw new RangeError('ext too long');
  if (!Number.isInteger(h.seq) || h.seq < 1 || h.seq > 0xffffffff) throw new RangeError('seq must be a u32 >= 1');
  if (!Number.isInteger(h.epoch) || h.epoch < 0 || h.epoch > 0xffffffff) throw new RangeError('epoch must be a u32');
}

export const headerHash = (headerBytes: Uint8Array): Hash32 => hashWithDomain(DOMAIN.headerHash, headerBytes);
export const recordIdOf = (headerBytes: Uint8Array, body: Uint8Array): Hash32 =>
  hashWithDomain(DOMAIN.recordId, headerBytes, body);
/**
 * v3: the secretbox key of the record with this header. Both inputs have fixed lengths (32 + 32
 * bytes after the length-prefixed domain), so SHA-256's length extension yields no other valid
 * input; a member who knows the epoch key can compute it, as it can open the record anyway.
 */
export const recordKeyFor = (epochKey: SymmetricKey, headerBytes: Uint8Array): SymmetricKey =>
  hashWithDomain(DOMAIN.recordKey, epochKey, headerHash(headerBytes)) as Uint8Array as SymmetricKey;
const v3Nonce = (n: Uint8Array): Uint8Array => {
  const nonce = new Uint8Array(NONCE_LENGTH);
  nonce.set(n);
  return nonce;
};

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

/**
 * Signatures this process already found valid, per engine: record id (hex) -> signature bytes.
 * The id is H(header ‖ body), the protocol's record identity: an equal id means equal signed
 * bytes, author included, so an equal signature verifies the same way. A replica checks each
 * record the relay forwards twice (its relay gate, then its sync engine), each a WebCrypto
 * verify on the edit's critical path; the second one is answered from here. Only successes
 * are kept, and a hit needs the exact signature bytes: anything else is verified afresh.
 */
const VERIFIED_LIMIT = 4096;
const verifiedByEngine = new WeakMap<Ed25519Engine, Map<string, Uint8Array>>();

function verifiedCache(engine: Ed25519Engine): Map<string, Uint8Array> {
  let cache = verifiedByEngine.get(engine);
  if (!cache) verifiedByEngine.set(engine, (cache = new Map()));
  return cache;
}

/**
 * Checks under way, per engine: record id (hex) -> the signature bytes and the engine's answer
 * (docs/decisions/0055). A second check of the same id and the exact same signature bytes while
 * the first runs waits for that answer instead of starting another: it is the answer it would
 * get (the cache's rule above). Dropped once answered; only a success reaches the cache.
 */
type Check = { readonly signature: Uint8Array; readonly valid: Promise<boolean> };
const checksByEngine = new WeakMap<Ed25519Engine, Map<string, Check>>();

function checksUnderWay(engine: Ed25519Engine): Map<string, Check> {
  let checks = checksByEngine.get(engine);
  if (!checks) checksByEngine.set(engine, (checks = new Map()));
  return checks;
}

/** Signing keys whose public half is the one their seed derives: key object -> the bytes checked. */
const consistentSigners = new WeakMap<Uint8Array, Uint8Array>();

function signerIsConsistent(secretKey: SigningSecretKey): boolean {
  const checked = consistentSigners.get(secretKey);
  if (checked !== undefined && bytesEqual(checked, secretKey)) return true;
  const derived = signingKeyPairFromSeed(secretKey.subarray(0, 32)).publicKey;
  if (!bytesEqual(derived, secretKey.subarray(32, 64))) return false;
  consistentSigners.set(secretKey, secretKey.slice());
  return true;
}

/**
 * A record this process has just signed is remembered as verified by the engine that signed it
 * (docs/decisions/0027): its replica's relay gate would otherwise spend a WebCrypto verify on
 * it. Only when that verify could not fail: the author is the signing key's public half, that
 * half is the one its seed derives (checked once per key), the key passes the strict key check
 * and S is canonical. An Ed25519 signature made with such a key verifies (RFC 8032). Anything
 * else is not remembered, so it is verified as before.
 */
function rememberOwnSignature(engine: Ed25519Engine, id: Hash32, signature: Signature, secretKey: SigningSecretKey, author: Uint8Array): void {
  if (!bytesEqual(author, secretKey.subarray(32, 64)) || !isCanonicalScalar(signature) || !isAcceptablePublicKey(author)) return;
  if (!signerIsConsistent(secretKey)) return;
  const cache = verifiedCache(engine);
  if (cache.size >= VERIFIED_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(toHex(id), signature.slice());
}

/** Checks the author's signature over domain ‖ header ‖ body (once per record and engine). */
export async function verifyRecord(record: ParsedRecord, engine: Ed25519Engine): Promise<Result<VerifiedRecord>> {
  const cache = verifiedCache(engine);
  // Hashed from the bytes being checked, not taken from `record.id`: the key always names them.
  const id = toHex(recordIdOf(record.headerBytes, record.body));
  const known = cache.get(id);
  if (known !== undefined && bytesEqual(known, record.signature)) return ok(record as VerifiedRecord);
  const checks = checksUnderWay(engine);
  const running = checks.get(id);
  const valid = running !== undefined && bytesEqual(running.signature, record.signature) ? await running.valid : await check(engine, record, id, cache, checks);
  if (!valid) return fail('RECORD_BAD_SIGNATURE', 'record signature does not verify');
  return ok(record as VerifiedRecord);
}

/** One engine call for `record` (id `id`), shared while it runs; a success is remembered. */
async function check(engine: Ed25519Engine, record: ParsedRecord, id: string, cache: Map<string, Uint8Array>, checks: Map<string, Check>): Promise<boolean> {
  const signature = record.signature.slice();
  const valid = verifyDetached(engine, concatBytes(SIG_DOMAIN, record.headerBytes, record.body), signature, record.header.author);
  // Another check of this id with other signature bytes may be running: it keeps its entry.
  const shared = !checks.has(id);
  if (shared) checks.set(id, { signature, valid });
  try {
    if (!(await valid)) return false;
    if (cache.size >= VERIFIED_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(id, signature);
    return true;
  } finally {
    if (shared) checks.delete(id);
  }
}

/**
 * Starts the signature check of `record` and returns at once (docs/decisions/0055): a
 * `verifyRecord` of the same record while it runs waits for this check instead of starting its
 * own, so a caller with other work to do first (a relay gate decoding the whole update) lets the
 * engine's thread run meanwhile. Decides nothing: its answer is only ever used by `verifyRecord`.
 */
export function startVerifying(record: ParsedRecord, engine: Ed25519Engine): void {
  verifyRecord(record, engine).catch(() => undefined);
}

/** Decrypts a verified sealed record with the key its epoch names and checks the bound header hash. */
export function openRecord(record: VerifiedRecord, key: SymmetricKey): Result<OpenedRecord> {
  const payload = payloadOf(record, key);
  return payload.ok ? ok({ record, payload: payload.value }) : payload;
}

/**
 * The payload `openRecord` would return for `record` once verified, computed while its signature
 * is still being checked (docs/decisions/0058). Only for work that decides nothing and whose
 * result is used only after `verifyRecord` passed for these exact bytes (sync/opened-ahead.ts);
 * everything else opens with `openRecord`.
 */
export function openAhead(record: ParsedRecord, key: SymmetricKey): Result<Uint8Array> {
  return payloadOf(record, key);
}

function payloadOf(record: ParsedRecord, key: SymmetricKey): Result<Uint8Array> {
  if (!SEALED_TYPES.has(record.header.type)) return ok(new Uint8Array(0));
  if (record.version === RecordVersion.v3) {
    const n = record.body.subarray(0, NONCE_V3_LENGTH);
    const padded = secretboxOpen(record.body.subarray(NONCE_V3_LENGTH), v3Nonce(n), recordKeyFor(key, record.headerBytes));
    // Under another header the key differs, so the MAC fails: this one code covers a wrong
    // epoch key and a ciphertext moved under another header alike.
    if (padded === null) return fail('RECORD_DECRYPT_FAILED', 'record does not decrypt with its epoch key and header');
    return unpad(padded);
  }
  const nonce = record.body.subarray(0, NONCE_LENGTH);
  const plaintext = secretboxOpen(record.body.subarray(NONCE_LENGTH), nonce, key);
  if (plaintext === null) return fail('RECORD_DECRYPT_FAILED', 'record does not decrypt with its epoch key');
  if (!bytesEqual(plaintext.subarray(0, HASH_LENGTH), headerHash(record.headerBytes))) {
    return fail('RECORD_HEADER_MISMATCH', 'ciphertext was sealed under another header');
  }
  return unpad(plaintext.subarray(HASH_LENGTH));
}

export const isSameDoc = (record: ParsedRecord, docId: Uint8Array): boolean => bytesEqual(record.header.docId, docId);
