/**
 * Compaction: a snapshot of the applied state covering every chain head, which deletes the
 * records it covers in the same envelope transaction (the relay checks the same rule,
 * protocol/envelope-authorization.ts `snapshotCovers`). Everything here reads the index:
 * nothing re-parses the envelope.
 */
import { fromHex, hashWithDomain, toHex } from '../crypto/index.ts';
import { DOMAIN, ZERO_HASH, RecordType, snapshotCovers, type ChainHead as CoverageEntry, type EnvelopeIndex, type SnapshotExt } from '../protocol/index.ts';
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

/**
 * Whether the live records in this index call for a snapshot now under this policy, on the
 * device of `me` (hex signing key; absent: any writer).
 *
 * Several writers editing at once all see the tail cross the threshold within a round trip of
 * each other, and each would seal a snapshot of the whole document: two or three snapshots
 * where one does (S8: half the snapshot bytes were such duplicates, each sent up once and
 * forwarded to every other replica). So under `tail-ratio` one writer of the live tail is
 * designated per snapshot generation (the lowest H(previous snapshot id ‖ author) among the
 * tail's authors, the same on every replica that has seen the same records) and compacts at
 * the threshold; the others only at twice the threshold, in case the designated device went
 * away. Snapshots are an optimisation (any writer's is valid and the relay checks it), so this
 * changes when a snapshot is made, never what is accepted; a cold load's tail is at most twice
 * as long while the designated writer is gone.
 */
export function compactionDue(index: EnvelopeIndex, policy: CompactionPolicy, me?: string): boolean {
  if (policy.kind === 'every') return index.liveCompactable >= policy.records;
  const { tail, tailRecords, snapshots } = index.liveBytes;
  const due = (k: number) => tailRecords >= k * policy.minTailRecords && tail >= k * policy.tailRatio * snapshots;
  if (!due(1)) return false;
  return me === undefined || designatedCompactor(index) === me || due(2);
}

/** The tail author designated to compact next (hex), or undefined when the tail is empty. */
export function designatedCompactor(index: EnvelopeIndex): string | undefined {
  const prev = previousSnapshotId(index);
  const authors = new Set<string>();
  for (const [, record, snapshot] of index.entries()) if (!snapshot && record.header.type === RecordType.update) authors.add(toHex(record.header.author));
  let best: { author: string; rank: string } | undefined;
  for (const author of authors) {
    const rank = toHex(hashWithDomain(DOMAIN.compactor, prev, fromHex(author)));
    if (!best || rank < best.rank) best = { author, rank };
  }
  return best?.author;
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
