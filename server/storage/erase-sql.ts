/**
 * Erasure in the relay's SQLite file (decision 0035), run by the storage worker inside its write
 * transaction: the tombstone goes in and every row about the document goes out together. The
 * blob and SHL tables live in the same file (other connections create them), so they are
 * cleared here too when they exist.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Tombstone } from './relay-store.ts';

export const TOMBSTONE_SCHEMA = "CREATE TABLE IF NOT EXISTS tombstones (name TEXT PRIMARY KEY, erased_at INTEGER NOT NULL, record BLOB NOT NULL, members BLOB NOT NULL DEFAULT x'');";

/** A tombstones table made before member digests were kept gains the column (empty: nobody may fetch those). */
export function migrateTombstones(db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(tombstones)').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'members')) db.exec("ALTER TABLE tombstones ADD COLUMN members BLOB NOT NULL DEFAULT x''");
}

/** Tables of other connections that hold per-document rows, and the column naming the document. */
const SIBLING_TABLES: ReadonlyArray<readonly [table: string, column: string]> = [
  ['blobs', 'doc'],
  ['shl_links', 'doc'],
  ['shl_tickets', 'doc'],
];

export function eraseStatements(db: DatabaseSync) {
  migrateTombstones(db);
  const stmts = {
    isErased: db.prepare('SELECT 1 AS found FROM tombstones WHERE name = ?'),
    get: db.prepare('SELECT erased_at, record, members FROM tombstones WHERE name = ?'),
    put: db.prepare('INSERT OR IGNORE INTO tombstones (name, erased_at, record, members) VALUES (?, ?, ?, ?)'),
    deletes: [
      db.prepare('DELETE FROM updates WHERE name = ?'),
      db.prepare('DELETE FROM documents WHERE name = ?'),
      db.prepare('DELETE FROM client_owners WHERE name = ?'),
    ],
  };
  return {
    isErased: (name: string): boolean => stmts.isErased.get(name) !== undefined,
    tombstone(name: string): Tombstone | undefined {
      const row = stmts.get.get(name) as { erased_at: number | bigint; record: Uint8Array; members: Uint8Array } | undefined;
      return row ? { erasedAt: Number(row.erased_at), record: new Uint8Array(row.record), members: new Uint8Array(row.members) } : undefined;
    },
    erase(name: string, tombstone: Tombstone): void {
      stmts.put.run(name, tombstone.erasedAt, tombstone.record, tombstone.members);
      for (const d of stmts.deletes) d.run(name);
      eraseSiblingRows(db, name);
    },
    /** After the commit: copy the zeroed pages home and empty the WAL. */
    checkpoint(): void {
      try {
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch {
        // A reader held the WAL: the next checkpoint (automatic) moves the pages; secure_delete already zeroed them.
      }
    },
  };
}

/**
 * Deletes `name`'s rows from the HTTP routes' tables (files, links) in this SQLite file. With
 * PostgreSQL holding the log (DATABASE_URL) these tables stay in the local file, and the relay
 * runs this right after the PostgreSQL erasure committed (server/storage/open-store.ts).
 */
export function eraseSiblingRows(db: DatabaseSync, name: string): void {
  const exists = db.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?");
  for (const [table, column] of SIBLING_TABLES) {
    // Names come from the constant above, never from input.
    if (exists.get(table) !== undefined) db.prepare(`DELETE FROM ${table} WHERE ${column} = ?`).run(name);
  }
}
