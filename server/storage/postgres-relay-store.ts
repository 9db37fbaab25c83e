/**
 * RelayStore on PostgreSQL (`DATABASE_URL=postgres://…`, docs/operations.md), for several relay
 * instances sharing one log (with REDIS_URL) or a managed database. Same contract as the
 * embedded SQLite store (relay-store.ts), proven by the same suite (tests/server/relay-store-contract.test.ts):
 *
 *   - `append` is one transaction under a per-document advisory lock, committed with
 *     `synchronous_commit = on` (PostgreSQL's default, forced per session): durable when it
 *     resolves. The lock makes one document's row ids grow in commit order even when several
 *     instances append to it, so a `through` read by `load` never skips a row still in flight.
 *   - `load` reads the folded state and the log in one REPEATABLE READ snapshot, so a fold by
 *     another instance between the two reads cannot hide rows.
 *   - `fold` replaces the state only if no other instance folded since this one loaded (a
 *     generation per document); otherwise it merges its state into the stored one, so a fold
 *     can never drop an update another instance folded and deleted from the log.
 *
 * Every query has a timeout (`statement_timeout`, `query_timeout`, the pool's connect timeout):
 * a stuck database fails a write, and the relay refuses it, rather than hanging.
 */
import pg from 'pg';
import { RelayStorageError } from '../errors.ts';
import { DOC_TABLES } from './postgres-migrations.ts';
import { lockKey, openPool, query, transaction, type PoolOptions, type Queryable } from './postgres-pool.ts';
import type { ClientBinding, FoldedRows, LogPosition, RelayStore, StoredDocument, Tombstone } from './relay-store.ts';
import { startUpdateMerger, type UpdateMerger } from './update-merger.ts';

export interface PostgresStoreOptions extends PoolOptions {
  /** Merges up to this many bytes stay on the event loop (update-merger.ts); for tests. */
  readonly inlineMergeMaxBytes?: number;
}

/** A generation no row has: every later fold of that document merges. */
const MERGE_ALWAYS = -1;

export class PostgresRelayStore implements RelayStore {
  /** The generation of each document this instance loaded or folded (see `fold`). */
  private readonly generations = new Map<string, number>();

  private readonly pool: pg.Pool;
  /** Loads and merging folds combine updates off the event loop (update-merger.ts). */
  readonly merger: UpdateMerger;

  private constructor(pool: pg.Pool, merger: UpdateMerger) {
    this.pool = pool;
    this.merger = merger;
  }

  /** Connects, applies pending migrations, and returns the store; rejects with RELAY_STORAGE_FAILED. */
  static async open(url: string, o: PostgresStoreOptions = {}): Promise<PostgresRelayStore> {
    const pool = await openPool(url, o);
    return new PostgresRelayStore(pool, await startUpdateMerger(o.inlineMergeMaxBytes));
  }

  async load(name: string): Promise<StoredDocument | undefined> {
    const { parts, through } = await this.transaction('REPEATABLE READ READ ONLY', async (c) => {
      const doc = await c.query<{ state: Buffer; generation: string }>('SELECT state, generation FROM documents WHERE name = $1', [name]);
      const rows = await c.query<{ id: string; data: Buffer }>('SELECT id, data FROM updates WHERE name = $1 ORDER BY id', [name]);
      const row = doc.rows[0];
      this.generations.set(name, row ? Number(row.generation) : 0);
      return {
        parts: [...(row ? [row.state] : []), ...rows.rows.map((r) => r.data)],
        through: rows.rows.length > 0 ? Number(rows.rows[rows.rows.length - 1]!.id) : 0,
      };
    });
    // After the snapshot's transaction: merging a large document holds no connection.
    if (parts.length === 0) return undefined;
    return { state: await this.merger.merge(parts), through };
  }

  append(name: string, update: Uint8Array, bindings: readonly ClientBinding[]): Promise<LogPosition> {
    return this.transaction('READ COMMITTED', async (c) => {
      await lockDocument(c, name);
      if (await isErased(c, name)) throw new RelayStorageError('document erased');
      await bind(c, name, bindings);
      const { rows } = await c.query<{ id: string }>('INSERT INTO updates (name, data) VALUES ($1, $2) RETURNING id', [name, Buffer.from(update)]);
      return Number(rows[0]!.id);
    });
  }

  async bindClients(name: string, bindings: readonly ClientBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    await this.transaction('READ COMMITTED', async (c) => {
      await lockDocument(c, name);
      if (!(await isErased(c, name))) await bind(c, name, bindings);
    });
  }

  async clientOwners(name: string): Promise<ClientBinding[]> {
    const { rows } = await this.query<{ client: string; owner: string }>('SELECT client, owner FROM client_owners WHERE name = $1', [name]);
    return rows.map((r) => [Number(r.client), r.owner] as const);
  }

  fold(name: string, state: Uint8Array, rows: FoldedRows, now: number): Promise<void> {
    return this.transaction('READ COMMITTED', async (c) => {
      await lockDocument(c, name);
      if (await isErased(c, name)) return;
      const known = this.generations.get(name) ?? 0;
      const stored = await c.query<{ state: Buffer; generation: string }>('SELECT state, generation FROM documents WHERE name = $1 FOR UPDATE', [name]);
      const current = stored.rows[0];
      // Another instance folded since this one loaded: keep what it folded as well.
      const merged = current !== undefined && Number(current.generation) !== known;
      const next = merged ? await this.merger.merge([current.state, state]) : state;
      const { rows: written } = await c.query<{ generation: string }>(
        `INSERT INTO documents (name, state, updated_at, generation) VALUES ($1, $2, $3, 1)
         ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, generation = documents.generation + 1
         RETURNING generation`,
        [name, Buffer.from(next), now],
      );
      await c.query('DELETE FROM updates WHERE name = $1 AND (id <= $2 OR id = ANY($3::bigint[]))', [name, rows.through, rows.positions]);
      // After a merge the stored state may hold what this instance's copy lacks: merge from now on.
      this.generations.set(name, merged ? MERGE_ALWAYS : Number(written[0]!.generation));
    });
  }

  erase(name: string, tombstone: Tombstone): Promise<void> {
    return this.transaction('READ COMMITTED', async (c) => {
      await lockDocument(c, name);
      await c.query('INSERT INTO tombstones (name, erased_at, record, members) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [name, tombstone.erasedAt, Buffer.from(tombstone.record), Buffer.from(tombstone.members)]);
      for (const table of ['updates', 'documents', 'client_owners']) await c.query(`DELETE FROM ${table} WHERE name = $1`, [name]);
      // The profile's SMART Health Links and file index (postgres-shl-store.ts,
      // postgres-file-index.ts) go in the same transaction: its links and files are refused from
      // this commit on.
      for (const table of DOC_TABLES) await c.query(`DELETE FROM ${table} WHERE doc = $1`, [name]);
      this.generations.delete(name);
    });
  }

  async tombstone(name: string): Promise<Tombstone | undefined> {
    const { rows } = await this.query<{ erased_at: string; record: Buffer; members: Buffer }>('SELECT erased_at, record, members FROM tombstones WHERE name = $1', [name]);
    return rows[0] ? { erasedAt: Number(rows[0].erased_at), record: new Uint8Array(rows[0].record), members: new Uint8Array(rows[0].members) } : undefined;
  }

  async documentNames(): Promise<string[]> {
    const { rows } = await this.query<{ name: string }>('SELECT name FROM documents UNION SELECT DISTINCT name FROM updates');
    return rows.map((r) => r.name);
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.merger.close()]);
  }

  private query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    return query<R>(this.pool, sql, values);
  }

  private transaction<T>(isolation: string, run: (c: Queryable) => Promise<T>): Promise<T> {
    return transaction(this.pool, isolation, run);
  }
}

/** Serializes one document's writes across every instance, until the transaction ends. */
function lockDocument(c: Queryable, name: string) {
  return lockKey(c, name);
}

async function isErased(c: Queryable, name: string): Promise<boolean> {
  return (await c.query('SELECT 1 FROM tombstones WHERE name = $1', [name])).rows.length > 0;
}

async function bind(c: Queryable, name: string, bindings: readonly ClientBinding[]): Promise<void> {
  for (const [client, owner] of bindings) {
    await c.query('INSERT INTO client_owners (name, client, owner) VALUES ($1, $2, $3) ON CONFLICT (name, client) DO NOTHING', [name, client, owner]);
  }
}
