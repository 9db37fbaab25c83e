/**
 * Merges Yjs updates off the relay's event loop (merge-worker.ts), for the stores that read a
 * document's parts on the event loop (PostgreSQL: the pure-JS client parses rows there). The
 * SQLite store merges in its own storage worker already. Small merges stay inline: the thread
 * hop and the copy cost more than merging a few kilobytes.
 */
import * as Y from 'yjs';
import { WorkerClient } from './worker-rpc.ts';

/** Parts totalling up to this many bytes are merged on the calling thread. */
export const INLINE_MERGE_MAX_BYTES = 64 * 1024;

type MergeApi = { merge: (fields: { parts: Uint8Array[] }) => Uint8Array };

export interface UpdateMerger {
  /** `Y.mergeUpdates(parts)`; rejects with RELAY_STORAGE_FAILED if the worker is gone. */
  merge(parts: readonly Uint8Array[]): Promise<Uint8Array>;
  /** Merges counted by where they ran (tests, metrics). */
  readonly counts: { inline: number; worker: number };
  close(): Promise<void>;
}

/** `inlineMaxBytes` is for tests that need the worker path for small inputs. */
export async function startUpdateMerger(inlineMaxBytes = INLINE_MERGE_MAX_BYTES): Promise<UpdateMerger> {
  const worker = await WorkerClient.start<MergeApi>(new URL('./merge-worker.ts', import.meta.url), undefined, 'update merger');
  const counts = { inline: 0, worker: 0 };
  return {
    counts,
    async merge(parts) {
      // A copy in its own buffer, as a merge returns (a client's row may be a view into a larger one).
      if (parts.length === 1) return new Uint8Array(parts[0]!);
      if (parts.reduce((n, p) => n + p.length, 0) <= inlineMaxBytes) {
        counts.inline++;
        return Y.mergeUpdates([...parts]);
      }
      counts.worker++;
      // Posting clones each view's whole ArrayBuffer: a view into a larger one (a client's read
      // buffer) is copied to its own first.
      return worker.ask('merge', { parts: parts.map((p) => (p.byteOffset === 0 && p.byteLength === p.buffer.byteLength ? p : p.slice())) });
    },
    close: () => worker.close(),
  };
}
