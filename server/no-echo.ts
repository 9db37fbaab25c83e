/**
 * Updates are not echoed to the connection that sent them. Stock Hocuspocus broadcasts every
 * document update to all of a document's connections, its sender included, where Yjs ignores
 * it: for a sealed record that is its whole size again on the author's downlink plus a second
 * pass through the author's client gate (parse, signature check, effect check) on the critical
 * path of co-editing. Every update goes out at once (no flush window: a record is one update
 * already), so each client gets updates in the order the relay applied them (the client gate
 * refuses gaps, docs/protocol.md §8 I3). Acknowledgements are unchanged.
 */
import { OutgoingMessage, type Connection, type Extension } from '@hocuspocus/server';

function senderOf(origin: unknown): Connection | undefined {
  if (typeof origin !== 'object' || origin === null) return undefined;
  const o = origin as { source?: unknown; connection?: Connection };
  return o.source === 'connection' ? o.connection : undefined;
}

/**
 * Hocuspocus's update handler (bound once in the Document's constructor) calls
 * `callbacks.onUpdate(document, origin, update)` and then, with `flushDelay: false`,
 * `broadcastUpdate(update)`, synchronously: the sender is noted in the first and skipped in the
 * second. An update whose sender is unknown (a nested one, the relay's own) goes to everyone, as
 * stock does. tests/server/no-echo.test.ts pins this against the installed Hocuspocus.
 */
export function noEchoExtension(): Extension {
  return {
    async afterLoadDocument({ document }) {
      document.flush();
      document.flushDelay = false;
      let sender: Connection | undefined;
      const onUpdate = document.callbacks.onUpdate;
      document.callbacks.onUpdate = (doc, origin, update) => {
        onUpdate(doc, origin, update);
        sender = senderOf(origin);
      };
      (document as unknown as { broadcastUpdate(update: Uint8Array): void }).broadcastUpdate = (update) => {
        const skip = sender;
        sender = undefined;
        let address: string | undefined;
        let message: Uint8Array | undefined;
        for (const connection of document.connections.keys()) {
          if (connection === skip) continue;
          if (message === undefined || connection.messageAddress !== address) {
            address = connection.messageAddress;
            message = new OutgoingMessage(address).createSyncMessage().writeUpdate(update).toUint8Array();
          }
          connection.send(message);
        }
      };
    },
  };
}
