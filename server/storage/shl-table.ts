/**
 * The `shl_links` and `shl_tickets` tables in DATA_DIR's SQLite file (SMART Health Links,
 * decisions 0031 and 0061), as the table worker (table-worker.ts) runs them: one handler per
 * ShlStore operation (shl-types.ts). Only the worker imports this at run time.
 */
import type { DatabaseSync } from 'node:sqlite';
import { inTransaction } from './side-connection.ts';
import { linkOfRow, type LinkRow, type NewLink, type NewTicket, type ShlState, type StoredLink } from './shl-types.ts';

export const SHL_SCHEMA = `
  CREATE TABLE IF NOT EXISTS shl_links (
    id TEXT PRIMARY KEY, doc TEXT NOT NULL, state TEXT NOT NULL, jwe TEXT,
    passcode_hash BLOB, passcode_salt BLOB, attempts_left INTEGER, expires_at INTEGER, created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS shl_links_doc ON shl_links (doc);
  CREATE TABLE IF NOT EXISTS shl_tickets (ticket TEXT PRIMARY KEY, id TEXT NOT NULL, doc TEXT NOT NULL, until INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS shl_tickets_doc ON shl_tickets (doc);
  CREATE INDEX IF NOT EXISTS shl_tickets_until ON shl_tickets (until);
`;

export function shlTable(db: DatabaseSync) {
  const stmts = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO shl_links (id, doc, state, jwe, passcode_hash, passcode_salt, attempts_left, expires_at, created_at)
       VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare('SELECT * FROM shl_links WHERE id = ?'),
    active: db.prepare("SELECT COUNT(*) AS n FROM shl_links WHERE doc = ? AND state = 'active'"),
    end: db.prepare("UPDATE shl_links SET state = ?, jwe = NULL, passcode_hash = NULL, passcode_salt = NULL, attempts_left = NULL WHERE id = ? AND state = 'active'"),
    reserve: db.prepare("UPDATE shl_links SET attempts_left = attempts_left - 1 WHERE id = ? AND state = 'active' AND attempts_left > 0"),
    refund: db.prepare("UPDATE shl_links SET attempts_left = attempts_left + 1 WHERE id = ? AND state = 'active'"),
    expired: db.prepare("SELECT id FROM shl_links WHERE state = 'active' AND expires_at IS NOT NULL AND expires_at <= ?"),
    all: db.prepare('SELECT * FROM shl_links'),
    allTickets: db.prepare('SELECT * FROM shl_tickets'),
    dropTickets: db.prepare('DELETE FROM shl_tickets WHERE id = ?'),
    staleTickets: db.prepare('DELETE FROM shl_tickets WHERE until <= ?'),
    ticket: db.prepare('INSERT OR IGNORE INTO shl_tickets (ticket, id, doc, until) VALUES (?, ?, ?, ?)'),
    redeem: db.prepare('SELECT id FROM shl_tickets WHERE ticket = ? AND until > ?'),
    ping: db.prepare('SELECT 1 FROM shl_links LIMIT 1'),
  };
  const get = ({ id }: { id: string }): StoredLink | undefined => {
    const r = stmts.get.get(id) as LinkRow | undefined;
    return r && linkOfRow(r);
  };
  /** The link's ciphertext, passcode hash and tickets go together (the caller holds a transaction). */
  const endRow = ({ id, state }: { id: string; state: Exclude<ShlState, 'active'> }): boolean => {
    const ended = Number(stmts.end.run(state, id).changes) > 0;
    if (ended) stmts.dropTickets.run(id);
    return ended;
  };
  const end = (link: { id: string; state: Exclude<ShlState, 'active'> }): boolean => inTransaction(db, () => endRow(link));
  return {
    /** The id check, the per-profile count and the insert in one transaction. */
    insert: ({ link, now, maxActive }: { link: NewLink; now: number; maxActive: number }): 'created' | 'taken' | 'over-quota' =>
      inTransaction(db, () => {
        if (get(link)) return 'taken';
        if (Number((stmts.active.get(link.doc) as { n: number | bigint }).n) >= maxActive) return 'over-quota';
        const p = link.passcode;
        const changes = stmts.insert.run(link.id, link.doc, link.jwe, p?.hash ?? null, p?.salt ?? null, p?.attempts ?? null, link.expiresAt ?? null, now).changes;
        return Number(changes) > 0 ? 'created' : 'taken';
      }),
    get,
    end,
    reserve: ({ id }: { id: string }): boolean => Number(stmts.reserve.run(id).changes) > 0,
    refund: ({ id }: { id: string }): void => void stmts.refund.run(id),
    sweep: ({ now }: { now: number }): number =>
      inTransaction(db, () => {
        const ids = (stmts.expired.all(now) as Array<{ id: string }>).map((r) => r.id);
        for (const id of ids) endRow({ id, state: 'expired' });
        return ids.length;
      }),
    ticket: ({ ticket, now }: { ticket: NewTicket; now: number }): void =>
      inTransaction(db, () => {
        stmts.staleTickets.run(now);
        stmts.ticket.run(ticket.hash, ticket.id, ticket.doc, ticket.until);
      }),
    redeem: ({ hash, now }: { hash: string; now: number }): string | undefined => (stmts.redeem.get(hash, now) as { id: string } | undefined)?.id,
    all: (_: object): Array<Record<string, unknown>> => [...stmts.all.all(), ...stmts.allTickets.all()] as Array<Record<string, unknown>>,
    ping: (_: object): void => void stmts.ping.get(),
  };
}

export type ShlApi = ReturnType<typeof shlTable>;
