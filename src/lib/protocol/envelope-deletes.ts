/**
 * The gate's check of an update's delete set (invariants I1 and I3): what it deletes must be
 * integrated, and a live record may go only under a snapshot that covers it. Separate from the
 * gate (envelope.ts) because it reads the index as the update's records would leave it
 * (EnvelopeIndexOverlay), after those records are judged.
 */
import type * as Y from 'yjs';
import { fail, ok, type Result } from './errors.ts';
import type { EnvelopeIndex } from './envelope-index.ts';
import { snapshotCovers } from './envelope-authorization.ts';
import type { EnvelopeIndexOverlay } from './envelope-overlay.ts';

/** I1 and I3 for the delete set: only integrated items, and live records only under a snapshot. */
export function checkDeletes(ds: ReturnType<typeof Y.decodeUpdate>['ds'], index: EnvelopeIndex, staged: EnvelopeIndexOverlay, stateAfter: (client: number) => number): Result<string[]> {
  const deleted: string[] = [];
  const snapshots = [...index.snapshots(), ...staged.newSnapshots()];
  for (const [client, ranges] of ds.clients) {
    const known = stateAfter(client);
    for (const { clock, len } of ranges) {
      if (clock + len > known) return fail('ENVELOPE_DELETE_UNKNOWN', 'delete of items the document does not have');
      for (const target of staged.recordsIn(client, clock, len)) {
        const covering = snapshots.some((s) => snapshotCovers(s, target.record, target.snapshot));
        if (!covering) return fail('ENVELOPE_DELETE_NOT_COVERED', 'delete of a record no snapshot covers');
        deleted.push(target.key);
      }
    }
  }
  return ok(deleted);
}
