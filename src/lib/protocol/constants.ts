export const PROTOCOL_VERSION = 1;
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
export const MAX_EXT_LENGTH = 65535;
/** Default hard cap on one record (a snapshot of a large profile stays well below). */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

export const DOMAIN = {
  recordSignature: 'fhv/record-sig/v1',
  recordId: 'fhv/record-id/v1',
  headerHash: 'fhv/header/v1',
  docId: 'fhv/doc-id/v1',
  clientId: 'fhv/client-id/v1',
  authToken: 'fhv/auth-token/v1',
} as const;

export const ZERO_HASH = new Uint8Array(HASH_LENGTH);

/** Largest presence blob (base64url of one presence record) carried in awareness. */
export const MAX_PRESENCE_CHARS = 4096;
