/**
 * What the envelope gate (envelope.ts `checkEnvelopeUpdate`) is called with and what it gives
 * back: its limits, its options (relay or replica scope) and an accepted update. Its own module
 * because relay and clients build these apart from the checks themselves, and the check's
 * pieces (structs, clock ownership, deletes) read them without importing the gate.
 */
import type { Ed25519Engine } from '../crypto/index.ts';
import type { ParsedRecord } from './record.ts';

export interface EnvelopeLimits {
  readonly maxRecordBytes: number;
  readonly maxUpdateBytes: number;
  /** Most structs one update may carry (a sync step 2 of a large profile stays far below). */
  readonly maxStructs: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxRecordBytes: 8 * 1024 * 1024,
  maxUpdateBytes: 16 * 1024 * 1024,
  maxStructs: 1_000_000,
};

export interface AcceptedUpdate {
  readonly added: readonly ParsedRecord[];
  /** Keys of live records the update deletes (each covered by a snapshot). */
  readonly deleted: readonly string[];
  /** ClientIDs this update gives their owner (person hex): the relay persists these. */
  readonly bound: ReadonlyArray<readonly [number, string]>;
  /** Commits the accepted records, placeholders and deletions into the index. */
  commit(): void;
}

export interface EnvelopeCheckOptions {
  readonly engine: Ed25519Engine;
  readonly now: number;
  readonly limits?: EnvelopeLimits;
  /** The doc's clock for a client (Y.getState): how far it has integrated that client's structs. */
  readonly stateOf: (client: number) => number;
  /**
   * Hex key the sending connection authenticated with: whose clientIDs it may write on.
   * Required in the relay scope. The replica scope skips I4: a client gating what its relay
   * forwards does not know who sent each relayed update (the relay checked I4 when it accepted
   * it; a relay that skips it can at worst make a member's later record wait, never erase one).
   */
  readonly sender?: string;
  /**
   * 'relay' (default): every rule. 'replica': what a client checks on what its relay forwards,
   * before it reaches the stored envelope: the effect invariants I1–I3 only. Whether each record
   * may be accepted (its signature, its author's role now, its chain) is the sync engine's
   * decision, record by record: a replica that syncs late must not refuse a whole catch-up
   * because it holds a record by someone removed since, or a malformed one the relay kept in
   * quarantine. A record whose signature fails counts as content-less here, so only signed
   * snapshots can cover a delete.
   */
  readonly scope?: 'relay' | 'replica';
}
