/**
 * What the relay keeps about SMART Health Links (decisions 0031, 0061), and the one interface its
 * two stores implement: the SQLite table (shl-table.ts, behind server/shl-store.ts) and
 * PostgreSQL (postgres-shl-store.ts). tests/server/shl-store-contract.test.ts holds both to it.
 */

/** A file ticket as stored: the SHA-256 of the ticket (hex), never the ticket itself. */
export interface NewTicket {
  readonly hash: string;
  readonly id: string;
  readonly doc: string;
  readonly until: number;
}

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

/** A `shl_links` row as either database returns it (SQLite: bigint numbers, PostgreSQL: BIGINT as text, BYTEA as Buffer). */
export interface LinkRow {
  readonly id: string;
  readonly doc: string;
  readonly state: ShlState;
  readonly jwe: string | null;
  readonly passcode_hash: Uint8Array | null;
  readonly passcode_salt: Uint8Array | null;
  readonly attempts_left: number | bigint | null;
  readonly expires_at: number | bigint | string | null;
}

/** The one reading of a row, for both stores. */
export function linkOfRow(r: LinkRow): StoredLink {
  return {
    id: r.id,
    doc: r.doc,
    state: r.state,
    jwe: r.jwe ?? undefined,
    passcodeHash: r.passcode_hash === null ? undefined : new Uint8Array(r.passcode_hash),
    passcodeSalt: r.passcode_salt === null ? undefined : new Uint8Array(r.passcode_salt),
    attemptsLeft: r.attempts_left === null ? undefined : Number(r.attempts_left),
    expiresAt: r.expires_at === null ? undefined : Number(r.expires_at),
  };
}

export interface NewLink {
  readonly id: string;
  readonly doc: string;
  readonly jwe: string;
  readonly passcode?: { readonly hash: Uint8Array; readonly salt: Uint8Array; readonly attempts: number };
  readonly expiresAt?: number;
}

export interface ShlStore {
  /** Stores a new link if the profile has fewer than `maxActive` live ones; 'taken' if the id exists. */
  insert(link: NewLink, now: number, maxActive: number): Promise<'created' | 'taken' | 'over-quota'>;
  get(id: string): Promise<StoredLink | undefined>;
  /** Ends an active link (its ciphertext, passcode hash and tickets are deleted); false if it was not active. */
  end(id: string, state: Exclude<ShlState, 'active'>): Promise<boolean>;
  /** Takes one passcode attempt before checking a guess; false when none is left. */
  reserveAttempt(id: string): Promise<boolean>;
  /** Gives back the attempt of a guess that was right. */
  refundAttempt(id: string): Promise<void>;
  /** Ends every link whose expiry is past; returns how many. */
  sweepExpired(now: number): Promise<number>;
  /** Stores a file ticket (by its hash); tickets past their time are dropped on the way. */
  issueTicket(ticket: NewTicket, now: number): Promise<void>;
  /** The link a ticket (by its hash) was issued for, while it is valid. */
  ticketLink(hash: string, now: number): Promise<string | undefined>;
  /** Every row, for canary scans in tests. */
  dumpAll(): Promise<Array<Record<string, unknown>>>;
  /** Resolves once the store answered (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

