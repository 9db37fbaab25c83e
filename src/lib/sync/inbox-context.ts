/**
 * What the inbox (inbox.ts) is given by the sync engine that owns it (profile-sync.ts): the
 * replica's shared state, the keys and identity it opens records with, and the callbacks through
 * which its results reach the plain doc and the status. Its own module so the inbox's helpers
 * (record-verdicts.ts, incoming-records.ts, plain-commit.ts) can name the parts they use
 * without importing the inbox.
 */
import type * as Y from 'yjs';
import type { BoxKeyPair, Ed25519Engine, SigningPublicKey } from '../crypto/index.ts';
import type { RecordTypeCode, Result } from '../protocol/index.ts';
import type { VerifiedUpdate } from './apply.ts';
import type { EpochKeyRing } from './key-ring.ts';
import type { ProblemList } from './problems.ts';
import type { ReplicaState } from './replica-state.ts';

export interface InboxContext {
  readonly docId: Uint8Array;
  readonly map: Y.Map<Uint8Array>;
  readonly state: ReplicaState;
  readonly keys: EpochKeyRing;
  readonly problems: ProblemList;
  readonly engine: Ed25519Engine;
  readonly now: () => number;
  readonly me: SigningPublicKey;
  readonly box?: BoxKeyPair;
  readonly alsoRecipient?: { readonly publicKey: SigningPublicKey; readonly box: BoxKeyPair };
  /** Applies a verified update to the plain doc (as a remote change). */
  apply(update: VerifiedUpdate): Result<void>;
  membershipChanged(): void;
  applied(e: { author: string; type: RecordTypeCode; seq: number }): void;
  /** After each drain: publish state, retry held local edits. */
  drained(): void;
  /**
   * Whether a record sealed under `epoch` is one this device will never hold the key to: a
   * member without history (a clinician, a time-limited session) reads nothing sealed before
   * its access began, and such a record must not hold its author's later records back.
   */
  neverReadable(epoch: number): boolean;
  readonly destroyed: () => boolean;
}
