/**
 * Which RelayStore the relay runs on: embedded SQLite in DATA_DIR (the default, nothing to set
 * up), or PostgreSQL when `DATABASE_URL` is set (docs/operations.md "Scaling"). The HTTP routes'
 * own tables (document files, SMART Health Links) stay in DATA_DIR's SQLite file either way, so
 * with PostgreSQL an erasure also clears them there once the PostgreSQL erasure committed.
 */
import type { RelayConfig } from '../config.ts';
import type { RelayStorageError } from '../errors.ts';
import { eraseSiblingRows } from './erase-sql.ts';
import { PostgresRelayStore } from './postgres-relay-store.ts';
import type { RelayStore } from './relay-store.ts';
import { openSideConnection } from './side-connection.ts';
import { SqliteRelayStore } from './sqlite-relay-store.ts';

export interface OpenedStore {
  readonly store: RelayStore;
  /** Resolves if storage stops for good (the SQLite worker died); PostgreSQL outages show in `/readyz` instead. */
  readonly lost: Promise<RelayStorageError>;
}

export async function openRelayStore(config: Pick<RelayConfig, 'dataDir' | 'databaseUrl'>): Promise<OpenedStore> {
  if (config.databaseUrl === undefined) {
    const sqlite = await SqliteRelayStore.open(config.dataDir);
    return { store: sqlite, lost: sqlite.whenLost() };
  }
  const postgres = await PostgresRelayStore.open(config.databaseUrl);
  return { store: withLocalErasure(postgres, config.dataDir), lost: new Promise(() => undefined) };
}

function withLocalErasure(store: RelayStore, dataDir: string): RelayStore {
  return {
    load: (name) => store.load(name),
    append: (name, update, bindings) => store.append(name, update, bindings),
    bindClients: (name, bindings) => store.bindClients(name, bindings),
    clientOwners: (name) => store.clientOwners(name),
    fold: (name, state, rows, now) => store.fold(name, state, rows, now),
    async erase(name, tombstone) {
      await store.erase(name, tombstone);
      const local = openSideConnection(dataDir, '');
      try {
        eraseSiblingRows(local, name);
      } finally {
        local.close();
      }
    },
    tombstone: (name) => store.tombstone(name),
    documentNames: () => store.documentNames(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
