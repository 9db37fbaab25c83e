/**
 * RelayStore on embedded SQLite: every request goes to one worker thread (sqlite-worker.ts),
 * which owns the database connection and commits writes in groups. The relay's event loop only
 * posts messages and resolves promises; it never waits for SQLite or for the disk.
 */
import type { RelayStorageError } from '../errors.ts';
import type { ClientBinding, FoldedRows, LogPosition, RelayStore, StoredDocument, Tombstone } from './relay-store.ts';
import type { CommitStats, StorageApi, WorkerData } from './worker-messages.ts';
import { WorkerClient } from './worker-rpc.ts';

export class SqliteRelayStore implements RelayStore {
  private readonly worker: WorkerClient<StorageApi>;

  private constructor(worker: WorkerClient<StorageApi>) {
    this.worker = worker;
  }

  /** Starts the worker and waits until the database is open (its schema created). */
  static async open(dataDir: string): Promise<SqliteRelayStore> {
    return new SqliteRelayStore(await WorkerClient.start<StorageApi>(new URL('./sqlite-worker.ts', import.meta.url), { dataDir } satisfies WorkerData, 'relay database'));
  }

  /**
   * Resolves if the worker stops while the store is open (a crash, not close()): from then on
   * nothing can be stored and every write fails, so the relay should stop and be restarted.
   */
  whenLost(): Promise<RelayStorageError> {
    return this.worker.whenLost();
  }

  load(name: string): Promise<StoredDocument | undefined> {
    return this.worker.ask('load', { name });
  }

  append(name: string, update: Uint8Array, bindings: readonly ClientBinding[]): Promise<LogPosition> {
    return this.worker.ask('append', { name, update, bindings });
  }

  async bindClients(name: string, bindings: readonly ClientBinding[]): Promise<void> {
    if (bindings.length > 0) await this.worker.ask('bind', { name, bindings });
  }

  clientOwners(name: string): Promise<ClientBinding[]> {
    return this.worker.ask('owners', { name });
  }

  fold(name: string, state: Uint8Array, rows: FoldedRows, now: number): Promise<void> {
    return this.worker.ask('fold', { name, state, rows, now });
  }

  erase(name: string, tombstone: Tombstone): Promise<void> {
    return this.worker.ask('erase', { name, tombstone });
  }

  tombstone(name: string): Promise<Tombstone | undefined> {
    return this.worker.ask('tombstone', { name });
  }

  documentNames(): Promise<string[]> {
    return this.worker.ask('names', {});
  }

  ping(): Promise<void> {
    return this.worker.ask('ping', {});
  }

  /** Transactions committed and the writes they held: how well group commit is batching. */
  commitStats(): Promise<CommitStats> {
    return this.worker.ask('stats', {});
  }

  /** Requests already sent are answered first (the worker handles them in order). */
  close(): Promise<void> {
    return this.worker.close();
  }
}
