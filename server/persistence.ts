/**
 * Persistence: load a document, store each accepted update while Hocuspocus applies and
 * forwards it, acknowledge it to its author only once it is durable, fold the log into one
 * state on store (docs/decisions/0026, which replaced the store-then-forward order of 0017).
 *
 * The write: the policy (policy.ts) checks an update in `beforeSync`, commits it to its index
 * and calls `persistAccepted`, which queues the append and returns at once; Hocuspocus then
 * applies the update and broadcasts it to the document's other connections, and the append is
 * posted to the storage worker right after that forward (docs/decisions/0036). One document's appends are written one after another, in the order the updates
 * were accepted (each starts once the previous one committed), so its log never holds an update
 * without the ones it follows.
 *
 * The acknowledgement: Hocuspocus sends the sender its SyncStatus (what the provider counts
 * down `unsyncedChanges` with) right after applying. `durable-ack.ts` holds that message until
 * `settled(document)` resolves: every append started on the document until then committed.
 * So an acknowledged update is durable, and so is anything an acknowledged message repeated
 * (a resend Yjs skipped because another connection's copy was in memory, its append running).
 *
 * A failed append: the document in memory holds an update its storage lacks, and an author's
 * resend of it would be skipped as already known. The instance is treated as crashed
 * (`onWriteFailed`: durable-ack.ts closes every connection on it, unloads it without folding,
 * and the next connection loads it from storage); later appends on it are not written, so
 * storage keeps exactly the updates that committed, in order.
 *
 * Folding without losing an append: a state encoded at some moment may lack rows already in the
 * log, or hold updates whose rows are not committed yet. Each loaded document instance tracks
 * the rows its state contains (what it was loaded from, and each row that committed for a
 * message Hocuspocus finished applying), and a fold deletes those rows only.
 */
import type { Connection, Document, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import { isRemoteOrigin } from './origin.ts';
import type { RelayConfig } from './config.ts';
import { RelayStorageError } from './errors.ts';
import type { ClientBinding, LogPosition, RelayStore } from './storage/relay-store.ts';

/** An update the write policy accepted and committed to its index, about to be applied by Hocuspocus. */
export interface AcceptedUpdate {
  readonly document: Document;
  readonly connection: Connection;
  readonly update: Uint8Array;
  /** ClientIDs the update gives their owner: stored in the same transaction as the update. */
  readonly bindings: readonly ClientBinding[];
  /** The policy found records the update adds or deletes: it certainly changes the document. */
  readonly changesRecords: boolean;
}

/** Starts making an accepted update durable; returns at once (see `settled`). */
export type PersistAccepted = (accepted: AcceptedUpdate) => void;

/** One accepted message's row: in the state once applied, foldable once also committed. */
interface PendingRow {
  applied: boolean;
  position: LogPosition | undefined;
  /** Resolves once Hocuspocus has applied (and so forwarded) the message: the append is posted then. */
  readonly forwarded: Promise<void>;
  readonly markForwarded: () => void;
}

/** What one loaded document instance has written and what its state contains. */
interface InstanceLog {
  /** Every row up to this position (the load). */
  loadedThrough: LogPosition;
  /** Rows committed since the load and applied to the document: the next fold may delete them. */
  readonly applied: Set<LogPosition>;
  /** The row of the message each connection has in flight (one message at a time each). */
  readonly applying: Map<Connection, PendingRow>;
  /** The last append started on this instance: each waits for the one before it. */
  tail: Promise<void>;
  /** An append failed: nothing more is written for this instance, it is being reset. */
  failed: boolean;
  /** Appends posted to storage and not answered yet, and who waits for the last one to end. */
  running: number;
  idle: (() => void)[];
}

export interface PersistenceExtension extends Extension {
  readonly persistAccepted: PersistAccepted;
  /**
   * Resolves once every append started on `document` so far committed; never resolves if one
   * of them failed (the document is reset, its connections closed, nothing is acknowledged).
   */
  settled(document: Document): Promise<void>;
  /** An append on this instance failed (it is being reset): refuse further updates on it. */
  failed(document: Document): boolean;
  /**
   * Resolves once no append of this instance is running (posted to storage, not answered);
   * undefined when none is. An instance must not unload before: its successor would load a
   * storage that the running append may still change (server/unload-guard.ts).
   */
  appending(document: Document): Promise<void> | undefined;
}

export interface PersistenceOptions {
  /** Called once per instance when one of its appends failed (durable-ack.ts resets it). */
  readonly onWriteFailed: (document: Document, error: RelayStorageError) => void;
}

const NEVER = new Promise<void>(() => undefined);

/** After the current macrotask and its microtasks, in which Hocuspocus applies and forwards an accepted update. */
const afterThisTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export function persistenceExtension(store: RelayStore, config: RelayConfig, o: PersistenceOptions): PersistenceExtension {
  // Per instance, not per name: an instance being unloaded and its successor never share rows.
  const logs = new WeakMap<Document, InstanceLog>();
  const logOf = (document: Document): InstanceLog => {
    let log = logs.get(document);
    if (!log) logs.set(document, (log = { loadedThrough: 0, applied: new Set(), applying: new Map(), tail: Promise.resolve(), failed: false, running: 0, idle: [] }));
    return log;
  };

  return {
    extensionName: 'fhv-storage',

    persistAccepted({ document, connection, update, bindings, changesRecords }) {
      // Every single edit adds a record: only an update without one is decoded again to see.
      if (!changesRecords && bindings.length === 0 && addsNothing(document, update)) return;
      const log = logOf(document);
      let markForwarded: () => void = () => undefined;
      const forwarded = new Promise<void>((r) => (markForwarded = r));
      const row: PendingRow = { applied: false, position: undefined, forwarded, markForwarded };
      log.applying.set(connection, row);
      log.tail = log.tail.then(async () => {
        // Posted to the SQLite worker once Hocuspocus has applied the update and written it to
        // the other connections' sockets (afterHandleMessage, which Hocuspocus runs in a
        // `finally` for every message; at the latest at the end of this event-loop turn, in
        // which the apply and forward run, should an earlier hook have failed). The post (a
        // structured clone and a thread wake-up that, on a busy machine, can take the core from
        // this thread) cost the forward 0.1-0.4 ms p50 when it came first (docs/decisions/0036).
        // Order and durability are unchanged: the job is in the tail already, and `settled` (so
        // the acknowledgement) waits for it.
        await Promise.race([row.forwarded, afterThisTurn()]);
        if (log.failed) return NEVER;
        log.running++;
        try {
          row.position = await store.append(document.name, update, bindings);
        } catch (e) {
          log.failed = true;
          o.onWriteFailed(document, e instanceof RelayStorageError ? e : new RelayStorageError('append failed'));
          return NEVER;
        } finally {
          if (--log.running === 0) for (const done of log.idle.splice(0)) done();
        }
        if (row.applied) log.applied.add(row.position);
      });
    },

    settled(document) {
      return logOf(document).tail;
    },

    failed(document) {
      return logs.get(document)?.failed ?? false;
    },

    appending(document) {
      const log = logs.get(document);
      if (!log || log.running === 0) return undefined;
      return new Promise<void>((r) => log.idle.push(r));
    },

    /**
     * A reset instance takes no new connection. It unloads only once it has none (then the next
     * connection loads its successor from storage); members reconnecting every few tens of ms
     * kept it loaded, and each was refused on its first message, for ever (faults.test.ts, seed
     * 11). The refusal is transient for clients (src/lib/sync/refusals.ts): they authenticate
     * again after a short wait, by when the instance is gone.
     */
    async onAuthenticate({ instance, documentName }) {
      const loaded = instance.documents.get(documentName);
      if (loaded && logs.get(loaded)?.failed) throw RESETTING;
    },

    /** Runs once Hocuspocus has applied the message (or failed to): its update is in the state now. */
    async afterHandleMessage({ document, connection }) {
      const log = logs.get(document);
      const row = log?.applying.get(connection);
      if (log === undefined || row === undefined) return;
      log.applying.delete(connection);
      row.applied = true;
      row.markForwarded();
      if (row.position !== undefined) log.applied.add(row.position);
    },

    async onLoadDocument({ documentName, document }) {
      const stored = await store.load(documentName);
      if (!stored) return;
      Y.applyUpdate(document, stored.state, LOAD_ORIGIN);
      logOf(document).loadedThrough = stored.through;
    },

    async onChange({ documentName, document, update, transactionOrigin }) {
      if (transactionOrigin === LOAD_ORIGIN) return;
      // A connection's update was accepted by the policy and is stored by persistAccepted.
      if (isConnectionOrigin(transactionOrigin)) return;
      // Another instance accepted and stored it (server/cluster.ts); this one's folds carry it.
      if (isRemoteOrigin(transactionOrigin)) return;
      // A change made on the relay itself (none today): already applied, stored after the fact.
      // Nothing awaits this hook, so a failure is logged here; the next fold stores the change.
      try {
        logOf(document).applied.add(await store.append(documentName, update, []));
      } catch (e) {
        config.logger('error', 'relay_change_deferred', { code: e instanceof RelayStorageError ? e.code : 'storage' });
      }
    },

    async onStoreDocument({ documentName, document }) {
      const log = logOf(document);
      // A reset instance holds updates its storage lacks (and its index was dropped): folding
      // it would store what no index was rebuilt from. Storage stays as the appends left it.
      if (log.failed) return;
      const positions = [...log.applied];
      await store.fold(documentName, Y.encodeStateAsUpdate(document), { through: log.loadedThrough, positions }, config.now());
      for (const p of positions) log.applied.delete(p);
    },
  };
}

/** What Hocuspocus sends as the refusal's reason (writePermissionDenied(error.reason)). */
const RESETTING = Object.assign(new RelayStorageError('document is being reset after a failed write'), { reason: 'RELAY_STORAGE_FAILED' });

const LOAD_ORIGIN = { source: 'local', skipStoreHooks: true } as const;

function isConnectionOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && (origin as { source?: unknown }).source === 'connection';
}

/**
 * Whether the document already holds everything in `update` (a reconnecting client's sync
 * step 2 usually repeats the whole delete set): then there is nothing new to make durable,
 * since everything in the document was stored, or is being stored, before it was applied (the
 * acknowledgement waits for those appends). The struct check is cheap and settles almost every
 * real update; the snapshot (a walk of the document) is only taken for updates that carry no
 * new struct.
 */
function addsNothing(document: Document, update: Uint8Array): boolean {
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))) {
    if (clock > Y.getState(document.store, client)) return false;
  }
  return Y.snapshotContainsUpdate(Y.snapshot(document), update);
}
