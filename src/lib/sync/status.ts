import type { ProtocolErrorCode } from '../protocol/index.ts';

export type Connection = 'connecting' | 'connected' | 'offline';

/** One problem seen in remote data or in sealing this device's edits: shown to the user, never silently accepted. */
export interface SyncProblem {
  /** A code of the protocol table, one meaning each (docs/errors.md; 190-199: this device's own failures). */
  readonly code: ProtocolErrorCode;
  /** Record key (base64url id) if the problem is about one record. */
  readonly key?: string;
  /** Author key (hex) if known; public, not PHI. */
  readonly author?: string;
  readonly message: string;
}

export interface SyncStatus {
  /** The one-word summary the UI shows. */
  readonly state: 'synced' | 'pending' | 'offline' | 'error' | 'verifying';
  readonly connection: Connection;
  /** Local changes not yet acknowledged by the relay (sealed-but-unsent + unsealed), in records and updates. */
  readonly pending: number;
  /**
   * What the person did among those, counted as people count: one per record, note or log entry
   * changed (a typed line is one change, not one per keystroke). 0 when unknown (after a reload,
   * only `pending` survives): the indicator then says "not sent yet" without a number.
   */
  readonly edits: number;
  /** Records held because an earlier record of the same author is missing. */
  readonly gaps: number;
  readonly problems: readonly SyncProblem[];
  /** True once the first catch-up with the relay completed in this session. */
  readonly synced: boolean;
  /**
   * Shown from this device's plain-state cache while the stored records are still being
   * verified against it (docs/decisions/0020): neither synced nor verified yet.
   */
  readonly verifying: boolean;
}

export function summarize(s: Omit<SyncStatus, 'state' | 'edits'> & { edits?: number }): SyncStatus {
  // Held records (gaps) mean the relay has not delivered everything yet: not synced.
  const state =
    s.problems.length > 0
      ? 'error'
      : s.verifying
        ? 'verifying'
        : s.connection !== 'connected'
        ? 'offline'
        : s.pending > 0 || s.gaps > 0 || !s.synced
          ? 'pending'
          : 'synced';
  // While verifying, nothing may read as synced.
  return { ...s, edits: s.pending > 0 ? Math.min(s.edits ?? 0, s.pending) : 0, synced: s.synced && !s.verifying, state };
}
