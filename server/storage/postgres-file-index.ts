/**
 * Document files with their metadata in PostgreSQL and their bodies in an S3-compatible store
 * (`DATABASE_URL` and `BLOB_STORE` both set; decision 0062). The `files` table (migration 3)
 * holds one row per stored file: document, id (SHA-256 of the body), size, time. It answers
 * `has`, `usage` and `list` without listing the bucket, and it is what decides whether a file
 * exists:
 *   - a put checks the quota, writes the body and inserts the row inside one transaction holding
 *     the document's advisory lock, so uploads through any number of relay instances never pass
 *     the quota together (S3 alone can only serialize uploads inside one instance);
 *   - an erasure deletes the rows in the log's erasure transaction (postgres-relay-store.ts), so
 *     the files are refused from that commit on, also if deleting the bodies fails afterwards;
 *   - a body written whose row did not commit (a crash, a lost connection) is invisible: never
 *     counted or served; the next upload of that file writes the same bytes and commits its row.
 * A bucket filled before the table existed is indexed once, at the first start (`backfill`).
 */
import type pg from 'pg';
import { fitsQuota, type FileAddress, type FileQuota, type FileStore, type PutResult } from './file-store.ts';
import { lockKey, openPool, query, transaction, type PoolOptions } from './postgres-pool.ts';

/** Rows per page when listing (backups). */
const PAGE = 1000;
const HAS = 'SELECT 1 FROM files WHERE doc = $1 AND id = $2';
const USAGE = 'SELECT COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes FROM files WHERE doc = $1';
/** A row for a stored body (an upload checked it is new, under the document's lock). */
const INSERT = 'INSERT INTO files (doc, id, size, created_at) VALUES ($1, $2, $3, $4)';
/** The same where a row may be there already (a restore, a backfill): it is left as it is. */
const INSERT_IF_NEW = `${INSERT} ON CONFLICT (doc, id) DO NOTHING`;
type UsageRow = { files: string; bytes: string };
const usageOf = (row: UsageRow) => ({ files: Number(row.files), bytes: Number(row.bytes) });

export class PostgresFileIndex implements FileStore {
  private readonly pool: pg.Pool;
  private readonly bodies: FileStore;

  private constructor(pool: pg.Pool, bodies: FileStore) {
    this.pool = pool;
    this.bodies = bodies;
  }

  /** `bodies` holds the bytes (S3); rejects with RELAY_STORAGE_FAILED if the database cannot be opened. */
  static async open(url: string, bodies: FileStore, o: PoolOptions & { now?: () => number } = {}): Promise<PostgresFileIndex> {
    const index = new PostgresFileIndex(await openPool(url, { maxConnections: 4, ...o }), bodies);
    try {
      await index.backfill((o.now ?? Date.now)());
    } catch (e) {
      await index.pool.end().catch(() => undefined);
      throw e;
    }
    return index;
  }

  putWithinQuota(doc: string, id: string, data: Uint8Array, now: number, quota: FileQuota): Promise<PutResult> {
    return transaction(this.pool, 'READ COMMITTED', async (c) => {
      await lockKey(c, `files:${doc}`);
      if ((await c.query(HAS, [doc, id])).rows.length > 0) return 'exists';
      const { rows } = await c.query<UsageRow>(USAGE, [doc]);
      if (!fitsQuota(usageOf(rows[0]!), data.length, quota)) return 'over-quota';
      await this.bodies.putRestored(doc, id, data, now);
      await c.query(INSERT, [doc, id, data.length, now]);
      return 'created';
    });
  }

  async putRestored(doc: string, id: string, data: Uint8Array, now: number): Promise<void> {
    await this.bodies.putRestored(doc, id, data, now);
    await query(this.pool, INSERT_IF_NEW, [doc, id, data.length, now]);
  }

  async has(doc: string, id: string): Promise<boolean> {
    return (await query(this.pool, HAS, [doc, id])).rows.length > 0;
  }

  async fits(doc: string, size: number, quota: FileQuota): Promise<boolean> {
    return fitsQuota(await this.usage(doc), size, quota);
  }

  /** Only a file the table holds: a body left by an upload that did not commit, or by an erasure that did, is not served. */
  async get(doc: string, id: string): Promise<Uint8Array | undefined> {
    return (await this.has(doc, id)) ? this.bodies.get(doc, id) : undefined;
  }

  async usage(doc: string): Promise<{ files: number; bytes: number }> {
    return usageOf((await query<UsageRow>(this.pool, USAGE, [doc])).rows[0]!);
  }

  /** The rows first (the relay's erasure already deleted them in its transaction), then the bodies. */
  async eraseDocument(doc: string): Promise<void> {
    await query(this.pool, 'DELETE FROM files WHERE doc = $1', [doc]);
    await this.bodies.eraseDocument(doc);
  }

  dumpAll(): Promise<Uint8Array[]> {
    return this.bodies.dumpAll();
  }

  async *list(): AsyncGenerator<FileAddress> {
    let after = { doc: '', id: '' };
    for (;;) {
      const { rows } = await query<{ doc: string; id: string }>(this.pool, 'SELECT doc, id FROM files WHERE (doc, id) > ($1, $2) ORDER BY doc, id LIMIT $3', [after.doc, after.id, PAGE]);
      yield* rows.map((r) => ({ doc: r.doc, id: r.id }));
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!;
    }
  }

  async ping(): Promise<void> {
    await Promise.all([query(this.pool, 'SELECT 1 FROM files LIMIT 1'), this.bodies.ping()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.bodies.close()]);
  }

  /**
   * Indexes the bodies already in the store, once per database (`fhv_backfills`), under a lock so
   * that instances starting together do it once. Sizes come from the listing where the store
   * gives them, else from reading the body. Bodies of erased documents are left out.
   */
  private async backfill(now: number): Promise<void> {
    await transaction(this.pool, 'READ COMMITTED', async (c) => {
      await lockKey(c, 'backfill:files');
      if ((await c.query("SELECT 1 FROM fhv_backfills WHERE name = 'files'")).rows.length > 0) return;
      for await (const { doc, id, size } of this.bodies.list()) {
        // An erased document's bodies (a deletion that failed) are not indexed, so never served.
        if ((await c.query('SELECT 1 FROM tombstones WHERE name = $1', [doc])).rows.length > 0) continue;
        const bytes = size ?? (await this.bodies.get(doc, id))?.length;
        if (bytes === undefined) continue;
        await c.query(INSERT_IF_NEW, [doc, id, bytes, now]);
      }
      await c.query("INSERT INTO fhv_backfills (name) VALUES ('files')");
    });
  }
}
