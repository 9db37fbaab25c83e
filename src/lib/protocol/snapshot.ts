/**
 * Snapshot ext (cleartext, signed): which records a snapshot covers, so the relay can check that
 * a delete removes only covered records, and clients can continue each author's chain after it.
 *   ext = prevSnapshot(32) ‖ count(u16) ‖ count × (author(32) ‖ seq(u32) ‖ head(32))   sorted by author
 */
import { bytesEqual, toHex, type SigningPublicKey } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { HASH_LENGTH, PUBLIC_KEY_LENGTH } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';

export interface ChainHead {
  readonly author: SigningPublicKey;
  /** Highest seq covered; every record of this author with seq <= this is inside the snapshot. */
  readonly seq: number;
  /** Id of that record, so the author's chain continues verifiably after the snapshot. */
  readonly head: Uint8Array;
}

export interface SnapshotExt {
  readonly prevSnapshot: Uint8Array;
  readonly coverage: readonly ChainHead[];
}

const compareKeys = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
};

export function encodeSnapshotExt(ext: SnapshotExt): Uint8Array {
  const sorted = [...ext.coverage].sort((a, b) => compareKeys(a.author, b.author));
  const w = new ByteWriter().bytes(ext.prevSnapshot).u16(sorted.length);
  for (const c of sorted) w.bytes(c.author).u32(c.seq).bytes(c.head);
  return w.finish();
}

export function decodeSnapshotExt(bytes: Uint8Array): Result<SnapshotExt> {
  const r = new ByteReader(bytes);
  const prevSnapshot = r.take(HASH_LENGTH);
  const count = r.u16();
  if (prevSnapshot === null || count === null) return fail('RECORD_BAD_EXT', 'snapshot ext truncated');
  const coverage: ChainHead[] = [];
  for (let i = 0; i < count; i++) {
    const author = r.take(PUBLIC_KEY_LENGTH);
    const seq = r.u32();
    const head = r.take(HASH_LENGTH);
    if (author === null || seq === null || head === null) return fail('RECORD_BAD_EXT', 'snapshot coverage truncated');
    const prev = coverage[i - 1];
    if (prev && compareKeys(prev.author, author) >= 0) return fail('RECORD_BAD_EXT', 'snapshot coverage not sorted');
    coverage.push({ author: author as SigningPublicKey, seq, head });
  }
  if (r.remaining !== 0) return fail('RECORD_BAD_EXT', 'trailing bytes in snapshot ext');
  return ok({ prevSnapshot, coverage });
}

export function coveredSeq(ext: SnapshotExt, author: Uint8Array): number {
  for (const c of ext.coverage) if (bytesEqual(c.author, author)) return c.seq;
  return 0;
}

export const coverageMap = (ext: SnapshotExt): Map<string, ChainHead> =>
  new Map(ext.coverage.map((c) => [toHex(c.author), c]));
