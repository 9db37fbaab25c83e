/**
 * Guards against a Hocuspocus unload race: when every client drops at once (a network blip,
 * a relay-side cut) and reconnects at once, a reconnecting client can be handed the document
 * instance that is in the middle of unloading, and ends up on a destroyed copy while the others
 * get a fresh one: two groups that never see each other's changes. Vetoing the unload while
 * clients are (re)authenticating keeps one instance; it unloads on the next last disconnect.
 */
import type { Document, Extension } from '@hocuspocus/server';

/** `reset`: an instance that must unload once empty anyway (a failed write, durable-ack.ts). */
export function unloadGuardExtension(now: () => number, graceMs = 5000, reset: (document: Document) => boolean = () => false): Extension & { release(): void } {
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
      const at = lastAuth.get(documentName);
      if (!released && !reset(document) && at !== undefined && now() - at < graceMs) {
        // Veto now, try again once the reconnect window has passed.
        setTimeout(() => void instance.unloadDocument(document), graceMs).unref();
        throw new Error('a client is connecting');
      }
      lastAuth.delete(documentName);
    },
  };
}
