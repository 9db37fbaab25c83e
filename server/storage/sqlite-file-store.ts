/**
 * Encrypted document files in DATA_DIR's SQLite file (the default FileStore): the `blobs` table
 * (blob-table.ts) on a connection that a table worker owns (table-worker.ts), so that storing or
 * reading a file of up to `maxBlobBytes` never blocks the relay's event loop (decision 0054).
 * The worker runs one request at a time and each put checks the quota and inserts in one
 * transaction: no queue needed here.
 */
import type { BlobApi } from './blob-table.ts';
import type { FileAddress, FileQuota, FileStore, PutResult } from './file-store.ts';
import { openTableWorker } from './table-client.ts';
import type { WorkerClient } from './worker-rpc.ts';

export class SqliteFileStore implements FileStore {
  private readonly worker: WorkerClient<BlobApi>;

  private constructor(worker: WorkerClient<BlobApi>) {
    this.worker = worker;
  }

  /** Resolves once its worker opened DATA_DIR's database (rejects with RELAY_STORAGE_FAILED if it cannot). */
  static async open(dataDir: string): Promise<SqliteFileStore> {
    return new SqliteFileStore(await openTableWorker<BlobApi>(dataDir, 'blobs'));
  }

  putWithinQuota(doc: string, id: string, data: Uint8Array, now: number, quota: FileQuota): Promise<PutResult> {
    return this.worker.ask('put', { doc, id, data, now, quota });
  }

  putRestored(doc: string, id: string, data: Uint8Array, now: number): Promise<void> {
    return this.worker.ask('restore', { doc, id, data, now });
  }

  /** Every stored file's address (one answer: addresses are small, files are not in it). */
  async *list(): AsyncGenerator<FileAddress> {
    for (const a of await this.worker.ask('addresses', {})) yield { doc: a.doc, id: a.id };
  }

  has(doc: string, id: string): Promise<boolean> {
    return this.worker.ask('has', { doc, id });
  }

  fits(doc: string, size: number, quota: FileQuota): Promise<boolean> {
    return this.worker.ask('fits', { doc, size, quota });
  }

  get(doc: string, id: string): Promise<Uint8Array | undefined> {
    return this.worker.ask('get', { doc, id });
  }

  usage(doc: string): Promise<{ files: number; bytes: number }> {
    return this.worker.ask('usage', { doc });
  }

  eraseDocument(doc: string): Promise<void> {
    return this.worker.ask('erase', { doc });
  }

  dumpAll(): Promise<Uint8Array[]> {
    return this.worker.ask('all', {});
  }

  ping(): Promise<void> {
    return this.worker.ask('ping', {});
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
