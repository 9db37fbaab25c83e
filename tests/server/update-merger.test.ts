/**
 * Merging a large document's updates off the event loop (update-merger.ts, issue 14): the result
 * is exactly `Y.mergeUpdates`, and the loop keeps turning meanwhile. The peer, in the same run,
 * is the same merge on the event loop: it runs between two turns. Turn counts are asserted,
 * never times (the gap ratio is printed for the reader).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startUpdateMerger, INLINE_MERGE_MAX_BYTES } from '../../server/storage/update-merger.ts';
import { watchLoop } from '../helpers/loop-ticker.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';

const FILE = 'tests/server/update-merger.test.ts';

/** A document's log: `n` updates from a few clients, each a random edit of one text. */
function log(prng: Prng, n: number): Uint8Array[] {
  const docs = [0, 1, 2].map((i) => {
    const d = new Y.Doc();
    d.clientID = 1000 + i;
    return d;
  });
  const updates: Uint8Array[] = [];
  for (const d of docs) d.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) {
    const d = prng.pick(docs);
    const text = d.getText('t');
    if (text.length > 0 && prng.bool(0.2)) text.delete(prng.int(0, text.length - 1), 1);
    else text.insert(prng.int(0, text.length), prng.word());
    // Each client sometimes sees the others' edits, as replicas do.
    if (prng.bool(0.3)) for (const other of docs) if (other !== d) Y.applyUpdate(other, Y.encodeStateAsUpdate(d, Y.encodeStateVector(other)));
  }
  return updates;
}

const same = (a: Uint8Array, b: Uint8Array) => {
  const [x, y] = [new Y.Doc(), new Y.Doc()];
  Y.applyUpdate(x, a);
  Y.applyUpdate(y, b);
  return x.getText('t').toString() === y.getText('t').toString() && Buffer.from(Y.encodeStateVector(x)).equals(Buffer.from(Y.encodeStateVector(y)));
};

describe('the update merger', () => {
  it('merges a large log in its worker, exactly as Y.mergeUpdates, while the event loop keeps turning (seeded)', { timeout: 120_000 }, async () => {
    await withSeed(FILE, 'merges a large log', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE}`);
      const parts = log(prng, prng.int(2_000, 3_000));
      expect(parts.reduce((n, p) => n + p.length, 0)).toBeGreaterThan(INLINE_MERGE_MAX_BYTES);
      const merger = await startUpdateMerger();
      try {
        const ours = await watchLoop(() => merger.merge(parts));
        const peer = await watchLoop(() => Y.mergeUpdates(parts));
        const line = `worker ${ours.turns} turns, longest gap ${ours.maxGapMs.toFixed(1)} ms over ${ours.totalMs.toFixed(1)} ms; on the loop ${peer.turns} turns, longest gap ${peer.maxGapMs.toFixed(1)} ms`;
        console.log(line);
        expect(merger.counts).toEqual({ inline: 0, worker: 1 });
        expect(same(ours.result, peer.result), 'the worker merge equals Y.mergeUpdates').toBe(true);
        expect(peer.turns, line).toBeLessThanOrEqual(1);
        expect(ours.turns, line).toBeGreaterThanOrEqual(20);
      } finally {
        await merger.close();
      }
    });
  });

  it('merges small inputs inline, one part as a copy, and a view into a larger buffer by its own bytes', async () => {
    const merger = await startUpdateMerger(16);
    try {
      const d = new Y.Doc();
      const updates: Uint8Array[] = [];
      d.on('update', (u: Uint8Array) => updates.push(u));
      d.getText('t').insert(0, 'ab');
      d.getText('t').insert(2, 'cd');
      const one = await merger.merge([updates[0]!]);
      expect(one).not.toBe(updates[0]);
      expect(Buffer.from(one).equals(Buffer.from(updates[0]!))).toBe(true);
      // Views into one larger buffer (how a database client may hand rows over).
      const backing = new Uint8Array(1024);
      backing.set(updates[0]!, 10);
      backing.set(updates[1]!, 500);
      const views = [backing.subarray(10, 10 + updates[0]!.length), backing.subarray(500, 500 + updates[1]!.length)];
      const merged = await merger.merge(views);
      expect(merger.counts.worker).toBe(1);
      expect(same(merged, Y.mergeUpdates(updates))).toBe(true);
      const tiny = await startUpdateMerger();
      try {
        expect(same(await tiny.merge(updates), Y.mergeUpdates(updates))).toBe(true);
        expect(tiny.counts).toEqual({ inline: 1, worker: 0 });
      } finally {
        await tiny.close();
      }
    } finally {
      await merger.close();
    }
    // Closed: a merge is refused with the storage error, never hangs.
    await expect(merger.merge([new Uint8Array([0, 0]), new Uint8Array(64)])).rejects.toMatchObject({ code: 'RELAY_STORAGE_FAILED' });
  });
});
