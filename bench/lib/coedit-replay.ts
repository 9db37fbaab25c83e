/**
 * One author's part of an S8 replay, the same code whether the author's replica lives in the
 * benchmark's process or in a worker of its own (coedit-worker.ts): each of the author's txns is
 * applied as a local transaction on its replica once that replica has every parent txn, with a
 * setImmediate yield every CHUNK txns. Returns how long each waiting txn waited.
 */
import * as Y from 'yjs';
import { now, tick } from './common.ts';
import { seen, type PlannedTxn } from './concurrent-trace.ts';

export const CHUNK = 500;
/** Origin of replayed edits: a local transaction, like a keystroke (not the providers' or the engine's). */
const REPLAY = Symbol('bench:replay');

export async function replayAgent(doc: Y.Doc, plan: readonly PlannedTxn[], mine: readonly number[]): Promise<number[]> {
  const waited: number[] = [];
  let wake: (() => void) | undefined;
  const onUpdate = () => wake?.();
  doc.on('update', onUpdate);
  try {
    const ready = (t: PlannedTxn) => t.parents.every((p) => seen(doc, plan[p]!));
    let applied = 0;
    for (const i of mine) {
      const t = plan[i]!;
      if (!ready(t)) {
        const w0 = now();
        await new Promise<void>((resolve) => {
          wake = () => {
            if (!ready(t)) return;
            wake = undefined;
            resolve();
          };
        });
        waited.push(now() - w0);
      }
      doc.transact((tr) => {
        Y.applyUpdateV2(doc, t.update);
        // applyUpdate marks its transaction remote; this one is the author's own edit (else
        // Yjs takes the author's structs for a clientID clash and picks a new clientID).
        tr.local = true;
      }, REPLAY);
      if (++applied % CHUNK === 0) await tick();
    }
    return waited;
  } finally {
    doc.off('update', onUpdate);
  }
}
