/**
 * RelayStore on embedded SQLite: every request goes to one worker thread (sqlite-worker.ts),
 * which owns the database connection and commits writes in groups. The relay's event loop only
 * posts messages and resolves promises; it never waits for SQLite or for the disk.
 */
import { Worker } from 'node:worker_threads';
import { RelayStorageError } from '../errors.ts';
import type { ClientBinding, FoldedRows, LogPosition, RelayStore, StoredDocument, Tombstone } from './relay-store.ts';
import type { CommitStats, StorageReply, StorageRequest, StorageResults, WorkerData, WorkerFailedToOpen, WorkerReady } from './worker-messages.ts';

/** The fields of one kind of request, without the id the store assigns. */
type FieldsOf<K extends StorageRequest['op']> = Omit<Extract<StorageRequest, { op: K }>, 'id' | 'op'>;

interface Waiting {
  resolve(value: unknown): void;
  reject(error: RelayStorageError): void;
}

export class SqliteRelayStore implements RelayStore {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  /** Set once the worker is gone: every later request fails at once with it. */
  private failure: RelayStorageError | undefined;
  private closing: Promise<void> | undefined;
  private readonly lost: Promise<RelayStorageError>;

  /** Starts the worker and waits until the database is open (its schema created). */
  static async open(dataDir: string): Promise<SqliteRelayStore> {
    const store = new SqliteRelayStore(dataDir);
    await store.ready;
    return store;
  }

  private readonly ready: Promise<void>;

  private constructor(dataDir: string) {
    this.worker = new Worker(new URL('./sqlite-worker.ts', import.meta.url), { workerData: { dataDir } satisfies WorkerData });
    let markLost: (e: RelayStorageError) => void = () => undefined;
    this.lost = new Promise((resolve) => (markLost = resolve));
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (first: WorkerReady | WorkerFailedToOpen) => {
        if (first.ready) {
          this.worker.on('message', (replies: StorageReply[]) => this.answer(replies));
          resolve();
        } else reject(new RelayStorageError(`cannot open the relay database: ${first.message}`));
      });
      const stop = (why: string) => {
        const error = new RelayStorageError(`storage worker stopped: ${why}`);
        reject(error);
        if (this.failure) return;
        this.failure = error;
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
        if (!this.closing) markLost(error);
      };
      this.worker.on('error', (e) => stop(e.message));
      this.worker.on('exit', (code) => stop(`exit code ${code}`));
    });
  }

  /**
   * Resolves if the worker stops while the store is open (a crash, not close()): from then on
   * nothing can be stored and every write fails, so the relay should stop and be restarted.
   */
  whenLost(): Promise<RelayStorageError> {
    return this.lost;
  }

  load(name: string): Promise<StoredDocument | undefined> {
    return this.ask('load', { name });
  }

  append(name: string, update: Uint8Array, bindings: readonly ClientBinding[]): Promise<LogPosition> {
    return this.ask('append', { name, update, bindings });
  }

  async bindClients(name: string, bindings: readonly ClientBinding[]): Promise<void> {
    if (bindings.length > 0) await this.ask('bind', { name, bindings });
  }

  clientOwners(name: string): Promise<ClientBinding[]> {
    return this.ask('owners', { name });
  }

  fold(name: string, state: Uint8Array, rows: FoldedRows, now: number): Promise<void> {
    return this.ask('fold', { name, state, rows, now });
  }

  erase(name: string, tombstone: Tombstone): Promise<void> {
    return this.ask('erase', { name, tombstone });
  }

  tombstone(name: string): Promise<Tombstone | undefined> {
    return this.ask('tombstone', { name });
  }

  documentNames(): Promise<string[]> {
    return this.ask('names', {});
  }

  ping(): Promise<void> {
    return this.ask('ping', {});
  }

  /** Transactions committed and the writes they held: how well group commit is batching. */
  commitStats(): Promise<CommitStats> {
    return this.ask('stats', {});
  }

  /** Requests already sent are answered first (the worker handles them in order). */
  close(): Promise<void> {
    this.closing ??= this.failure
      ? Promise.resolve()
      : this.ask('close', {}).then(() => this.worker.terminate().then(() => undefined));
    return this.closing;
  }

  private ask<K extends StorageRequest['op']>(op: K, fields: FieldsOf<K>): Promise<StorageResults[K]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new RelayStorageError('storage is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...fields, op, id } as StorageRequest);
    });
  }

  private answer(replies: readonly StorageReply[]): void {
    for (const reply of replies) {
      const w = this.waiting.get(reply.id);
      if (!w) continue;
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new RelayStorageError(`storage request failed: ${reply.message}`));
    }
  }
}
