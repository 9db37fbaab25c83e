/**
 * What a Profile (profile.ts) is opened or created with: the access a member's device holds and
 * the options of an open. Its own module because these are the facade's contract with its
 * callers (the app, the CLI, tests), read apart from how the facade is wired.
 */
import type {
  Ed25519Engine,
  RandomSource,
  SigningKeyPair,
  SymmetricKey,
} from '../crypto/index.ts';
import type { MemberEntry } from '../protocol/index.ts';
import type { ProfileSyncOptions } from '../sync/profile-sync-options.ts';
import type { RelaySocket } from '../sync/relay-socket.ts';
import type { Persistence } from '../storage/types.ts';
import type { PlainCacheOptions } from './plain-cache.ts';

/** What a member's device needs to open a profile (the sharing work delivers it by lockbox). */
export interface ProfileAccess {
  readonly docId: Uint8Array;
  readonly epoch: number;
  readonly epochKeys: ReadonlyMap<number, SymmetricKey>;
  /** Only the creator keeps this, to open the document on a relay before genesis is there. */
  readonly genesisNonce?: Uint8Array;
}

/**
 * The engine's own options a Profile passes through unchanged: box keys, injected randomness and
 * time, batching and compaction (documented on ProfileSyncOptions, decision 0021).
 */
type EngineOptions = Pick<ProfileSyncOptions, 'box' | 'alsoRecipient' | 'random' | 'now' | 'batchWindowMs' | 'othersActiveMs' | 'compactEvery' | 'compaction'>;

export interface OpenProfileOptions extends EngineOptions {
  readonly signer: SigningKeyPair;
  /**
   * Who signs the relay token (default: signer). A browser device authenticates as its person's
   * identity, so its first connection works before its device certificate reached the relay
   * (docs/decisions/0013); its records are still signed by the device key.
   */
  readonly authSigner?: SigningKeyPair;
  readonly access: ProfileAccess;
  readonly relayUrl?: string;
  readonly persistence?: Persistence;
  readonly engine?: Ed25519Engine;
  readonly minReconnectDelayMs?: number;
  /** One relay connection attempt gives up after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** The WebSocket to share with other profiles on the same relay (default: one of its own). */
  readonly relaySocket?: RelaySocket;
  /** Connect at once (default true when relayUrl is set). */
  readonly autoConnect?: boolean;
  /**
   * End time-limited access on its own when the time comes (default true; vault/expiry-sweep.ts).
   * Off only where a test drives every step itself (the seeded harness calls endExpiredAccess).
   */
  readonly expirySweep?: boolean;
  /**
   * This device's plain-state cache key (vault/plain-cache.ts): with a persistence that keeps
   * caches, the profile opens from the cache when there is one and verifies the stored
   * envelope in the background (docs/decisions/0020), and keeps the cache up to date.
   */
  readonly plainCache?: PlainCacheOptions;
  /**
   * A memory-only guest session (a clinician's live session): it promises that nothing of it is
   * kept on the device, so every download and export is refused (EXPORT_GUEST).
   */
  readonly memoryOnly?: boolean;
}

export type CreateProfileOptions = Omit<OpenProfileOptions, 'access'> & {
  /** Further members besides the creator (owner). */
  readonly members?: readonly MemberEntry[];
  /** For documents whose id must be re-derivable (a person's vault): fixed genesis nonce and epoch-0 key. */
  readonly genesisNonce?: Uint8Array;
  readonly epochKey?: SymmetricKey;
};

/** Injected time, randomness and keys of an open profile. */
export interface ProfileContext {
  readonly engine: Ed25519Engine;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly signer: SigningKeyPair;
}
