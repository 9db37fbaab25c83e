/**
 * The order membership ops fold in. `clock` is a Lamport clock (1 + the highest clock the author
 * had seen), so the order (clock, author, seq) respects causality: an accept comes after its
 * invite, a change after the grant that allowed it; concurrent admin actions are ordered by
 * author key, the same everywhere. Its own module so the relay, the ingest and the fold
 * (membership.ts) share one rule for it.
 */
import { toHex } from '../crypto/index.ts';
import { RecordType } from './constants.ts';
import { KIND_CODES } from './membership-codec.ts';
import type { Entry } from './membership-state.ts';
import type { ParsedRecord } from './record.ts';

/** Clock of a membership record straight from its ext (genesis sorts first). */
function clockOf(record: ParsedRecord): number {
  const ext = record.header.ext;
  if (ext.length < 5 || ext[0] === KIND_CODES.genesis) return -1;
  return new DataView(ext.buffer, ext.byteOffset, ext.byteLength).getUint32(1);
}

/**
 * The order membership records must be checked in, wherever they arrive together (relay index
 * rebuild, an update's new records, a client batch): genesis, then causal (clock), then a
 * deterministic tie-break. Non-membership records sort after all membership records.
 */
export function compareForMembership(a: ParsedRecord, b: ParsedRecord): number {
  const am = a.header.type === RecordType.membership;
  const bm = b.header.type === RecordType.membership;
  if (am !== bm) return am ? -1 : 1;
  if (am) {
    const d = clockOf(a) - clockOf(b);
    if (d !== 0) return d;
    const ka = toHex(a.header.author);
    const kb = toHex(b.header.author);
    if (ka !== kb) return ka < kb ? -1 : 1;
  }
  return a.header.seq - b.header.seq;
}

/** The fold's order of decoded entries: the same (clock, author, seq) on the op's own clock. */
export const compareEntries = (a: Entry, b: Entry): number => {
  if (a.op.clock !== b.op.clock) return a.op.clock - b.op.clock;
  const ka = toHex(a.record.header.author);
  const kb = toHex(b.record.header.author);
  return ka < kb ? -1 : ka > kb ? 1 : a.record.header.seq - b.record.header.seq;
};
