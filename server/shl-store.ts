/**
 * SMART Health Links on the relay (docs/decisions/0031): per manifest id, the owner's profile,
 * the JWE (ciphertext made on the owner's device; the key never comes here), an optional
 * passcode's scrypt hash and salt with the attempts left, and an expiry. A link that is revoked,
 * expired or out of attempts keeps only a tombstone (id, profile, state): its ciphertext and
 * passcode hash are deleted at once and the id is never served or reused. A table beside the
 * blobs in the relay's SQLite file (one more connection, WAL mode).
 */
import type { DatabaseSync } from 'node:sqlite';
import { openSideConnection } from './storage/side-connection.ts';


export type ShlState = 'active' | 'revoked' | 'expired' | 'exhausted';

export interface StoredLink {
  readonly id: string;
  readonly doc: string;
  readonly state: ShlState;
  readonly jwe: string | undefined;
  readonly passcodeHash: Uint8Array | undefined;
  readonly passcodeSalt: Uint8Array | undefined;
  readonly attemptsLeft: number | undefined;
  /** Milliseconds since the epoch; undefined: no expiry. */
  readonly expiresAt: number | undefined;
}

export interface NewLink {
  readonly id: string;
  readonly doc: string;
  readonly jwe: string;
  readonly passcode?: { readonly hash: Uint8Array; readonly salt: Uint8Array; readonly attempts: number };
  readonly expiresAt?: number;
}

interface Row {
  id: string;
  doc: string;
  state: ShlState;
  jwe: string | null;
  passcode_hash: Uint8Array | null;
  passcode_salt: Uint8Array | null;
  attempts_left: number | bigint | null;
  expires_at: number | bigint | null;
}

export class ShlStore {
  private readonly db: DatabaseSync;
  private readonly stmts;

  constructor(dataDir: string) {
    this.db = openSideConnection(
      dataDir,
      `
      CREATE TABLE IF NOT EXISTS shl_links (
        id TEXT PRIMARY KEY, doc TEXT NOT NULL, state TEXT NOT NULL, jwe TEXT,
        passcode_hash BLOB, passcode_salt BLOB, attempts_left INTEGER, expires_at INTEGER, created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS shl_links_doc ON shl_links (doc);
    `,
    );
    this.stmts = {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO shl_links (id, doc, state, jwe, passcode_hash, passcode_salt, attempts_left, expires_at, created_at)
         VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
      ),
      get: this.db.prepare('SELECT * FROM shl_links WHERE id = ?'),
      active: this.db.prepare("SELECT COUNT(*) AS n FROM shl_links WHERE doc = ? AND state = 'active'"),
      end: this.db.prepare("UPDATE shl_links SET state = ?, jwe = NULL, passcode_hash = NULL, passcode_salt = NULL, attempts_left = NULL WHERE id = ? AND state = 'active'"),
      reserve: this.db.prepare("UPDATE shl_links SET attempts_left = attempts_left - 1 WHERE id = ? AND state = 'active' AND attempts_left > 0"),
      refund: this.db.prepare("UPDATE shl_links SET attempts_left = attempts_left + 1 WHERE id = ? AND state = 'active'"),
      expired: this.db.prepare("SELECT id FROM shl_links WHERE state = 'active' AND expires_at IS NOT NULL AND expires_at <= ?"),
      all: this.db.prepare('SELECT * FROM shl_links'),
    };
  }

  /** Stores a new link if the profile has fewer than `maxActive` live ones; false if the id exists. */
  insert(link: NewLink, now: number, maxActive: number): 'created' | 'taken' | 'over-quota' {
    if (this.get(link.id)) return 'taken';
    if (Number((this.stmts.active.get(link.doc) as { n: number | bigint }).n) >= maxActive) return 'over-quota';
    const p = link.passcode;
    const changes = this.stmts.insert.run(link.id, link.doc, link.jwe, p?.hash ?? null, p?.salt ?? null, p?.attempts ?? null, link.expiresAt ?? null, now).changes;
    return Number(changes) > 0 ? 'created' : 'taken';
  }

  get(id: string): StoredLink | undefined {
    const r = this.stmts.get.get(id) as Row | undefined;
    if (!r) return undefined;
    return {
      id: r.id,
      doc: r.doc,
      state: r.state,
      jwe: r.jwe ?? undefined,
      passcodeHash: r.passcode_hash ? new Uint8Array(r.passcode_hash) : undefined,
      passcodeSalt: r.passcode_salt ? new Uint8Array(r.passcode_salt) : undefined,
      attemptsLeft: r.attempts_left === null ? undefined : Number(r.attempts_left),
      expiresAt: r.expires_at === null ? undefined : Number(r.expires_at),
    };
  }

  /** Ends an active link (its ciphertext and passcode hash are deleted); false if it was not active. */
  end(id: string, state: Exclude<ShlState, 'active'>): boolean {
    return Number(this.stmts.end.run(state, id).changes) > 0;
  }

  /** Takes one passcode attempt before checking a guess; false when none is left. */
  reserveAttempt(id: string): boolean {
    return Number(this.stmts.reserve.run(id).changes) > 0;
  }

  /** Gives back the attempt of a guess that was right. */
  refundAttempt(id: string): void {
    this.stmts.refund.run(id);
  }

  /** Ends every link whose expiry is past; returns how many. */
  sweepExpired(now: number): number {
    const ids = (this.stmts.expired.all(now) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) this.end(id, 'expired');
    return ids.length;
  }

  /** Every row, for canary scans in tests. */
  dumpAll(): Array<Record<string, unknown>> {
    return this.stmts.all.all() as Array<Record<string, unknown>>;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
