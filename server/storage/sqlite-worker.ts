/**
 * The relay's SQLite writer, on its own thread so that no commit (and its fsync) ever blocks the
 * relay's event loop. WAL mode with `synchronous = FULL`: a transaction is on stable storage
 * when COMMIT returns, so a power cut cannot take back anything the relay acknowledged.
 *
 * Group commit: requests that arrive while a transaction is being committed queue up in this
 * thread's message port; the next turn takes all of them and writes them in one transaction,
 * one fsync for the lot. Each request gets its answer only after the COMMIT that holds it
 * returned. A write that fails alone (inside its savepoint) fails alone; a failed COMMIT fails
 * every write of the batch, and none of them is stored.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { workerData } from 'node:worker_threads';
import { ENVELOPE_DB_FILE, ENVELOPE_LOG_SCHEMA, mergeStored } from '../../src/lib/storage/sqlite-log.ts';
import type { ClientBinding } from './relay-store.ts';
import { eraseStatements, TOMBSTONE_SCHEMA } from './erase-sql.ts';
import { isWrite, type ReadRequest, type StorageRequest, type WorkerData, type WriteRequest } from './worker-messages.ts';
import { messageOf, serveBatches, type WireReply } from './worker-rpc.ts';

type StorageReply = WireReply;

const { dataDir } = workerData as WorkerData;

function open(): DatabaseSync {
  if (dataDir !== ':memory:') mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(dataDir === ':memory:' ? ':memory:' : join(dataDir, ENVELOPE_DB_FILE));
  // busy_timeout: the table workers' connections (files, links: table-worker.ts) write to the same file.
  // secure_delete: what an erasure (or a fold) deletes is overwritten, not left in free pages.
  db.exec(`PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; ${ENVELOPE_LOG_SCHEMA} ${TOMBSTONE_SCHEMA}`);
  return db;
}

/** Answers one batch of requests on `db`: its writes committed together, then its reads. */
function handler(db: DatabaseSync): (batch: StorageRequest[]) => StorageReply[] {
  const committed = { transactions: 0, writes: 0 };
  const stmts = {
    state: db.prepare('SELECT state FROM documents WHERE name = ?'),
    updates: db.prepare('SELECT id, data FROM updates WHERE name = ? ORDER BY id'),
    append: db.prepare('INSERT INTO updates (name, data) VALUES (?, ?)'),
    upsert: db.prepare(
      'INSERT INTO documents (name, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
    ),
    // The rows the folded state contains: everything it was loaded from, and each one applied since.
    trim: db.prepare('DELETE FROM updates WHERE name = ? AND (id <= ? OR id IN (SELECT value FROM json_each(?)))'),
    names: db.prepare('SELECT name FROM documents UNION SELECT DISTINCT name FROM updates'),
    owners: db.prepare('SELECT client, owner FROM client_owners WHERE name = ?'),
    bind: db.prepare('INSERT OR IGNORE INTO client_owners (name, client, owner) VALUES (?, ?, ?)'),
    ping: db.prepare('SELECT 1 FROM documents LIMIT 1'),
  };

  const erased = eraseStatements(db);

  function bind(name: string, bindings: readonly ClientBinding[]): void {
    if (erased.isErased(name)) return;
    for (const [client, owner] of bindings) stmts.bind.run(name, client, owner);
  }

  function write(request: WriteRequest): StorageReply {
    switch (request.op) {
      case 'append': {
        if (erased.isErased(request.name)) throw new Error('document erased');
        bind(request.name, request.bindings);
        const { lastInsertRowid } = stmts.append.run(request.name, request.update);
        return { seq: request.seq, ok: true, value: Number(lastInsertRowid) };
      }
      case 'bind':
        bind(request.name, request.bindings);
        return { seq: request.seq, ok: true, value: undefined };
      case 'fold':
        if (erased.isErased(request.name)) return { seq: request.seq, ok: true, value: undefined };
        stmts.upsert.run(request.name, request.state, request.now);
        stmts.trim.run(request.name, request.rows.through, JSON.stringify(request.rows.positions));
        return { seq: request.seq, ok: true, value: undefined };
      case 'erase':
        erased.erase(request.name, request.tombstone);
        return { seq: request.seq, ok: true, value: undefined };
    }
  }

  function read(request: ReadRequest): StorageReply {
    switch (request.op) {
      case 'load': {
        const row = stmts.state.get(request.name) as { state: Uint8Array } | undefined;
        const rows = stmts.updates.all(request.name) as Array<{ id: number | bigint; data: Uint8Array }>;
        const state = mergeStored(row?.state, rows.map((r) => r.data));
        const through = rows.length > 0 ? Number(rows[rows.length - 1]!.id) : 0;
        return { seq: request.seq, ok: true, value: state ? { state, through } : undefined };
      }
      case 'owners': {
        const rows = stmts.owners.all(request.name) as Array<{ client: number | bigint; owner: string }>;
        return { seq: request.seq, ok: true, value: rows.map((r) => [Number(r.client), r.owner] as const) };
      }
      case 'names':
        return { seq: request.seq, ok: true, value: (stmts.names.all() as Array<{ name: string }>).map((r) => r.name) };
      case 'tombstone':
        return { seq: request.seq, ok: true, value: erased.tombstone(request.name) };
      case 'ping':
        stmts.ping.get();
        return { seq: request.seq, ok: true, value: undefined };
      case 'stats':
        return { seq: request.seq, ok: true, value: { ...committed } };
      case 'close':
        return { seq: request.seq, ok: true, value: undefined };
    }
  }

  /** Writes the batch's writes in one transaction; every answer waits for its COMMIT. */
  function commit(writes: readonly WriteRequest[]): StorageReply[] {
    if (writes.length === 0) return [];
    const failAll = (e: unknown) => writes.map((w): StorageReply => ({ seq: w.seq, ok: false, message: messageOf(e) }));
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      return failAll(e);
    }
    const replies = writes.map((w) => {
      db.exec('SAVEPOINT one_write');
      try {
        const reply = write(w);
        db.exec('RELEASE one_write');
        return reply;
      } catch (e) {
        db.exec('ROLLBACK TO one_write');
        db.exec('RELEASE one_write');
        return { seq: w.seq, ok: false, message: messageOf(e) } satisfies StorageReply;
      }
    });
    try {
      db.exec('COMMIT');
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      return failAll(e);
    }
    committed.transactions++;
    committed.writes += writes.length;
    // An erasure's deleted pages (zeroed by secure_delete) move into the database file and the
    // WAL is truncated, so no copy of the erased data stays in it.
    if (writes.some((w) => w.op === 'erase')) erased.checkpoint();
    return replies;
  }

  return (batch) => {
    const answers = new Map<number, StorageReply>();
    for (const reply of commit(batch.filter(isWrite))) answers.set(reply.seq, reply);
    for (const request of batch) {
      if (isWrite(request)) continue;
      try {
        answers.set(request.seq, read(request));
      } catch (e) {
        answers.set(request.seq, { seq: request.seq, ok: false, message: messageOf(e) });
      }
    }
    return batch.map((r) => answers.get(r.seq)!);
  };
}

serveBatches<StorageRequest>(() => {
  const db = open();
  return { handle: handler(db), close: () => db.close() };
});
