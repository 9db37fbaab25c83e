/**
 * One PostgreSQL connection pool as the relay's stores use it (`DATABASE_URL`): every query,
 * connect and statement has a timeout, a pooled connection that breaks (a database restart) never
 * crashes the process, and every failure becomes RELAY_STORAGE_FAILED naming only the SQLSTATE
 * (a message may quote a statement's values). Shared by the envelope log
 * (postgres-relay-store.ts) and the SMART Health Links table (postgres-shl-store.ts).
 */
import pg from 'pg';
import { RelayStorageError } from '../errors.ts';
import { migrate } from './postgres-migrations.ts';

export interface PoolOptions {
  /** Each query, and each wait for a pooled connection, fails after this long. Default 10 s. */
  readonly timeoutMs?: number;
  /** Pooled connections. Default 10. */
  readonly maxConnections?: number;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Connects, applies pending migrations (postgres-migrations.ts), and returns the pool; rejects with RELAY_STORAGE_FAILED. */
export async function openPool(url: string, o: PoolOptions = {}): Promise<pg.Pool> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: o.maxConnections ?? 10,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    options: '-c synchronous_commit=on',
  });
  // Idle connections report on the pool, checked-out ones on themselves (their next query fails).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new RelayStorageError(`cannot open the PostgreSQL store: ${codeOf(e)}`);
  }
  return pool;
}

export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(sql, values);
  } catch (e) {
    throw asStorageError(e);
  }
}

/** Runs `run` in one transaction at `isolation`; rolls back on any failure. */
export async function transaction<T>(pool: pg.Pool, isolation: string, run: (c: Queryable) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw asStorageError(e);
  }
  let broken = false;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const value = await run(client);
    await client.query('COMMIT');
    return value;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw asStorageError(e);
  } finally {
    client.release(broken);
  }
}

/** Holds a transaction-scoped advisory lock on `key` (one document's writes, across every instance). */
export function lockKey(c: Queryable, key: string) {
  return c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}

/** The error's SQLSTATE or errno, never its message (which may quote a statement's values). */
export function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/i.test(code) ? code : 'error';
}

export function asStorageError(e: unknown): RelayStorageError {
  return e instanceof RelayStorageError ? e : new RelayStorageError(`PostgreSQL request failed (${codeOf(e)})`);
}
