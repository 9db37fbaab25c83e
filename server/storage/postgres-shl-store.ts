/**
 * SMART Health Links in PostgreSQL (`DATABASE_URL`, decision 0031 amended): the same operations
 * as the SQLite table (shl-table.ts) on tables of migration 2, so every relay instance behind a
 * load balancer serves every link and every file ticket, with no sticky routing. Each rule that
 * two instances could race on is one statement or one locked transaction:
 *   - the per-profile quota and the insert run under the profile's advisory lock;
 *   - a passcode attempt is reserved by one conditional UPDATE (never below zero);
 *   - ending a link clears its ciphertext, passcode hash and tickets in one transaction.
 * An erasure deletes the profile's rows in the log's erasure transaction (postgres-relay-store.ts).
 */
import type pg from 'pg';
import { lockKey, openPool, query, transaction, type PoolOptions, type Queryable } from './postgres-pool.ts';
import { linkOfRow, type LinkRow, type NewLink, type NewTicket, type ShlState, type ShlStore, type StoredLink } from './shl-types.ts';

const END = "UPDATE shl_links SET state = $2, jwe = NULL, passcode_hash = NULL, passcode_salt = NULL, attempts_left = NULL WHERE id = $1 AND state = 'active'";

export class PostgresShlStore implements ShlStore {
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** A small pool of its own (the log's is busy with appends); rejects with RELAY_STORAGE_FAILED. */
  static async open(url: string, o: PoolOptions = {}): Promise<PostgresShlStore> {
    return new PostgresShlStore(await openPool(url, { maxConnections: 4, ...o }));
  }

  insert(link: NewLink, now: number, maxActive: number): Promise<'created' | 'taken' | 'over-quota'> {
    return transaction(this.pool, 'READ COMMITTED', async (c) => {
      await lockKey(c, `shl:${link.doc}`);
      if ((await c.query('SELECT 1 FROM shl_links WHERE id = $1', [link.id])).rows.length > 0) return 'taken';
      const { rows } = await c.query<{ n: string }>("SELECT COUNT(*) AS n FROM shl_links WHERE doc = $1 AND state = 'active'", [link.doc]);
      if (Number(rows[0]!.n) >= maxActive) return 'over-quota';
      const p = link.passcode;
      const inserted = await c.query(
        `INSERT INTO shl_links (id, doc, state, jwe, passcode_hash, passcode_salt, attempts_left, expires_at, created_at)
         VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
        [link.id, link.doc, link.jwe, p ? Buffer.from(p.hash) : null, p ? Buffer.from(p.salt) : null, p?.attempts ?? null, link.expiresAt ?? null, now],
      );
      return inserted.rowCount === 1 ? 'created' : 'taken';
    });
  }

  async get(id: string): Promise<StoredLink | undefined> {
    const { rows } = await query<LinkRow & pg.QueryResultRow>(this.pool, 'SELECT * FROM shl_links WHERE id = $1', [id]);
    return rows[0] && linkOfRow(rows[0]);
  }

  end(id: string, state: Exclude<ShlState, 'active'>): Promise<boolean> {
    return transaction(this.pool, 'READ COMMITTED', (c) => endLink(c, id, state));
  }

  async reserveAttempt(id: string): Promise<boolean> {
    const r = await query(this.pool, "UPDATE shl_links SET attempts_left = attempts_left - 1 WHERE id = $1 AND state = 'active' AND attempts_left > 0", [id]);
    return r.rowCount === 1;
  }

  async refundAttempt(id: string): Promise<void> {
    await query(this.pool, "UPDATE shl_links SET attempts_left = attempts_left + 1 WHERE id = $1 AND state = 'active'", [id]);
  }

  sweepExpired(now: number): Promise<number> {
    return transaction(this.pool, 'READ COMMITTED', async (c) => {
      const { rows } = await c.query<{ id: string }>("SELECT id FROM shl_links WHERE state = 'active' AND expires_at IS NOT NULL AND expires_at <= $1", [now]);
      let ended = 0;
      for (const { id } of rows) if (await endLink(c, id, 'expired')) ended++;
      return ended;
    });
  }

  async issueTicket(ticket: NewTicket, now: number): Promise<void> {
    await transaction(this.pool, 'READ COMMITTED', async (c) => {
      await c.query('DELETE FROM shl_tickets WHERE until <= $1', [now]);
      await c.query('INSERT INTO shl_tickets (ticket, id, doc, until) VALUES ($1, $2, $3, $4) ON CONFLICT (ticket) DO NOTHING', [ticket.hash, ticket.id, ticket.doc, ticket.until]);
    });
  }

  async ticketLink(hash: string, now: number): Promise<string | undefined> {
    const { rows } = await query<{ id: string }>(this.pool, 'SELECT id FROM shl_tickets WHERE ticket = $1 AND until > $2', [hash, now]);
    return rows[0]?.id;
  }

  async dumpAll(): Promise<Array<Record<string, unknown>>> {
    const links = await query(this.pool, 'SELECT * FROM shl_links');
    const tickets = await query(this.pool, 'SELECT * FROM shl_tickets');
    return [...links.rows, ...tickets.rows];
  }

  async ping(): Promise<void> {
    await query(this.pool, 'SELECT 1 FROM shl_links LIMIT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function endLink(c: Queryable, id: string, state: Exclude<ShlState, 'active'>): Promise<boolean> {
  const ended = (await c.query(END, [id, state])).rowCount === 1;
  if (ended) await c.query('DELETE FROM shl_tickets WHERE id = $1', [id]);
  return ended;
}
