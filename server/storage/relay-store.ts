/**
 * What the relay needs from storage, as one asynchronous interface: the embedded SQLite store
 * (server/storage/sqlite-relay-store.ts) implements it today, a PostgreSQL store can later.
 *
 * The relay keeps, per document (its base64url id), an append-only log of accepted updates and
 * one folded state; loading a document merges the state with every logged update. Updates are
 * Yjs v1 updates of the envelope doc (ciphertext and public membership metadata only), so
 * applying one twice changes nothing: a row appended again, or kept after a fold already
 * covered it, costs space and never correctness.
 *
 * The durability contract the relay's acknowledgements rest on (docs/decisions/0017):
 *   - `append` resolves only once the update is durable (committed and flushed to stable
 *     storage): after a crash or a power cut, `load` returns it. The relay acknowledges an
 *     update to its sender only after this promise resolved.
 *   - Writes may be batched with other callers' writes (group commit); each promise resolves
 *     after the transaction holding its write committed, and rejects if that transaction failed.
 *   - A rejected write left nothing behind: the relay then refuses the message (the sender
 *     reconnects and sends it again).
 *
 * For a PostgreSQL implementation: `updates(id BIGSERIAL, name, data BYTEA)`, `documents(name
 * PRIMARY KEY, state, updated_at)`, `client_owners(name, client, owner, PRIMARY KEY(name,
 * client))`; `append` is one INSERT (with the bindings, `ON CONFLICT DO NOTHING`) per
 * transaction or a batch of them, committed with `synchronous_commit = on`; `fold` is an upsert
 * and a DELETE in one transaction. A `LogPosition` is the row id. Positions of one document must
 * grow in commit order, which the relay guarantees for its own writes by appending a document's
 * updates one at a time (server/policy.ts), and `load` must report the rows it read.
 */

/** Where an appended update sits in its document's log (a row id; grows with each append). */
export type LogPosition = number;

/** Which clientID of a document belongs to which person (hex key): the write policy's I4. */
export type ClientBinding = readonly [client: number, owner: string];

export interface StoredDocument {
  /** The folded state merged with every logged update: one v1 update. */
  readonly state: Uint8Array;
  /** Every log row of this document up to here was read into `state` (0: none). */
  readonly through: LogPosition;
}

/** The log rows a folded state contains, so a fold never drops an update the state lacks. */
export interface FoldedRows {
  /** Every row up to this position (what the document was loaded from). */
  readonly through: LogPosition;
  /** Rows appended since the load whose updates the state contains. */
  readonly positions: readonly LogPosition[];
}

/** What stays of an erased document (decision 0035): no PHI, only the owner's signed order. */
export interface Tombstone {
  readonly erasedAt: number;
  /** The erase record (protocol/erase.ts), so a device that was offline can verify it. */
  readonly record: Uint8Array;
  /**
   * Who may fetch it: 32-byte hashes of the signing keys that acted for a member at erasure
   * (server/erase-members.ts), concatenated; empty for tombstones written before they were kept.
   */
  readonly members: Uint8Array;
}

export interface RelayStore {
  /** The stored document, or undefined when nothing is stored under `name`. */
  load(name: string): Promise<StoredDocument | undefined>;
  /**
   * Appends an accepted update and the clientID owners it establishes, in one transaction.
   * Resolves once both are durable, with the update's log position.
   */
  append(name: string, update: Uint8Array, bindings: readonly ClientBinding[]): Promise<LogPosition>;
  /** Records clientID owners (first owner wins); durable when it resolves. */
  bindClients(name: string, bindings: readonly ClientBinding[]): Promise<void>;
  /** The clientID owners recorded for `name`. */
  clientOwners(name: string): Promise<ClientBinding[]>;
  /**
   * Replaces the folded state of `name` with `state` and deletes the log rows it contains
   * (`rows`), in one transaction. Rows not listed (appended while the state was being written,
   * or not applied yet) stay in the log.
   */
  fold(name: string, state: Uint8Array, rows: FoldedRows, now: number): Promise<void>;
  /**
   * Erases `name` (decision 0035): in one transaction, stores its tombstone and deletes its log,
   * folded state, clientID owners, files and links; then checkpoints the WAL so no deleted page
   * stays in it. From then on `append` for `name` fails, `fold` and `bindClients` do nothing.
   */
  erase(name: string, tombstone: Tombstone): Promise<void>;
  /** The tombstone of an erased document, or undefined. */
  tombstone(name: string): Promise<Tombstone | undefined>;
  /** Names of every stored document. */
  documentNames(): Promise<string[]>;
  /** Resolves once the store answered a trivial read (readiness: `/readyz`). */
  ping(): Promise<void>;
  /** Finishes every write already asked for, then releases the store. */
  close(): Promise<void>;
}

/** Every method of `store`, bound (for decorators that replace one or two). */
export function delegateStore(store: RelayStore): RelayStore {
  return {
    load: (name) => store.load(name),
    append: (name, update, bindings) => store.append(name, update, bindings),
    bindClients: (name, bindings) => store.bindClients(name, bindings),
    clientOwners: (name) => store.clientOwners(name),
    fold: (name, state, rows, now) => store.fold(name, state, rows, now),
    erase: (name, tombstone) => store.erase(name, tombstone),
    tombstone: (name) => store.tombstone(name),
    documentNames: () => store.documentNames(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
