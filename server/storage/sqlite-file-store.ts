/**
 * Encrypted document files in DATA_DIR's SQLite file (the default FileStore): a second
 * connection to the relay's database (WAL mode). Its statements run on the event loop; each is
 * one indexed row read or write (a file is at most `maxBlobBytes`).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { FileAddress, FileQuota, FileStore, PutResult } from './file-store.ts';
import { openSideConnection } from './side-connection.ts';

export class SqliteFileStore implements FileStore {
  private readonly db: DatabaseSync;
  private readonly stmts;

  constructor(dataDir: string) {
    this.db = openSideConnection(dataDir, 'CREATE TABLE IF NOT EXISTS blobs (doc TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (doc, id));');
    this.stmts = {
      // Content-addressed: the same id is the same bytes, so a repeated PUT changes nothing.
      put: this.db.prepare('INSERT OR IGNORE INTO blobs (doc, id, data, created_at) VALUES (?, ?, ?, ?)'),
      get: this.db.prepare('SELECT data FROM blobs WHERE doc = ? AND id = ?'),
      all: this.db.prepare('SELECT data FROM blobs'),
      addresses: this.db.prepare('SELECT doc, id FROM blobs ORDER BY doc, id'),
      has: this.db.prepare('SELECT 1 AS found FROM blobs WHERE doc = ? AND id = ?'),
      usage: this.db.prepare('SELECT COUNT(*) AS files, COALESCE(SUM(length(data)), 0) AS bytes FROM blobs WHERE doc = ?'),
      erase: this.db.prepare('DELETE FROM blobs WHERE doc = ?'),
      ping: this.db.prepare('SELECT 1 FROM blobs LIMIT 1'),
    };
  }

  /** Check and insert are one synchronous step here: no queue needed. */
  async putWithinQuota(doc: string, id: string, data: Uint8Array, now: number, quota: FileQuota): Promise<PutResult> {
    if (this.hasNow(doc, id)) return 'exists';
    if (!this.fitsNow(doc, data.length, quota)) return 'over-quota';
    return Number(this.stmts.put.run(doc, id, data, now).changes) > 0 ? 'created' : 'exists';
  }

  async putRestored(doc: string, id: string, data: Uint8Array, now: number): Promise<void> {
    this.stmts.put.run(doc, id, data, now);
  }

  async has(doc: string, id: string): Promise<boolean> {
    return this.hasNow(doc, id);
  }

  async fits(doc: string, size: number, quota: FileQuota): Promise<boolean> {
    return this.fitsNow(doc, size, quota);
  }

  async get(doc: string, id: string): Promise<Uint8Array | undefined> {
    const row = this.stmts.get.get(doc, id) as { data: Uint8Array } | undefined;
    return row ? new Uint8Array(row.data) : undefined;
  }

  async usage(doc: string): Promise<{ files: number; bytes: number }> {
    return this.usageNow(doc);
  }

  async eraseDocument(doc: string): Promise<void> {
    this.stmts.erase.run(doc);
  }

  async dumpAll(): Promise<Uint8Array[]> {
    return (this.stmts.all.all() as Array<{ data: Uint8Array }>).map((r) => new Uint8Array(r.data));
  }

  async *list(): AsyncGenerator<FileAddress> {
    for (const row of this.stmts.addresses.iterate() as Iterable<{ doc: string; id: string }>) yield { doc: row.doc, id: row.id };
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private hasNow(doc: string, id: string): boolean {
    return this.stmts.has.get(doc, id) !== undefined;
  }

  private usageNow(doc: string): { files: number; bytes: number } {
    const row = this.stmts.usage.get(doc) as { files: number | bigint; bytes: number | bigint };
    return { files: Number(row.files), bytes: Number(row.bytes) };
  }

  private fitsNow(doc: string, size: number, quota: FileQuota): boolean {
    const { files, bytes } = this.usageNow(doc);
    return files + 1 <= quota.files && bytes + size <= quota.bytes;
  }
}
