/**
 * Compaction: a snapshot of the applied state covering every chain head, which deletes the
 * records it covers in the same envelope transaction (the relay checks the same rule,
 * protocol/envelope.ts `snapshotCovers`). Everything here reads the index: nothing re-parses
 * the envelope.
 */
import { fromHex, toHex } from '../crypto/index.ts';
import { ZERO_HASH, RecordType, snapshotCovers, type ChainHead as CoverageEntry, type EnvelopeIndex, type SnapshotExt } from '../protocol/index.ts';
import type { ChainHead } from './chain.ts';
import type { ReplicaState } from './replica-state.ts';

/**
 * When a writer compacts after sealing one of its own records.
 *
 * - `tail-ratio` (the default): once the live tail (update records since the snapshot) holds at
 *   least `tailRatio` × the live snapshots' bytes, and at least `minTailRecords` records. Each
 *   snapshot is then paid for by a tail at least `tailRatio` times its size, so the snapshot
 *   bytes sealed over a history are at most 1/`tailRatio` × the update bytes sealed: O(n)
 *   amortised, where a fixed record count alone seals the whole growing document every N
 *   records, O(n²). The record floor (the old count) only delays a snapshot, so a small profile
 *   never compacts more often than it did, and the bound still holds. A cold load reads one
 *   snapshot and a tail of at most max(`minTailRecords` records, `tailRatio` × snapshot bytes)
 *   (plus the record that crossed it).
 * - `every`: once this many update/snapshot records are live (the first policy; tests that want
 *   compaction at a known point use it).
 */
export type CompactionPolicy =
  | { readonly kind: 'tail-ratio'; readonly tailRatio: number; readonly minTailRecords: number }
  | { readonly kind: 'every'; readonly records: number };

export const DEFAULT_COMPACTION: CompactionPolicy = { kind: 'tail-ratio', tailRatio: 0.5, minTailRecords: 300 };

/** Whether the live records in this index call for a snapshot now under this policy. */
export function compactionDue(index: EnvelopeIndex, policy: CompactionPolicy): boolean {
  if (policy.kind === 'every') return index.liveCompactable >= policy.records;
  const { tail, tailRecords, snapshots } = index.liveBytes;
  return tailRecords >= policy.minTailRecords && tail >= policy.tailRatio * snapshots;
}

/**
 * What a snapshot written now covers: every author's chain head (the writer's own as `own`
 * says, when its transaction already staged records), after the live snapshot chain.
 */
export function snapshotExtFor(state: ReplicaState, own: { author: string; head: ChainHead }): SnapshotExt {
  const coverage = state.coverage().filter((c) => toHex(c.author) !== own.author);
  if (own.head.seq > 0) coverage.push({ author: fromHex(own.author) as CoverageEntry['author'], seq: own.head.seq, head: own.head.head });
  return { prevSnapshot: previousSnapshotId(state.index), coverage };
}

/** Id of a live snapshot this one follows (zero if none): the chain of snapshots. */
function previousSnapshotId(index: EnvelopeIndex): Uint8Array {
  let prev: Uint8Array = ZERO_HASH;
  for (const [, record] of index.entries()) if (record.header.type === RecordType.snapshot) prev = record.id;
  return prev;
}

/** Keys of the live records a snapshot with this coverage deletes. */
export function coveredKeys(index: EnvelopeIndex, covers: SnapshotExt): string[] {
  const doomed: string[] = [];
  for (const [key, record, snapshot] of index.entries()) if (snapshotCovers(covers, record, snapshot)) doomed.push(key);
  return doomed;
}
