import { asSentence, CodedError } from '../errors.ts';

/**
 * Stable error codes of the envelope protocol (range 100-199 of src/lib/errors.ts). They travel
 * on the wire (the relay's close reasons, blob answers) and sit in status problems, so numbers
 * never change meaning; docs/errors.md lists each with its recovery policy. Codes 190-199 are
 * the sync engine's own, about this device, and never sent by a relay. Messages never carry
 * plaintext, keys or PHI.
 */
export const ProtocolErrors = {
  RECORD_TRUNCATED: 100,
  RECORD_BAD_MAGIC: 101,
  RECORD_BAD_VERSION: 102,
  RECORD_UNKNOWN_TYPE: 103,
  RECORD_TOO_LARGE: 104,
  RECORD_BAD_LENGTH: 105,
  RECORD_BAD_EXT: 106,
  RECORD_BAD_SIGNATURE: 110,
  RECORD_WRONG_DOC: 111,
  RECORD_UNKNOWN_EPOCH: 112,
  RECORD_DECRYPT_FAILED: 113,
  RECORD_HEADER_MISMATCH: 114,
  RECORD_BAD_PADDING: 115,
  RECORD_BAD_PAYLOAD: 116,
  RECORD_KEY_MISMATCH: 117,
  RECORD_NOT_MEMBER: 120,
  RECORD_NOT_WRITER: 121,
  RECORD_NOT_ADMIN: 122,
  RECORD_EXPIRED_MEMBER: 123,
  INVITE_USED: 124,
  INVITE_EXPIRED: 125,
  DEVICE_BAD_CERT: 126,
  INVITE_BAD_PROOF: 127, // accept not signed by the key it binds
  INVITE_KEY_TAKEN: 128, // accept names a member, device or invite key
  DEVICE_KEY_TAKEN: 129, // device certificate names a member, device or invite key
  RECORD_REPLAY: 130,
  RECORD_FORK: 131,
  RECORD_GAP: 132,
  RECORD_BAD_CHAIN: 133,
  RECORD_LAST_OWNER: 134, // a membership op that would leave the profile without an owner
  RECORD_CLIENTID_NOT_OWNED: 140,
  RECORD_BAD_UPDATE: 141,
  ENVELOPE_BAD_UPDATE: 150,
  ENVELOPE_BAD_STRUCT: 151,
  ENVELOPE_DELETE_NOT_COVERED: 152,
  ENVELOPE_TOO_LARGE: 153,
  ENVELOPE_NO_GENESIS: 154,
  ENVELOPE_KEY_EXISTS: 155,
  ENVELOPE_GAP: 156,
  ENVELOPE_DELETE_UNKNOWN: 157,
  ENVELOPE_CLIENT_NOT_OWNED: 158,
  ENVELOPE_RECORD_ERASED: 159,
  TOKEN_MALFORMED: 160,
  TOKEN_BAD_SIGNATURE: 161,
  TOKEN_EXPIRED: 162,
  TOKEN_WRONG_DOC: 163,
  TOKEN_NOT_MEMBER: 164,
  RELAY_REFUSED: 170,
  RELAY_RATE_LIMITED: 171,
  /** An erase record's ext is not `erasedAt(u48)` (protocol/erase.ts). */
  ERASE_MALFORMED: 177,
  /** A tombstone a relay gave for an erased profile does not verify against this device's copy (not an owner's, another doc). */
  ERASE_TOMBSTONE_INVALID: 178,
  /** The profile was erased by an owner: the relay refuses every request for it, for good. */
  PROFILE_ERASED: 179,
  AUDIT_MALFORMED: 180,
  AUDIT_BAD_SIGNATURE: 181,
  AUDIT_OUT_OF_ORDER: 182,
  AUDIT_BROKEN_CHAIN: 183,
  AUDIT_TIME_REVERSED: 184,
  AUDIT_UNAUTHORIZED: 185,
  PRESENCE_TOO_LARGE: 186,
  /** This device could not seal its own queued edits into a record (a local crypto or storage failure). */
  SYNC_SEAL_FAILED: 190,
  SYNC_SWEEP_FAILED: 191,
  /** This device's sealed plain-state cache could not be opened (tampered, wrong key, damaged); ignored. */
  SYNC_CACHE_UNREADABLE: 198,
  /** The plain-state cache held content the verified envelope does not (never kept: rebuilt from the envelope). */
  SYNC_CACHE_MISMATCH: 199,
} as const;

export type ProtocolErrorCode = keyof typeof ProtocolErrors;

export interface Failure {
  readonly ok: false;
  readonly code: ProtocolErrorCode;
  /** Human-readable, free of PHI and key material. */
  readonly message: string;
}
export type Result<T> = { readonly ok: true; readonly value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ProtocolErrorCode, message: string): Failure => ({ ok: false, code, message: asSentence(message) });

/** Thrown form of a Failure, for callers (relay hooks, CLI) that need an exception. */
export class ProtocolError extends CodedError<ProtocolErrorCode> {
  constructor(failure: Failure) {
    super(failure.code, ProtocolErrors[failure.code], `${failure.code} (${ProtocolErrors[failure.code]}): ${failure.message}`);
  }
}
