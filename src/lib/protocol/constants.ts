/**
 * Record format versions. v1 and v2 share one layout; they differ only in the envelope map key
 * the record is stored under (envelope-index.ts `recordKey`): v1 under base64url(id) (43
 * characters), v2 and v3 under base64url of the id's first 16 bytes (22 characters). Yjs keeps
 * every deleted map key for ever, so the shorter key is what each compacted record leaves
 * behind (decision 0023). v3 (decision 0028) drops 60 bytes per record: `prev` is the first 16
 * bytes of the previous id, the header carries no body length, the nonce is 16 random bytes,
 * and the header is bound to the ciphertext by the key (derived per header from the epoch key)
 * instead of by its hash inside the plaintext. Devices write v3; v1 and v2 records (stored
 * before, or sealed offline by an older app) stay valid.
 */
export const RecordVersion = { v1: 1, v2: 2, v3: 3 } as const;
export type RecordVersionCode = (typeof RecordVersion)[keyof typeof RecordVersion];
export const CURRENT_RECORD_VERSION: RecordVersionCode = RecordVersion.v3;
/** Bytes of the record id a v2 map key carries (128 bits: second preimages 2^128, collisions 2^64). */
export const RECORD_KEY_ID_BYTES = 16;
export const MAGIC_0 = 0x46; // 'F'
export const MAGIC_1 = 0x56; // 'V'

/** Record types. A value of one type never verifies as another: the type byte is signed. */
export const RecordType = {
  update: 1,
  snapshot: 2,
  membership: 3,
  lockbox: 4,
  audit: 5,
  presence: 6,
  /** An owner's order to delete the profile everywhere (protocol/erase.ts, decision 0035). */
  erase: 7,
} as const;
export type RecordTypeName = keyof typeof RecordType;
export type RecordTypeCode = (typeof RecordType)[RecordTypeName];
const TYPE_NAMES = new Map<number, RecordTypeName>(Object.entries(RecordType).map(([k, v]) => [v, k as RecordTypeName]));
export const recordTypeName = (code: number): RecordTypeName | undefined => TYPE_NAMES.get(code);


export const DOC_ID_LENGTH = 16;
export const HASH_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const NONCE_LENGTH = 24;
/** Fixed part of the header before ext: magic(2) v(1) type(1) docId(16) epoch(4) author(32) seq(4) prev(32) extLen(2). */
export const HEADER_FIXED_LENGTH = 2 + 1 + 1 + DOC_ID_LENGTH + 4 + PUBLIC_KEY_LENGTH + 4 + HASH_LENGTH + 2;
/** v3 (decision 0028): magic(2) v(1) type(1) docId(16) epoch(4) author(32) seq(4) prev(16) extLen(2); no bodyLen. */
export const PREV_V3_LENGTH = 16;
export const HEADER_V3_FIXED_LENGTH = 2 + 1 + 1 + DOC_ID_LENGTH + 4 + PUBLIC_KEY_LENGTH + 4 + PREV_V3_LENGTH + 2;
/** v3's random nonce on the wire; XSalsa20 gets it followed by 8 zero bytes. */
export const NONCE_V3_LENGTH = 16;
export const MAX_EXT_LENGTH = 65535;
/** Default hard cap on one record (a snapshot of a large profile stays well below). */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

export const DOMAIN = {
  recordSignature: 'fhv/record-sig/v1',
  recordId: 'fhv/record-id/v1',
  headerHash: 'fhv/header/v1',
  /** v3: the secretbox key of one record, H(domain, epochKey ‖ H(headerHash domain, header)). */
  recordKey: 'fhv/record-key/v3',
  docId: 'fhv/doc-id/v1',
  clientId: 'fhv/client-id/v1',
  authToken: 'fhv/auth-token/v1',
  /** Which writer compacts next (sync/compaction.ts): a scheduling hint, never a check. */
  compactor: 'fhv/compactor/v1',
} as const;

export const ZERO_HASH = new Uint8Array(HASH_LENGTH);

/** Largest presence blob (base64url of one presence record) carried in awareness. */
export const MAX_PRESENCE_CHARS = 4096;
