/**
 * A RelayStore between the relay and its SQLite store (startRelay's `wrapStorage`) that holds
 * appends until the test lets them through, fails them, or "crashes": what a test needs to put
 * the relay at any point between accepting an update and its being durable.
 */
import { RelayStorageError } from '../../server/errors.ts';
import type { ClientBinding, FoldedRows, LogPosition, RelayStore, StoredDocument, Tombstone } from '../../server/storage/relay-store.ts';

interface HeldAppend {
  readonly name: string;
  readonly update: Uint8Array;
  readonly bindings: readonly ClientBinding[];
  readonly resolve: (p: LogPosition) => void;
  readonly reject: (e: unknown) => void;
}

export class HeldStore implements RelayStore {
  private readonly inner: RelayStore;
  private readonly held: HeldAppend[] = [];
  /** Appends pass straight through (healing, setup). */
  passThrough = false;
  /** Writes that reached the inner store. */
  committed = 0;
  private dead = false;

  constructor(inner: RelayStore) {
    this.inner = inner;
  }

  get heldCount(): number {
    return this.held.length;
  }

  load(name: string): Promise<StoredDocument | undefined> {
    return this.inner.load(name);
  }

  append(name: string, update: Uint8Array, bindings: readonly ClientBinding[]): Promise<LogPosition> {
    // A dead process writes nothing and answers nothing.
    if (this.dead) return new Promise(() => undefined);
    if (this.passThrough) return this.write({ name, update, bindings });
    return new Promise((resolve, reject) => this.held.push({ name, update, bindings, resolve, reject }));
  }

  /** Lets the oldest held append through to storage; false if none is held. */
  async releaseOne(): Promise<boolean> {
    const h = this.held.shift();
    if (!h) return false;
    await this.write(h).then(h.resolve, h.reject);
    return true;
  }

  /** Fails the oldest held append without writing it; false if none is held. */
  failOne(): boolean {
    const h = this.held.shift();
    if (!h) return false;
    h.reject(new RelayStorageError('test: append failed'));
    return true;
  }

  /** From now on nothing is written (held appends are dropped unanswered), as in a crashed process. */
  crash(): void {
    this.dead = true;
    this.held.length = 0;
  }

  /** Lets every held append through and passes every later one straight on. */
  async releaseAll(): Promise<void> {
    this.passThrough = true;
    while (await this.releaseOne());
  }

  private async write(h: Pick<HeldAppend, 'name' | 'update' | 'bindings'>): Promise<LogPosition> {
    const p = await this.inner.append(h.name, h.update, h.bindings);
    this.committed++;
    return p;
  }

  bindClients(name: string, bindings: readonly ClientBinding[]): Promise<void> {
    return this.dead ? Promise.resolve() : this.inner.bindClients(name, bindings);
  }

  clientOwners(name: string): Promise<ClientBinding[]> {
    return this.inner.clientOwners(name);
  }

  /** Folds wait until `failFolds` or `releaseFolds`. */
  holdFolds = false;
  private readonly heldFolds: Array<{ go: () => void; fail: (e: unknown) => void }> = [];

  get heldFoldCount(): number {
    return this.heldFolds.length;
  }

  /** Fails every held fold, as a database going away mid-fold does. */
  failFolds(): void {
    for (const f of this.heldFolds.splice(0)) f.fail(new RelayStorageError('test: fold failed'));
  }

  /** Lets every held fold through to the store. */
  releaseFolds(): void {
    for (const f of this.heldFolds.splice(0)) f.go();
  }

  fold(name: string, state: Uint8Array, rows: FoldedRows, now: number): Promise<void> {
    // A crashed process folds nothing; resolving lets the test's shutdown finish.
    if (this.dead) return Promise.resolve();
    if (!this.holdFolds) return this.inner.fold(name, state, rows, now);
    return new Promise<void>((go, fail) => this.heldFolds.push({ go, fail })).then(() => this.inner.fold(name, state, rows, now));
  }

  documentNames(): Promise<string[]> {
    return this.inner.documentNames();
  }

  erase(name: string, tombstone: Tombstone): Promise<void> {
    return this.dead ? Promise.resolve() : this.inner.erase(name, tombstone);
  }

  tombstone(name: string): Promise<Tombstone | undefined> {
    return this.inner.tombstone(name);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    for (const h of this.held.splice(0)) h.reject(new RelayStorageError('test: store closed'));
    return this.inner.close();
  }
}
