/**
 * Where each field of a record sits, per format version (docs/protocol.md §2). The version byte
 * (signed, inside the id) decides the layout; sealing lives in record.ts, opening in record-opening.ts.
 *
 *   v1, v2: 'FV' ‖ v ‖ type ‖ docId(16) ‖ epoch(u32) ‖ author(32) ‖ seq(u32) ‖ prev(32) ‖ extLen(u16) ‖ ext ‖ bodyLen(u32)
 *   v3:     'FV' ‖ v ‖ type ‖ docId(16) ‖ epoch(u32) ‖ author(32) ‖ seq(u32) ‖ prev(16) ‖ extLen(u16) ‖ ext
 *
 * v3's body runs from the header to the signature (the last 64 bytes): the record's length,
 * which the envelope map stores anyway, is its only length field.
 */
import { bytesEqual } from '../crypto/index.ts';
import { DOC_ID_LENGTH, HASH_LENGTH, HEADER_FIXED_LENGTH, HEADER_V3_FIXED_LENGTH, MAGIC_0, MAGIC_1, PREV_V3_LENGTH, RecordVersion, SIGNATURE_LENGTH, type RecordVersionCode } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';

export interface HeaderFields {
  readonly type: number;
  readonly docId: Uint8Array;
  readonly epoch: number;
  readonly author: Uint8Array;
  readonly seq: number;
  /** The previous record's whole id (32 bytes) when sealing; as stored when parsed (v3: its first 16 bytes). */
  readonly prev: Uint8Array;
  readonly ext: Uint8Array;
}

export const prevLength = (version: RecordVersionCode): number => (version === RecordVersion.v3 ? PREV_V3_LENGTH : HASH_LENGTH);

/**
 * Whether a record's `prev` names the record with this whole id: v1/v2 carry the whole id, v3
 * its first 16 bytes (pointing a chain at another record of the same author under that prefix
 * needs a 128-bit second preimage; the author's own two records at one seq are a fork anyway).
 */
export function prevNames(prev: Uint8Array, id: Uint8Array): boolean {
  if (prev.length === HASH_LENGTH) return bytesEqual(prev, id);
  return prev.length === PREV_V3_LENGTH && bytesEqual(prev, id.subarray(0, PREV_V3_LENGTH));
}

export function encodeHeader(h: HeaderFields, bodyLength: number, version: RecordVersionCode): Uint8Array {
  const v3 = version === RecordVersion.v3;
  const fixed = v3 ? HEADER_V3_FIXED_LENGTH : HEADER_FIXED_LENGTH;
  const out = new Uint8Array(fixed + h.ext.length + (v3 ? 0 : 4));
  const view = new DataView(out.buffer);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = version;
  out[3] = h.type;
  out.set(h.docId, 4);
  view.setUint32(20, h.epoch);
  out.set(h.author, 24);
  view.setUint32(56, h.seq);
  out.set(h.prev.subarray(0, prevLength(version)), 60);
  view.setUint16(fixed - 2, h.ext.length);
  out.set(h.ext, fixed);
  if (!v3) view.setUint32(fixed + h.ext.length, bodyLength);
  return out;
}

export interface Layout {
  readonly version: RecordVersionCode;
  readonly fields: HeaderFields;
  readonly headerLength: number;
  readonly bodyLength: number;
}

/** Lengths and fields of a record whose magic was checked; no crypto, no type rules. */
export function parseLayout(bytes: Uint8Array): Result<Layout> {
  const version = bytes[2]!;
  if (version !== RecordVersion.v1 && version !== RecordVersion.v2 && version !== RecordVersion.v3) return fail('RECORD_BAD_VERSION', `unsupported record version ${version}`);
  const v3 = version === RecordVersion.v3;
  const fixed = v3 ? HEADER_V3_FIXED_LENGTH : HEADER_FIXED_LENGTH;
  if (bytes.length < fixed + (v3 ? 0 : 4) + SIGNATURE_LENGTH) return fail('RECORD_TRUNCATED', 'record shorter than a header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const extLength = view.getUint16(fixed - 2);
  const headerLength = fixed + extLength + (v3 ? 0 : 4);
  if (bytes.length < headerLength + SIGNATURE_LENGTH) return fail('RECORD_TRUNCATED', 'record shorter than its header');
  const bodyLength = v3 ? bytes.length - headerLength - SIGNATURE_LENGTH : view.getUint32(headerLength - 4);
  if (bytes.length !== headerLength + bodyLength + SIGNATURE_LENGTH) return fail('RECORD_BAD_LENGTH', 'record length does not match its header');
  return ok({
    version,
    headerLength,
    bodyLength,
    fields: {
      type: bytes[3]!,
      docId: bytes.subarray(4, 4 + DOC_ID_LENGTH),
      epoch: view.getUint32(20),
      author: bytes.subarray(24, 56),
      seq: view.getUint32(56),
      prev: bytes.subarray(60, 60 + prevLength(version)),
      ext: bytes.subarray(fixed, fixed + extLength),
    },
  });
}
