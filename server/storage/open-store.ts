/**
 * Which RelayStore the relay runs on: embedded SQLite in DATA_DIR (the default, nothing to set
 * up), or PostgreSQL when `DATABASE_URL` is set (docs/operations.md "Scaling"). Document files
 * stay in DATA_DIR's SQLite file unless BLOB_STORE is set, so with PostgreSQL an erasure also
 * clears the local tables once the PostgreSQL erasure committed (SMART Health Links are then in
 * PostgreSQL and go in its transaction, decision 0061; the local table may hold older ones).
 * The PostgreSQL and S3 clients are imported only when configured: a relay on its defaults
 * starts without loading them (a restarted relay is back sooner: S7's restart storm).
 */
import type { RelayConfig } from '../config.ts';
import type { RelayStorageError } from '../errors.ts';
import { delegateStore, type RelayStore } from './relay-store.ts';
import type { SiblingApi } from './table-worker.ts';
import type { WorkerClient } from './worker-rpc.ts';
import { openTableWorker } from './table-client.ts';
import { SqliteRelayStore } from './sqlite-relay-store.ts';
import type { FileStore } from './file-store.ts';
import { SqliteFileStore } from './sqlite-file-store.ts';

export interface OpenedStore {
  readonly store: RelayStore;
  /** Resolves if storage stops for good (the SQLite worker died); PostgreSQL outages show in `/readyz` instead. */
  readonly lost: Promise<RelayStorageError>;
}

/**
 * DATA_DIR's SQLite file, or the S3-compatible store `BLOB_STORE` names; with `DATABASE_URL` too,
 * the files' metadata and quotas are kept in PostgreSQL (postgres-file-index.ts).
 */
export async function openFileStore(config: Pick<RelayConfig, 'dataDir' | 'blobStore' | 's3' | 'databaseUrl' | 'now'>): Promise<FileStore> {
  if (config.blobStore === undefined) return SqliteFileStore.open(config.dataDir);
  const { parseS3Url, S3FileStore } = await import('./s3-file-store.ts');
  const bodies = new S3FileStore(parseS3Url(config.blobStore), config.s3);
  if (config.databaseUrl === undefined) return bodies;
  const { PostgresFileIndex } = await import('./postgres-file-index.ts');
  return PostgresFileIndex.open(config.databaseUrl, bodies, { now: config.now }).catch(async (e: unknown) => {
    await bodies.close();
    throw e;
  });
}

/**
 * The store with erasure extended to the document's files: once the log's erasure committed,
 * the files go (in SQLite they already went in the same transaction; deleting again is a no-op).
 */
export function erasingFiles(store: RelayStore, files: FileStore): RelayStore {
  return { ...delegateStore(store), erase: async (name, tombstone) => (await store.erase(name, tombstone), await files.eraseDocument(name)) };
}

export async function openRelayStore(config: Pick<RelayConfig, 'dataDir' | 'databaseUrl'>): Promise<OpenedStore> {
  if (config.databaseUrl === undefined) {
    const sqlite = await SqliteRelayStore.open(config.dataDir);
    return { store: sqlite, lost: sqlite.whenLost() };
  }
  const { PostgresRelayStore } = await import('./postgres-relay-store.ts');
  const postgres = await PostgresRelayStore.open(config.databaseUrl);
  return { store: withLocalErasure(postgres, await openTableWorker<SiblingApi>(config.dataDir, 'siblings')), lost: new Promise(() => undefined) };
}

/** Clears the local tables in a table worker (table-worker.ts), off the event loop; closed with the store. */
function withLocalErasure(store: RelayStore, local: WorkerClient<SiblingApi>): RelayStore {
  return {
    ...delegateStore(store),
    async erase(name, tombstone) {
      await store.erase(name, tombstone);
      await local.ask('erase', { name });
    },
    close: async () => void (await Promise.all([store.close(), local.close()])),
  };
}
