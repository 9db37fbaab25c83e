/**
 * Where the relay keeps encrypted document files (decision 0015): in DATA_DIR's SQLite file by
 * default (sqlite-file-store.ts), or in any S3-compatible store with `BLOB_STORE=s3://bucket/prefix`
 * (s3-file-store.ts). Both meet one contract (tests/server/file-store-contract.test.ts). Files
 * are content-addressed (the id is the SHA-256 of the body), so storing one twice changes
 * nothing; bodies are ciphertext.
 */

export interface FileQuota {
  readonly bytes: number;
  readonly files: number;
}

/** Where a file lives: its document's name and its id (base64url SHA-256 of the body). */
export interface FileAddress {
  readonly doc: string;
  readonly id: string;
  /** Its size in bytes, where the listing gives it for free (S3). */
  readonly size?: number;
}

export type PutResult = 'created' | 'exists' | 'over-quota';

/** The quota rule, for every store: one more file of `size` bytes keeps a document within `quota`. */
export function fitsQuota(usage: { readonly files: number; readonly bytes: number }, size: number, quota: FileQuota): boolean {
  return usage.files + 1 <= quota.files && usage.bytes + size <= quota.bytes;
}

export interface FileStore {
  /**
   * Stores a new file only if its document stays within `quota` with it. Puts to one document
   * are serialized in this process, so concurrent uploads cannot both squeeze under the limit.
   */
  putWithinQuota(doc: string, id: string, data: Uint8Array, now: number, quota: FileQuota): Promise<PutResult>;
  /** Stores a file from a backup, without a quota (it was within its quota when first stored); a stored one is left as it is. */
  putRestored(doc: string, id: string, data: Uint8Array, now: number): Promise<void>;
  has(doc: string, id: string): Promise<boolean>;
  /** Whether one more file of `size` bytes keeps `doc` within `quota`. */
  fits(doc: string, size: number, quota: FileQuota): Promise<boolean>;
  get(doc: string, id: string): Promise<Uint8Array | undefined>;
  /** Files and bytes stored for `doc`. */
  usage(doc: string): Promise<{ files: number; bytes: number }>;
  /** Deletes every file of `doc` (an erasure, decision 0035). */
  eraseDocument(doc: string): Promise<void>;
  /** Every stored body, for canary scans in tests. */
  dumpAll(): Promise<Uint8Array[]>;
  /** The address of every stored file (backups, server/backup-files.ts). */
  list(): AsyncIterable<FileAddress>;
  /** Resolves once the store answered (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Runs `task` after every earlier task for the same key (per-document quota check and insert). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
