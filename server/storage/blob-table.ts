/**
 * The `blobs` table in DATA_DIR's SQLite file (the default FileStore's rows), as the table worker
 * (table-worker.ts) runs it: one handler per FileStore operation. Only the worker imports this
 * at run time; sqlite-file-store.ts takes its types.
 */
import type { DatabaseSync } from 'node:sqlite';
import { fitsQuota, type FileQuota, type PutResult } from './file-store.ts';
import { inTransaction } from './side-connection.ts';

export const BLOB_SCHEMA = 'CREATE TABLE IF NOT EXISTS blobs (doc TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (doc, id));';

export function blobTable(db: DatabaseSync) {
  const stmts = {
    // Content-addressed: the same id is the same bytes, so a repeated PUT changes nothing.
    put: db.prepare('INSERT OR IGNORE INTO blobs (doc, id, data, created_at) VALUES (?, ?, ?, ?)'),
    get: db.prepare('SELECT data FROM blobs WHERE doc = ? AND id = ?'),
    all: db.prepare('SELECT data FROM blobs'),
    addresses: db.prepare('SELECT doc, id FROM blobs ORDER BY doc, id'),
    has: db.prepare('SELECT 1 AS found FROM blobs WHERE doc = ? AND id = ?'),
    usage: db.prepare('SELECT COUNT(*) AS files, COALESCE(SUM(length(data)), 0) AS bytes FROM blobs WHERE doc = ?'),
    erase: db.prepare('DELETE FROM blobs WHERE doc = ?'),
    ping: db.prepare('SELECT 1 FROM blobs LIMIT 1'),
  };
  const has = ({ doc, id }: { doc: string; id: string }): boolean => stmts.has.get(doc, id) !== undefined;
  const usage = ({ doc }: { doc: string }): { files: number; bytes: number } => {
    const row = stmts.usage.get(doc) as { files: number | bigint; bytes: number | bigint };
    return { files: Number(row.files), bytes: Number(row.bytes) };
  };
  const fits = ({ doc, size, quota }: { doc: string; size: number; quota: FileQuota }): boolean => fitsQuota(usage({ doc }), size, quota);
  return {
    /** Check and insert in one transaction: this worker runs one request at a time, so puts never interleave. */
    put: (r: { doc: string; id: string; data: Uint8Array; now: number; quota: FileQuota }): PutResult =>
      inTransaction(db, () => {
        if (has(r)) return 'exists';
        if (!fits({ doc: r.doc, size: r.data.length, quota: r.quota })) return 'over-quota';
        return Number(stmts.put.run(r.doc, r.id, r.data, r.now).changes) > 0 ? 'created' : 'exists';
      }),
    /** A restore (server/admin.ts): no quota, the backup held it. */
    restore: (r: { doc: string; id: string; data: Uint8Array; now: number }): void => void stmts.put.run(r.doc, r.id, r.data, r.now),
    addresses: (_: object): Array<{ doc: string; id: string }> => stmts.addresses.all() as Array<{ doc: string; id: string }>,
    has,
    fits,
    usage,
    get: ({ doc, id }: { doc: string; id: string }): Uint8Array | undefined => (stmts.get.get(doc, id) as { data: Uint8Array } | undefined)?.data,
    erase: ({ doc }: { doc: string }): void => void stmts.erase.run(doc),
    all: (_: object): Uint8Array[] => (stmts.all.all() as Array<{ data: Uint8Array }>).map((r) => r.data),
    ping: (_: object): void => void stmts.ping.get(),
  };
}

export type BlobApi = ReturnType<typeof blobTable>;
