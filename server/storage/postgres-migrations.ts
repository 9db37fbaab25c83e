/**
 * The relay's PostgreSQL schema as an ordered list of migrations. Each runs once, in its own
 * transaction, recorded in `fhv_migrations`; relays starting at the same time take an advisory
 * lock so exactly one applies them. A migration is never edited once released: change the
 * schema by appending one.
 */
import type { PoolClient } from 'pg';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'envelope log',
    sql: `
      CREATE TABLE documents (name TEXT PRIMARY KEY, state BYTEA NOT NULL, updated_at BIGINT NOT NULL, generation BIGINT NOT NULL DEFAULT 1);
      CREATE TABLE updates (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, data BYTEA NOT NULL);
      CREATE INDEX updates_by_name ON updates (name, id);
      CREATE TABLE client_owners (name TEXT NOT NULL, client BIGINT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (name, client));
      CREATE TABLE tombstones (name TEXT PRIMARY KEY, erased_at BIGINT NOT NULL, record BYTEA NOT NULL, members BYTEA NOT NULL);
    `,
  },
  {
    // SMART Health Links (decision 0031) beside the log, so any instance serves any link
    // (postgres-shl-store.ts). A ticket row holds a SHA-256 of the ticket, never the ticket.
    version: 2,
    name: 'smart health links',
    sql: `
      CREATE TABLE shl_links (
        id TEXT PRIMARY KEY, doc TEXT NOT NULL, state TEXT NOT NULL, jwe TEXT,
        passcode_hash BYTEA, passcode_salt BYTEA, attempts_left INTEGER, expires_at BIGINT, created_at BIGINT NOT NULL
      );
      CREATE INDEX shl_links_doc ON shl_links (doc, state);
      CREATE INDEX shl_links_expiry ON shl_links (expires_at) WHERE state = 'active';
      CREATE TABLE shl_tickets (ticket TEXT PRIMARY KEY, id TEXT NOT NULL, doc TEXT NOT NULL, until BIGINT NOT NULL);
      CREATE INDEX shl_tickets_doc ON shl_tickets (doc);
      CREATE INDEX shl_tickets_until ON shl_tickets (until);
    `,
  },
  {
    // Document files' metadata when their bodies are in S3 (postgres-file-index.ts, decision
    // 0062); `fhv_backfills` records one-time indexing of what a store held before.
    version: 3,
    name: 'file index',
    sql: `
      CREATE TABLE files (doc TEXT NOT NULL, id TEXT NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (doc, id));
      CREATE TABLE fhv_backfills (name TEXT PRIMARY KEY, done_at TIMESTAMPTZ NOT NULL DEFAULT now());
    `,
  },
];

/** Tables of migrations 2 and 3 keyed by a `doc` column: an erasure deletes the profile's rows from each. */
export const DOC_TABLES = ['shl_links', 'shl_tickets', 'files'] as const;

/** Any fixed 64-bit number: the lock relays take while migrating. */
const MIGRATION_LOCK = 7_204_191_502;

/** Applies the migrations this database lacks; returns the versions it applied. */
export async function migrate(client: PoolClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS fhv_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM fhv_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO fhv_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
