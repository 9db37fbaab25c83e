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
