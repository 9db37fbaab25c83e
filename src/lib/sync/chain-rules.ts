/**
 * Where a record stands in its author's chain on this replica: pure decisions, no state. The
 * inbox asks `chainStep` for each held record and acts on the answer.
 */
import { effectInSnapshot, prevNames, type ProtocolErrorCode } from '../protocol/index.ts';
import type { ChainHead } from './chain.ts';

export type ChainStep =
  /** A predecessor is missing: hold it. */
  | { readonly kind: 'wait' }
  /** The author's next record: authorise and apply it, then advance the chain. */
  | { readonly kind: 'next' }
  /** Behind a snapshot that carries its effect (an update): nothing to apply. */
  | { readonly kind: 'covered' }
  /**
   * Behind a snapshot that does not carry its effect (membership, lockbox, audit, an unknown
   * type): process that effect, leave the chain where the snapshot put it.
   */
  | { readonly kind: 'covered-kept' }
  | { readonly kind: 'reject'; readonly code: ProtocolErrorCode; readonly message: string };

export interface ChainPosition {
  /** The author's chain head on this replica (lifted by snapshots to what they cover). */
  readonly head: ChainHead;
  /** Highest seq of this author any snapshot this replica accepted covers. */
  readonly coveredSeq: number;
  /** This replica saw this very record deleted by compaction earlier (a re-insert is a replay). */
  readonly seenCompacted: boolean;
}

export function chainStep(record: { readonly type: number; readonly seq: number; readonly prev: Uint8Array }, at: ChainPosition): ChainStep {
  if (record.seq > at.head.seq + 1) return { kind: 'wait' };
  if (record.seq <= at.head.seq) {
    const covered = record.seq <= at.coveredSeq;
    if (covered && !effectInSnapshot(record.type)) return { kind: 'covered-kept' };
    // A record a snapshot already covers, arriving with or after it (its writer never had it
    // live, so did not delete it): its content is in the snapshot.
    if (covered && !at.seenCompacted) return { kind: 'covered' };
    // Re-inserted after this replica saw it compacted: a replay. Otherwise: a fork.
    return covered
      ? { kind: 'reject', code: 'RECORD_REPLAY', message: 'record repeats a seq this author already used' }
      : { kind: 'reject', code: 'RECORD_FORK', message: 'record repeats a seq this author already used' };
  }
  if (!prevNames(record.prev, at.head.head)) return { kind: 'reject', code: 'RECORD_BAD_CHAIN', message: "record does not follow its author's previous record" };
  return { kind: 'next' };
}
