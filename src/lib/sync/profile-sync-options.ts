/**
 * What a ProfileSync (profile-sync.ts) is built from, what it publishes as its local state, and
 * its default timings. Its own module because these are the engine's contract with the vault,
 * read apart from how the engine is wired.
 */
import type * as Y from 'yjs';
import type { BoxKeyPair, Ed25519Engine, RandomSource, SigningKeyPair, SigningPublicKey } from '../crypto/index.ts';
import type { CompactionPolicy } from './compaction.ts';
import type { EpochKeyRing } from './key-ring.ts';
import type { SyncProblem } from './status.ts';

export interface ProfileSyncOptions {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  readonly envelope: Y.Doc;
  readonly signer: SigningKeyPair;
  readonly engine: Ed25519Engine;
  /** Epoch keys known at open; lockboxes addressed to this device add more. */
  readonly keys: EpochKeyRing;
  /** This device's X25519 key pair, to open lockboxes (absent: only the given keys are used). */
  readonly box?: BoxKeyPair;
  /**
   * Also open lockboxes addressed to this recipient: a person's device holds its identity's box
   * key, so keys delivered to the identity before this device was certified still reach it.
   */
  readonly alsoRecipient?: { readonly publicKey: SigningPublicKey; readonly box: BoxKeyPair };
  readonly random?: RandomSource;
  readonly now?: () => number;
  /**
   * Minimum spacing of records while edits keep coming and nobody else is active; an edit after
   * a quiet period, or while others are active, is sealed at once (decision 0021).
   */
  readonly batchWindowMs?: number;
  /** Others count as active this long after one of their records was applied. */
  readonly othersActiveMs?: number;
  /**
   * Write a snapshot once this many update/snapshot records are live in the envelope (the
   * fixed-count policy, for tests that need compaction at a known point). Without it (and
   * without `compaction`) the byte-ratio policy applies (compaction.ts `DEFAULT_COMPACTION`).
   */
  readonly compactEvery?: number;
  /** When to compact; `compactEvery` wins if both are given. */
  readonly compaction?: CompactionPolicy;
}

export interface LocalState {
  /** Local updates not yet sealed into a record. */
  readonly queued: number;
  /** Records held because a predecessor in their author's chain is missing (or its key). */
  readonly gaps: number;
  readonly problems: readonly SyncProblem[];
  /** Opened from the plain-state cache and the stored envelope not yet verified against it. */
  readonly verifying: boolean;
}

export const DEFAULT_BATCH_WINDOW_MS = 20;
export const DEFAULT_OTHERS_ACTIVE_MS = 5_000;
