/**
 * Invariant I1 as a client sees it: a record leaves the envelope only under a snapshot that
 * covers it. The inbox notes each record deleted from the envelope and asks, after each drain,
 * whether the deleted ones are covered. Separate from inbox.ts because it judges deletes, not
 * records: it reads the replica's index and never changes it.
 */
import type * as Y from 'yjs';
import { toHex } from '../crypto/index.ts';
import { parseRecord, RecordType, snapshotCovers, snapshotExtOf } from '../protocol/index.ts';
import type { ProblemList } from './problems.ts';
import type { ReplicaState } from './replica-state.ts';
import { hasPending } from './yjs-internals.ts';

export class ErasureCheck {
  /** Records deleted from the envelope, until a snapshot is known to cover them. */
  private readonly erasures = new Map<string, Uint8Array>();

  get size(): number {
    return this.erasures.size;
  }

  /** A record deleted from the envelope (its bytes as they were). */
  note(key: string, bytes: Uint8Array): void {
    this.erasures.set(key, bytes);
  }

  /**
   * Checked once nothing is held, since the covering snapshot may arrive after the delete or
   * wait for a key; an uncovered loss is a visible error, never "synced". Nor while the envelope
   * holds structs Yjs could not integrate yet: a compaction's deletes take effect at once while
   * its snapshot can wait there for an earlier struct (the relay gate holds such updates back,
   * relay-connection.ts; an envelope fed another way must not cry wolf either).
   */
  check(state: ReplicaState, map: Y.Map<Uint8Array>, problems: ProblemList): void {
    if (state.waiting > 0 || (map.doc !== null && hasPending(map.doc))) return;
    for (const [key, bytes] of this.erasures) {
      this.erasures.delete(key);
      const r = parseRecord(bytes, undefined, { unknownTypes: true });
      if (!r.ok) continue; // never a record: nothing of value went
      const target = snapshotExtOf(r.value);
      const covered =
        (r.value.header.type === RecordType.update && state.index.coveredSeq(toHex(r.value.header.author)) >= r.value.header.seq) ||
        state.index.snapshots().some((s) => s !== target && snapshotCovers(s, r.value, target));
      if (!covered) problems.report({ code: 'ENVELOPE_RECORD_ERASED', key, author: toHex(r.value.header.author), message: 'a record left the envelope without a snapshot covering it' });
    }
  }
}
