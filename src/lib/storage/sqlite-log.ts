/**
 * Embedded envelope log on node:sqlite (no native addon), used by Node clients (CLI, tests,
 * benchmarks) and read by the relay's storage worker (server/storage/): the relay and the
 * clients share this file layout. Each change is appended to `updates`; `store` folds the log
 * into one state row. Only envelope docs are ever stored: ciphertext and public membership
 * metadata.
 *
 * This class writes synchronously on the caller's thread, which suits a client writing its own
 * device's copy. The relay never writes through it: it writes from a worker thread and
 * acknowledges an update only once it is durable (server/storage/sqlite-relay-store.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import * as Y from 'yjs';

/** The database file in a data directory. */
export const ENVELOPE_DB_FILE = 'relay.sqlite';

/** Tables of the envelope log; the relay's store creates the same ones. */
export const ENVELOPE_LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, state BLOB NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS updates (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, data BLOB NOT NULL);
  CREATE INDEX IF NOT EXISTS updates_by_name ON updates (name, id);
  CREATE TABLE IF NOT EXISTS client_owners (name TEXT NOT NULL, client INTEGER NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (name, client));
`;

/** A folded state and the log rows after it, as one v1 update (undefined when both are absent). */
export function mergeStored(state: Uint8Array | undefined, rows: readonly Uint8Array[]): Uint8Array | undefined {
  const parts = [...(state ? [state] : []), ...rows].map((b) => new Uint8Array(b));
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : Y.mergeUpdates(parts);
}

export interface EnvelopeLogOptions {
  /**
   * Opens an existing file for reading only (no schema, no writes): a view of what another
   * connection (the relay's storage worker) committed, for tests and inspection.
   */
  readonly readOnly?: boolean;
}

export class SqliteEnvelopeLog {
  private readonly db: DatabaseSync;
  private readonly stmts;

  constructor(dataDir: string, options: EnvelopeLogOptions = {}) {
    const readOnly = options.readOnly === true;
    if (dataDir !== ':memory:' && !readOnly) mkdirSync(dataDir, { recursive: true });
    this.db = new DatabaseSync(dataDir === ':memory:' ? ':memory:' : join(dataDir, ENVELOPE_DB_FILE), { readOnly });
    // A reader waits out the writer's checkpoints instead of failing with SQLITE_BUSY.
    this.db.exec('PRAGMA busy_timeout = 5000;');
    if (!readOnly) this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; ${ENVELOPE_LOG_SCHEMA}`);
    this.stmts = {
      state: this.db.prepare('SELECT state FROM documents WHERE name = ?'),
      updates: this.db.prepare('SELECT id, data FROM updates WHERE name = ? ORDER BY id'),
      append: this.db.prepare('INSERT INTO updates (name, data) VALUES (?, ?)'),
      upsert: this.db.prepare(
        'INSERT INTO documents (name, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      ),
      trim: this.db.prepare('DELETE FROM updates WHERE name = ? AND id <= ?'),
      maxId: this.db.prepare('SELECT MAX(id) AS id FROM updates WHERE name = ?'),
      names: this.db.prepare('SELECT name FROM documents UNION SELECT DISTINCT name FROM updates'),
      owners: this.db.prepare('SELECT client, owner FROM client_owners WHERE name = ?'),
      bind: this.db.prepare('INSERT OR IGNORE INTO client_owners (name, client, owner) VALUES (?, ?, ?)'),
    };
  }

  /** The stored envelope as one v1 update, or undefined if the document is unknown. */
  load(name: string): Uint8Array | undefined {
    const row = this.stmts.state.get(name) as { state: Uint8Array } | undefined;
    const rows = this.stmts.updates.all(name) as Array<{ data: Uint8Array }>;
    return mergeStored(row?.state, rows.map((r) => r.data));
  }

  /**
   * Which person owns each envelope clientID of a document (the write policy's I4). Kept beside
   * the doc because a deleted item keeps no author: without it a restart would forget whose
   * clocks those are.
   */
  clientOwners(name: string): Array<[number, string]> {
    return (this.stmts.owners.all(name) as Array<{ client: number; owner: string }>).map((r) => [Number(r.client), r.owner]);
  }

  bindClients(name: string, bindings: ReadonlyArray<readonly [number, string]>): void {
    for (const [client, owner] of bindings) this.stmts.bind.run(name, client, owner);
  }

  append(name: string, update: Uint8Array): void {
    this.stmts.append.run(name, update);
  }

  /** Replaces the appended log with the full state, atomically. */
  store(name: string, state: Uint8Array, now: number): void {
    const max = (this.stmts.maxId.get(name) as { id: number | null }).id ?? 0;
    this.db.exec('BEGIN');
    try {
      this.stmts.upsert.run(name, state, now);
      this.stmts.trim.run(name, max);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  documentNames(): string[] {
    return (this.stmts.names.all() as Array<{ name: string }>).map((r) => r.name);
  }

  /** Everything stored, for canary scans in tests and for backups. */
  dumpAll(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const name of this.documentNames()) {
      const b = this.load(name);
      if (b) out.push(b);
    }
    return out;
  }

  /**
   * Keeps `doc` persisted under `name`: loads what is stored, then appends every later update
   * synchronously (in the doc's update event) and folds the log every `foldEvery` updates.
   * Returns a detach function.
   */
  attach(doc: Y.Doc, name: string, foldEvery = 500): () => void {
    const stored = this.load(name);
    if (stored) Y.applyUpdate(doc, stored, this);
    let appended = 0;
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin === this) return;
      this.append(name, update);
      if (++appended >= foldEvery) {
        appended = 0;
        this.store(name, Y.encodeStateAsUpdate(doc), Date.now());
      }
    };
    doc.on('update', onUpdate);
    return () => doc.off('update', onUpdate);
  }

  /**
   * Deletes everything stored for `name` (an erased profile, decision 0035): overwritten, not
   * just unlinked (secure_delete), and the WAL checkpointed so no copy stays in it.
   */
  erase(name: string): void {
    this.db.exec('PRAGMA secure_delete = ON');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const table of ['updates', 'documents', 'client_owners']) this.db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(name);
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
    this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
