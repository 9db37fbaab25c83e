/**
 * Guards against a Hocuspocus unload race: when every client drops at once (a network blip,
 * a relay-side cut) and reconnects at once, a reconnecting client can be handed the document
 * instance that is in the middle of unloading, and ends up on a destroyed copy while the others
 * get a fresh one: two groups that never see each other's changes. Vetoing the unload while
 * clients are (re)authenticating keeps one instance; it unloads on the next last disconnect.
 * Every unload goes through this hook, so it is also where a stale instance is refused one.
 */
import type { Document, Extension } from '@hocuspocus/server';

/**
 * `reset`: an instance that must unload once empty anyway (a failed write, durable-ack.ts).
 * `appending`: resolves once no append of the instance is running (persistence.ts), undefined if none is.
 */
export function unloadGuardExtension(
  now: () => number,
  graceMs = 5000,
  reset: (document: Document) => boolean = () => false,
  appending: (document: Document) => Promise<void> | undefined = () => undefined,
): Extension & { release(): void } {
  const lastAuth = new Map<string, number>();
  let released = false;
  return {
    extensionName: 'fhv-unload-guard',
    /** Shutting down: let every document unload (server.destroy waits for that). */
    release() {
      released = true;
    },
    async onAuthenticate({ documentName }) {
      lastAuth.set(documentName, now());
    },
    async beforeUnloadDocument({ documentName, document, instance }) {
      // Hocuspocus unloads by name: a late call for an instance already unloaded and replaced
      // (this guard's own retry below, a reset's) removed its successor from the registry,
      // silently: its members stayed connected to a document nothing routed to any more, and
      // other instances' updates never reached them (faults.test.ts seed 80617856). Only the
      // registered instance unloads; while its unload runs nothing can replace it.
      if (instance.documents.get(documentName) !== document) throw new Error('not the loaded instance');
      // An append still running may change storage after a successor loaded it: that successor
      // would lack a stored record its index may later be rebuilt with (ENVELOPE_KEY_EXISTS on
      // the author's resend; tests/server/unload-while-appending.test.ts). Unload once it ended.
      // Not when shutting down: the process ends anyway, and a hung store must not hang it.
      const running = released ? undefined : appending(document);
      if (running) {
        void running.then(() => instance.documents.get(documentName) === document && void instance.unloadDocument(document));
        throw new Error('an append is running');
      }
      const at = lastAuth.get(documentName);
      if (!released && !reset(document) && at !== undefined && now() - at < graceMs) {
        // Veto now, try again once the reconnect window has passed.
        setTimeout(() => instance.documents.get(documentName) === document && void instance.unloadDocument(document), graceMs).unref();
        throw new Error('a client is connecting');
      }
      lastAuth.delete(documentName);
    },
  };
}
