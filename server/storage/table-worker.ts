/**
 * A worker thread that owns one connection to DATA_DIR's SQLite file for one of the HTTP routes'
 * tables (files, SMART Health Links, or the erasure of both when PostgreSQL holds the log), so
 * that their statements, a 25 MB file's insert, a checkpoint's fsync and any wait for the write
 * lock the storage worker holds (busy_timeout) block this thread and never the relay's event
 * loop (decision 0054). Requests are answered one by one, in order (worker-rpc.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import { workerData } from 'node:worker_threads';
import { BLOB_SCHEMA, blobTable } from './blob-table.ts';
import { eraseSiblingRows } from './erase-sql.ts';
import { openSideConnection } from './side-connection.ts';
import { SHL_SCHEMA, shlTable } from './shl-table.ts';
import { replyTo, serveBatches, type WireRequest } from './worker-rpc.ts';

/** Which table a worker serves, and its handlers (op → fields → answer). */
const TABLES = {
  blobs: { schema: BLOB_SCHEMA, open: blobTable },
  shl: { schema: SHL_SCHEMA, open: shlTable },
  siblings: { schema: '', open: siblingTables },
} as const;

/** With PostgreSQL holding the log: an erasure also clears the local files and links (erase-sql.ts). */
function siblingTables(db: DatabaseSync) {
  return { erase: ({ name }: { name: string }): void => eraseSiblingRows(db, name) };
}

export type SiblingApi = ReturnType<typeof siblingTables>;

export type TableName = keyof typeof TABLES;

export interface TableWorkerData {
  readonly dataDir: string;
  readonly table: TableName;
}

const { dataDir, table } = workerData as TableWorkerData;
serveBatches<WireRequest>(() => {
  const db = openSideConnection(dataDir, TABLES[table].schema);
  const handlers = TABLES[table].open(db) as unknown as Record<string, (fields: unknown) => unknown>;
  return {
    handle: (batch) => batch.map((r) => replyTo(r, () => (r.op === 'close' ? undefined : handlers[r.op]!(r)))),
    close: () => db.close(),
  };
});
