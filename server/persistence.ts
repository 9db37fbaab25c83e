/**
 * Persistence: load a document, make each accepted update durable before Hocuspocus applies
 * and acknowledges it, fold the log into one state on store.
 *
 * Where the acknowledgement comes from: Hocuspocus applies an incoming sync step 2 or update
 * and sends the sender its SyncStatus (what the provider counts down `unsyncedChanges` with) in
 * MessageReceiver.readSyncMessage, right after awaiting every extension's `beforeSync` hook.
 * The write policy (policy.ts) checks each update in `beforeSync` and then calls
 * `persistAccepted` and awaits it, so the acknowledgement cannot precede durability, and a
 * refused update never reaches storage. (The policy's per-document gate stays closed until
 * the message is applied, so checks, writes and applies on one document keep one order.) `onChange` (which Hocuspocus runs after it applied and
 * acknowledged an update) only persists changes that did not come through that path.
 *
 * Folding without losing an append: an update is stored before it is in the document, so a
 * state encoded at some moment may lack updates already in the log. Each document instance
 * therefore tracks which log rows its state contains (what it was loaded from, and each row
 * whose message Hocuspocus has since finished applying), and a fold deletes those rows only.
 */
import type { Connection, Document, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { RelayConfig } from './config.ts';
import { RelayStorageError } from './errors.ts';
import type { ClientBinding, LogPosition, RelayStore } from './storage/relay-store.ts';

/** An update the write policy accepted, about to be applied by Hocuspocus. */
export interface AcceptedUpdate {
  readonly document: Document;
  readonly connection: Connection;
  readonly update: Uint8Array;
  /** ClientIDs the update gives their owner: stored in the same transaction as the update. */
  readonly bindings: readonly ClientBinding[];
  /** The policy found records the update adds or deletes: it certainly changes the document. */
  readonly changesRecords: boolean;
}

/** Resolves once the update is durable; rejects (RelayStorageError) if it could not be stored. */
export type PersistAccepted = (accepted: AcceptedUpdate) => Promise<void>;

/** Which log rows one loaded document instance's state contains. */
interface InstanceLog {
  /** Every row up to this position (the load). */
  loadedThrough: LogPosition;
  /** Rows stored since the load and applied to the document: the next fold may delete them. */
  readonly applied: Set<LogPosition>;
  /** Rows stored for a message still being applied, by connection (one message at a time each). */
  readonly applying: Map<Connection, LogPosition>;
}

export interface PersistenceExtension extends Extension {
  readonly persistAccepted: PersistAccepted;
}

export function persistenceExtension(store: RelayStore, config: RelayConfig): PersistenceExtension {
  // Per instance, not per name: an instance being unloaded and its successor never share rows.
  const logs = new WeakMap<Document, InstanceLog>();
  const logOf = (document: Document): InstanceLog => {
    let log = logs.get(document);
    if (!log) logs.set(document, (log = { loadedThrough: 0, applied: new Set(), applying: new Map() }));
    return log;
  };

  return {
    extensionName: 'fhv-storage',

    async persistAccepted({ document, connection, update, bindings, changesRecords }) {
      // Every single edit adds a record: only an update without one is decoded again to see.
      if (!changesRecords && bindings.length === 0 && addsNothing(document, update)) return;
      const position = await store.append(document.name, update, bindings);
      logOf(document).applying.set(connection, position);
    },

    /** Runs once Hocuspocus has applied the message (or failed to): its row is in the state now. */
    async afterHandleMessage({ document, connection }) {
      const log = logs.get(document);
      const position = log?.applying.get(connection);
      if (log === undefined || position === undefined) return;
      log.applying.delete(connection);
      log.applied.add(position);
    },

    async onLoadDocument({ documentName, document }) {
      const stored = await store.load(documentName);
      if (!stored) return;
      Y.applyUpdate(document, stored.state, LOAD_ORIGIN);
      logOf(document).loadedThrough = stored.through;
    },

    async onChange({ documentName, document, update, transactionOrigin }) {
      if (transactionOrigin === LOAD_ORIGIN) return;
      // A connection's update was stored by persistAccepted before it was applied.
      if (isConnectionOrigin(transactionOrigin)) return;
      // A change made on the relay itself (none today): already applied, stored after the fact.
      // Nothing awaits this hook, so a failure is logged here; the next fold stores the change.
      try {
        logOf(document).applied.add(await store.append(documentName, update, []));
      } catch (e) {
        console.error(`[relay] ${e instanceof RelayStorageError ? e.code : 'storage'}: a relay-side change waits for the next fold`);
      }
    },

    async onStoreDocument({ documentName, document }) {
      const log = logOf(document);
      const positions = [...log.applied];
      await store.fold(documentName, Y.encodeStateAsUpdate(document), { through: log.loadedThrough, positions }, config.now());
      for (const p of positions) log.applied.delete(p);
    },
  };
}

const LOAD_ORIGIN = { source: 'local', skipStoreHooks: true } as const;

function isConnectionOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && (origin as { source?: unknown }).source === 'connection';
}

/**
 * Whether the document already holds everything in `update` (a reconnecting client's sync
 * step 2 usually repeats the whole delete set): then there is nothing new to make durable,
 * since everything in the document was stored before it was applied. The struct check is
 * cheap and settles almost every real update; the snapshot (a walk of the document) is only
 * taken for updates that carry no new struct.
 */
function addsNothing(document: Document, update: Uint8Array): boolean {
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))) {
    if (clock > Y.getState(document.store, client)) return false;
  }
  return Y.snapshotContainsUpdate(Y.snapshot(document), update);
}
