/**
 * The author's acknowledgement waits for durability; a document whose append failed is reset.
 *
 * Hocuspocus applies an accepted update, broadcasts it and sends its sender a SyncStatus
 * message in one go (MessageReceiver.readSyncMessage in @hocuspocus/server 4.x). The relay now
 * stores the update while that happens (persistence.ts, docs/decisions/0026), so this extension
 * wraps each connection's `send`: a SyncStatus message leaves only once every append started on
 * the connection's document before it was sent has committed, and after the connection's
 * earlier acknowledgements. "Every append on the document", not just the message's own: a
 * message Yjs found already known (a resend whose first copy, from another connection, is
 * still being stored) is acknowledged only when that copy is durable. Everything else the
 * connection is sent (broadcasts, sync replies, close) goes out at once.
 * tests/server/forward-while-storing.test.ts pins the SyncStatus framing and the send path.
 *
 * A failed append (`resetDocument`): the instance holds an update its storage lacks, and the
 * author's resend of it would be skipped as already known and never stored. So the instance is
 * handled as if the relay had crashed with it: its index is dropped (rebuilt from storage on
 * next use), every connection on it is closed with 4205 and the stable reason
 * RELAY_STORAGE_FAILED (transient for clients: they come back and resend what was not
 * acknowledged), nothing more of it is stored or acknowledged, and once its last connection is
 * gone Hocuspocus unloads it (no fold, no unload-guard veto), so the next connection loads what
 * storage holds.
 */
import type { Connection, Document, Extension } from '@hocuspocus/server';
import { readVarBytes, readVarUint } from '../src/lib/protocol/hocuspocus-frames.ts';
import type { PersistenceExtension } from './persistence.ts';
import type { Registry } from './registry.ts';

/** Hocuspocus's MessageType.SyncStatus (server src/types.ts). */
export const SYNC_STATUS = 8;

/** Whether a frame Hocuspocus sends is a SyncStatus: [varString address][varUint type]…. */
export function isSyncStatus(message: Uint8Array): boolean {
  try {
    const r = { bytes: message, pos: 0 };
    readVarBytes(r);
    return readVarUint(r) === SYNC_STATUS;
  } catch {
    return false;
  }
}

export function durableAckExtension(persistence: Pick<PersistenceExtension, 'settled'>): Extension {
  const wrapped = new WeakSet<Connection>();
  const wrap = (connection: Connection): void => {
    if (wrapped.has(connection)) return;
    wrapped.add(connection);
    const send = connection.send.bind(connection);
    let acks: Promise<void> = Promise.resolve();
    connection.send = (message: Uint8Array): void => {
      if (!isSyncStatus(message)) return send(message);
      // What the document holds now was all accepted before this point: its appends are started.
      const durable = persistence.settled(connection.document);
      acks = Promise.all([acks, durable]).then(() => send(message));
    };
  };
  return {
    extensionName: 'fhv-durable-ack',
    async connected({ connection }) {
      wrap(connection);
    },
    // Runs before Hocuspocus applies the message and sends its SyncStatus, for every message.
    async beforeSync({ connection }) {
      wrap(connection);
    },
  };
}

/** Close code Hocuspocus uses for "Reset Connection": the client reconnects. */
const RESET_CLOSE = { code: 4205, reason: 'RELAY_STORAGE_FAILED' } as const;

/** What `resetDocument` needs of the Hocuspocus instance. */
export interface UnloadingInstance {
  readonly documents: Map<string, Document>;
  unloadDocument(document: Document): Promise<void>;
}

/** How often a reset instance that is still loaded tries to unload again. */
const RESET_UNLOAD_RETRY_MS = 500;

/**
 * Handles an instance whose append failed like a crashed one (see the file comment), and makes
 * sure it unloads. Hocuspocus tries to unload once, when the last connection goes; a store
 * running then (often a fold failing in the same outage) makes it skip the unload, and a store
 * that fails keeps the document "in memory to avoid data loss" with nothing to try again: the
 * reset instance then refused every member for good (faults.test.ts, seed 14, one run in three).
 */
export function resetDocument(document: Document, registry: Registry, instance: UnloadingInstance): void {
  // By name: only while this instance is the loaded one. A late failure of an instance already
  // replaced dropped its successor's index, rebuilt then from a storage holding rows the
  // successor's document lacks (tests/server/unload-while-appending.test.ts).
  if (instance.documents.get(document.name) === document) registry.forget(document.name);
  for (const connection of document.getConnections()) connection.close(RESET_CLOSE);
  const retry = (): void => {
    if (instance.documents.get(document.name) !== document) return;
    void instance.unloadDocument(document).catch(() => undefined);
    setTimeout(retry, RESET_UNLOAD_RETRY_MS).unref();
  };
  setTimeout(retry, 0).unref();
}
