/**
 * The shapes of a record as the codec hands it on: header fields, parsed, verified, opened. Apart
 * from record.ts so the signature and opening modules (which record.ts imports) can name them
 * without importing it back.
 */
import type { Hash32, SigningPublicKey } from '../crypto/index.ts';
import type { RecordTypeCode, RecordVersionCode } from './constants.ts';

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
