/**
 * A second connection to the relay's SQLite file (WAL mode) for the HTTP routes' own tables
 * (document files, SMART Health Links), beside the storage worker's: one place for the file
 * name and the settings every such connection needs. Opened only inside a table worker
 * (table-worker.ts) or in tests, never on the relay's event loop (decision 0054).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ENVELOPE_DB_FILE } from '../../src/lib/storage/sqlite-log.ts';

/**
 * Opens `dataDir`'s relay database (or an in-memory one for ':memory:') and runs `schema`.
 * secure_delete: what these tables delete (revoked links, an erased profile's files) is
 * overwritten, not left in free pages.
 */
export function openSideConnection(dataDir: string, schema: string): DatabaseSync {
  if (dataDir !== ':memory:') mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(dataDir === ':memory:' ? ':memory:' : join(dataDir, ENVELOPE_DB_FILE));
  db.exec(`PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON; ${schema}`);
  return db;
}

/** Runs `body` in one write transaction (BEGIN IMMEDIATE: it waits for the write lock first, up to busy_timeout). */
export function inTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
