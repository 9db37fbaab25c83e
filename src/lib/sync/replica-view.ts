/**
 * The read half of a profile's sync engine (profile-sync.ts `ProfileSync` extends it): what this
 * replica verified (membership fold, chain heads, audit entries, who wrote which clientID), the
 * keys it holds and the identity and clock it acts with. Nothing here changes state. Separate so
 * that profile-sync.ts holds the wiring and the operations; the vault still sees one object.
 */
import type * as Y from 'yjs';
import { secureRandom, toHex, type RandomSource, type SigningKeyPair, type SigningPublicKey } from '../crypto/index.ts';
import { ENVELOPE_MAP, isWriterRole, Role, type EnvelopeIndex } from '../protocol/index.ts';
import type { ChainHead } from './chain.ts';
import type { EpochKeyRing } from './key-ring.ts';
import type { ProfileSyncOptions } from './profile-sync-options.ts';
import { ReplicaState } from './replica-state.ts';

export abstract class ReplicaView {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  protected readonly replica: ReplicaState;
  protected readonly map: Y.Map<Uint8Array>;
  protected readonly signer: SigningKeyPair;
  protected readonly ring: EpochKeyRing;
  protected readonly random: RandomSource;
  protected readonly now: () => number;

  protected constructor(o: ProfileSyncOptions) {
    this.docId = o.docId;
    this.plain = o.plain;
    this.signer = o.signer;
    this.ring = o.keys;
    this.random = o.random ?? secureRandom;
    this.now = o.now ?? Date.now;
    this.map = o.envelope.getMap<Uint8Array>(ENVELOPE_MAP);
    this.replica = new ReplicaState(o.docId);
  }

  /** Chain heads (hex author, seq) applied into the plain doc: what a cache written now covers. */
  coveredHeads(): { author: string; seq: number }[] {
    return this.replica.coverage().map((h) => ({ author: toHex(h.author), seq: h.seq }));
  }

  /** What this replica verified and indexed: membership fold, coverage, live records. */
  get index(): EnvelopeIndex {
    return this.replica.index;
  }

  get clientId(): number {
    return this.plain.clientID;
  }

  /** This replica's own chain position. */
  get ownHead(): ChainHead {
    return this.replica.chainOf(this.me);
  }

  chainOf(authorHex: string): ChainHead {
    return this.replica.chainOf(authorHex);
  }

  /** The epoch new records are sealed under: the newest an owner rotated to. */
  get currentEpoch(): number {
    return this.index.membership.currentEpoch;
  }

  get keys(): EpochKeyRing {
    return this.ring;
  }

  /**
   * Who wrote the Yjs structs of `clientId` (hex signing key), as proven by a verified record
   * whose clientID binding covered it; undefined for structs that arrived only inside a
   * snapshot (its signer vouches for them as a whole) or not at all.
   */
  authorOfClient(clientId: number): string | undefined {
    return this.replica.clientAuthors.get(clientId);
  }

  /**
   * The envelope holds records but no genesis: once the relay says it sent everything, that is
   * an erased or withheld profile, not an empty one (the facade turns it into a problem).
   */
  get genesisMissing(): boolean {
    return !this.index.membership.hasGenesis && (this.replica.held.size > 0 || this.map.size > 0);
  }

  /** This replica's signing key. */
  get signerKey(): SigningPublicKey {
    return this.signer.publicKey;
  }

  canWrite(): boolean {
    return isWriterRole(this.index.membership.roleOf(this.signer.publicKey, this.now()));
  }

  /** Every audit entry this replica could open, grouped by author in chain order. */
  auditEntries(): Map<string, Uint8Array[]> {
    return this.replica.auditEntries();
  }

  /** Injected time and randomness, for the owner operations in admin.ts. */
  get clock(): { now: () => number; random: RandomSource; signer: SigningPublicKey } {
    return { now: this.now, random: this.random, signer: this.signer.publicKey };
  }

  protected get me(): string {
    return toHex(this.signer.publicKey);
  }

  /**
   * Whether a record sealed under `epoch` is one this device will never hold the key to: a
   * member without history (a clinician, a time-limited session) reads nothing sealed before
   * its access began (the inbox keeps such a record in its chain, unread: inbox-context.ts).
   */
  protected neverReadable(epoch: number): boolean {
    const m = this.index.membership;
    const noHistory = m.roleOf(this.signer.publicKey, 0) === Role.clinician || (m.expiryOf(this.signer.publicKey) ?? 0) !== 0;
    const held = [...this.ring.entries()].map(([e]) => e);
    return noHistory && held.length > 0 && epoch < Math.min(...held);
  }
}
