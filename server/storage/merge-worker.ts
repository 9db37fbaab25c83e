/**
 * A worker thread that merges Yjs updates (update-merger.ts): a document's folded state and its
 * log rows on load, two folded states on a PostgreSQL fold. `Y.mergeUpdates` over a large
 * document takes the thread for as long as the document is large; here that is not the relay's
 * event loop (issue 14, decision 0054). No database: the worker is ready at once.
 */
import * as Y from 'yjs';
import { replyTo, serveBatches, type WireRequest } from './worker-rpc.ts';

export interface MergeRequest extends WireRequest {
  readonly parts?: Uint8Array[];
}

serveBatches<MergeRequest>(() => ({
  handle: (batch) => batch.map((r) => replyTo(r, () => (r.op === 'close' ? undefined : Y.mergeUpdates(r.parts!)))),
  close: () => undefined,
}));
