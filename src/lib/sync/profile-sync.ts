/**
 * Binds a profile's plain doc (health data, in memory only) to its envelope doc (signed
 * ciphertext, persisted and synced): the composition root of the sync engine.
 *
 *   local edit ─► Outbox (queue, batch, seal) ─► appendOwn ─► envelope.r[key]
 *   envelope.r[key] added ─► Inbox (parse, verify, authorise, chains, open) ─► plain doc
 *
 * ReplicaState holds what both sides share (index, chain heads, held records); compaction.ts
 * decides what a snapshot covers; ProblemList collects what the user must see.
 */
import * as Y from 'yjs';
import { secureRandom, toHex, type BoxKeyPair, type Ed25519Engine, type RandomSource, type SigningKeyPair, type SigningPublicKey } from '../crypto/index.ts';
import {
  encodeUpdatePayload,
  ENVELOPE_MAP,
  fail,
  isWriterRole,
  RecordType,
  Role,
  SerialGate,
  type EnvelopeIndex,
  type MembershipOp,
  type ParsedRecord,
  type RecordTypeCode,
} from '../protocol/index.ts';
import { applyVerified, clientIdFor, type VerifiedUpdate } from './apply.ts';
import type { ChainHead } from './chain.ts';
import { compactionDue, DEFAULT_COMPACTION, type CompactionPolicy } from './compaction.ts';
import { Inbox } from './inbox.ts';
import type { EpochKeyRing } from './key-ring.ts';
import { Observable } from './observable.ts';
import { Outbox, type OutboxBlock } from './outbox.ts';
import { OwnRecordRefused, OwnTransaction, type OwnWriteGuard } from './own-transaction.ts';
import { ProblemList } from './problems.ts';
import { ReplicaState } from './replica-state.ts';
import type { SyncProblem } from './status.ts';
import { CachedOpenCheck, type CacheCheck, type CachedPlain } from './cached-open.ts';
import { usesClient } from './yjs-internals.ts';

/** Origin of transactions that apply verified remote records to the plain doc. */
export const REMOTE_ORIGIN = Symbol('fhv:remote');
/** Origin of this replica's own envelope inserts. */
export const LOCAL_ENVELOPE_ORIGIN = Symbol('fhv:local-envelope');

export { OwnRecordRefused } from './own-transaction.ts';

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

export class ProfileSync {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  readonly envelope: Y.Doc;
  readonly state = new Observable<LocalState>({ queued: 0, gaps: 0, problems: [], verifying: false });
  /** Fires after each verified remote record is applied (author hex, record type). */
  readonly applied = new Observable<{ author: string; type: RecordTypeCode; seq: number } | null>(null);
  /** Bumped whenever the membership fold takes an op (own or remote): roles, devices, invites, epoch. */
  readonly membershipVersion = new Observable<number>(0);

  private readonly replica: ReplicaState;
  private readonly problems: ProblemList;
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  private readonly writes = new SerialGate();
  private readonly map: Y.Map<Uint8Array>;
  private readonly signer: SigningKeyPair;
  private readonly engine: Ed25519Engine;
  private readonly ring: EpochKeyRing;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly compaction: CompactionPolicy;
  private session = 0;
  /** The clientID derived for `session` (kept: applyRemote compares with it after every remote record). */
  private sessionClientId = 0;
  /** The epoch current when the session (clientID) began. */
  private sessionEpoch = 0;
  private destroyed = false;
  /**
   * When automatic compaction may run. A profile synced through a relay compacts only while
   * caught up with it: a snapshot deletes other people's records in the stored copy at once, and
   * a device that lost write access while offline would otherwise delete them locally before the
   * relay refuses its snapshot (the relay's copy stays whole; this device's would not).
   */
  private compactionAllowed: () => boolean = () => true;
  private guard: OwnWriteGuard | undefined;
  /** While a cached open is checked (kept after a mismatch: nothing is sealed from this plain doc then). */
  private check: CachedOpenCheck | undefined;

  private constructor(o: ProfileSyncOptions) {
    this.docId = o.docId;
    this.plain = o.plain;
    this.envelope = o.envelope;
    this.signer = o.signer;
    this.engine = o.engine;
    this.ring = o.keys;
    this.random = o.random ?? secureRandom;
    this.now = o.now ?? Date.now;
    this.compaction = o.compactEvery !== undefined ? { kind: 'every', records: o.compactEvery } : (o.compaction ?? DEFAULT_COMPACTION);
    this.map = o.envelope.getMap<Uint8Array>(ENVELOPE_MAP);
    this.replica = new ReplicaState(o.docId);
    this.problems = new ProblemList(() => this.publish());
    this.outbox = new Outbox({
      now: this.now,
      batchWindowMs: o.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
      othersActiveMs: o.othersActiveMs ?? DEFAULT_OTHERS_ACTIVE_MS,
      problems: this.problems,
      blocked: () => this.sealBlock(),
      seal: (updates, sessions) => this.sealUpdate(updates, sessions),
      refusal: (e) => (e instanceof OwnRecordRefused ? { code: e.code } : undefined),
      sealed: () => this.maybeCompact(),
      changed: () => this.publish(),
    });
    this.inbox = new Inbox({
      docId: o.docId,
      map: this.map,
      state: this.replica,
      keys: o.keys,
      problems: this.problems,
      engine: o.engine,
      now: this.now,
      me: o.signer.publicKey,
      box: o.box,
      alsoRecipient: o.alsoRecipient,
      apply: (update) => this.applyRemote(update),
      membershipChanged: () => this.membershipChanged(),
      applied: (e) => this.applied.set(e),
      drained: () => {
        this.publish();
        this.outbox.schedule(); // membership may have just arrived for edits made before it
      },
      destroyed: () => this.destroyed,
      neverReadable: (epoch) => {
        const m = this.index.membership;
        const noHistory = m.roleOf(this.signer.publicKey, 0) === Role.clinician || (m.expiryOf(this.signer.publicKey) ?? 0) !== 0;
        const held = [...this.ring.entries()].map(([e]) => e);
        return noHistory && held.length > 0 && epoch < Math.min(...held);
      },
    });
    this.newSession();
  }

  /**
   * The engine alone. It is opened by `openFromEnvelope` (apply everything stored, then follow
   * both docs), or by `openFromCache` and later `verifyCached` (docs/decisions/0020); the vault
   * builds it while a cache is read.
   */
  static create(o: ProfileSyncOptions): ProfileSync {
    return new ProfileSync(o);
  }

  /** Applies everything already in the envelope, then follows both docs. */
  async openFromEnvelope(): Promise<void> {
    this.inbox.takeAll();
    await this.inbox.drain();
    this.map.observe(this.inbox.onEnvelopeChange);
    this.plain.on('updateV2', this.onPlainUpdate);
  }

  /** Applies the cached plain state; the envelope is verified against it later (verifyCached). */
  openFromCache(cached: CachedPlain): void {
    Y.applyUpdate(this.plain, cached.state, REMOTE_ORIGIN);
    // The session was picked on an empty doc: this device's clientID must be none the cache uses.
    if (usesClient(this.plain, this.plain.clientID)) {
      this.replica.clientAuthors.delete(this.plain.clientID);
      this.newSession();
    }
    this.check = new CachedOpenCheck(cached);
    // Edits made now are queued (sealBlock says 'verifying'), never lost.
    this.plain.on('updateV2', this.onPlainUpdate);
    this.publish();
  }

  /**
   * After a cached open, once the stored envelope is loaded: verifies and applies every record
   * (the tail the cache does not cover reaches the plain doc here), then checks that the cache
   * holds nothing the verified records do not. On 'verified' sealing resumes; on 'mismatch'
   * nothing is ever sealed from this plain doc (it holds unverified content): the caller
   * reports it and rebuilds from the envelope.
   */
  async verifyCached(): Promise<CacheCheck> {
    const check = this.check;
    if (!check) return 'verified';
    if (check.outcome) return check.outcome;
    check.start();
    this.inbox.takeAll();
    this.map.observe(this.inbox.onEnvelopeChange);
    await this.inbox.drain();
    const outcome = check.finish();
    if (outcome === 'verified') this.check = undefined;
    this.publish();
    this.outbox.schedule();
    return outcome;
  }

  /** The cached open's check result once over ('mismatch' stays); undefined for a full open or while checking. */
  get cacheCheckOutcome(): CacheCheck | undefined {
    return this.check?.outcome;
  }

  /** Resolves once a cached open's check is over (at once for a full open). */
  whenVerified(): Promise<void> {
    return this.check?.done ?? Promise.resolve();
  }

  /** Chain heads (hex author, seq) applied into the plain doc: what a cache written now covers. */
  coveredHeads(): { author: string; seq: number }[] {
    return this.replica.coverage().map((h) => ({ author: toHex(h.author), seq: h.seq }));
  }

  /**
   * The plain state as a cache may record it, or undefined if it may not now: while a cached
   * open is checked (or failed its check), or while local edits are not yet sealed (the cache
   * must hold only what records cover, or they would never be sealed after a reload).
   */
  cacheableState(): { state: Uint8Array; coverage: { author: string; seq: number }[]; epoch: number } | undefined {
    if (this.check || this.destroyed || this.outbox.queued > 0) return undefined;
    return { state: Y.encodeStateAsUpdate(this.plain), coverage: this.coveredHeads(), epoch: this.currentEpoch };
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

  /** Why local edits cannot be sealed now (undefined if nothing is queued or they can). */
  get outboxBlocked(): OutboxBlock | undefined {
    return this.outbox.blocked;
  }

  /** This replica's signing key. */
  get signerKey(): SigningPublicKey {
    return this.signer.publicKey;
  }

  canWrite(): boolean {
    return isWriterRole(this.index.membership.roleOf(this.signer.publicKey, this.now()));
  }

  /** Seals everything that can be sealed and waits until remote processing is idle. */
  async flush(): Promise<void> {
    await this.outbox.flush();
    await this.writes.idle();
    await this.inbox.idle();
  }

  /**
   * A record the relay is sending, parsed on arrival (relay-connection.ts): opened while its
   * signature is checked, used only once it is verified and authorised (docs/decisions/0058).
   */
  openAhead(record: ParsedRecord): void {
    if (!this.destroyed) this.inbox.openAhead(record);
  }

  /** Processes records that arrived in the envelope (also runs on its own). */
  drain(): Promise<void> {
    return this.inbox.drain();
  }

  /**
   * Writes own records as one unit (see own-transaction.ts): `plan` stages them, each checked
   * against the state the earlier ones make; they are inserted together only if all pass.
   */
  transact<T>(plan: (tx: OwnTransaction) => Promise<T>): Promise<T> {
    return this.writes.run(async () => {
      // After a cached open, own records are judged against the verified state only.
      await this.whenVerified();
      if (this.check) throw new OwnRecordRefused(fail('SYNC_CACHE_MISMATCH', 'this copy of the profile is being rebuilt from its verified records'));
      // The own chain head is the replica's: records this person sealed on another open (the
      // join's instance, a copy since lost) arrive like anyone's, and the inbox folds membership
      // before it advances chains. Sealing in between reused their seq: RECORD_FORK, for good
      // (tests/sync/own-chain-fresh-open.test.ts). Waits only for the batch in progress.
      await this.inbox.idle();
      const tx = new OwnTransaction({
        docId: this.docId,
        signer: this.signer,
        engine: this.engine,
        random: this.random,
        now: this.now,
        ring: this.ring,
        replica: this.replica,
        plain: this.plain,
        settle: () => this.inbox.idle(),
        guard: this.guard,
      });
      const result = await plan(tx);
      this.commit(tx);
      return result;
    });
  }

  /** Writes one membership record (genesis is written by `createProfile`). */
  appendMembership(op: MembershipOp): Promise<string> {
    return this.transact((tx) => tx.membershipOp(op));
  }

  /** Appends one signed audit entry (see protocol/audit.ts) as a sealed audit record. */
  async appendAudit(entry: Uint8Array): Promise<void> {
    await this.transact((tx) => tx.audit(entry));
  }

  /** Every audit entry this replica could open, grouped by author in chain order. */
  auditEntries(): Map<string, Uint8Array[]> {
    return this.replica.auditEntries();
  }

  /** Appends an owner-signed lockbox (ext from protocol/lockbox.ts) to this device's chain. */
  async appendLockbox(ext: Uint8Array): Promise<void> {
    await this.transact((tx) => tx.lockbox(ext));
  }

  /** Appends an owner's erase order (protocol/erase.ts); the relay drops the profile once it stores it. */
  async appendErase(erasedAt: number): Promise<string> {
    return this.transact((tx) => tx.erase(erasedAt));
  }

  /** Injected time and randomness, for the owner operations in admin.ts. */
  get clock(): { now: () => number; random: RandomSource; signer: SigningPublicKey } {
    return { now: this.now, random: this.random, signer: this.signer.publicKey };
  }

  /** The facade's typed refusals of own membership ops and snapshots, checked before sealing. */
  setWriteGuard(guard: OwnWriteGuard | undefined): void {
    this.guard = guard;
  }

  setCompactionGate(allowed: () => boolean): void {
    this.compactionAllowed = allowed;
  }

  /** Compacts now if enough records piled up and compaction is allowed (e.g. once back online). */
  compactIfDue(): Promise<void> {
    return this.maybeCompact();
  }

  /**
   * Writes a snapshot of the applied state covering every chain head, and deletes the records
   * it covers in the same envelope transaction. Throws OwnRecordRefused, with the envelope
   * untouched, if this device may not write a snapshot.
   */
  compact(): Promise<string> {
    return this.transact((tx) => tx.snapshot());
  }

  /** Problems are kept until the user (or a test) acknowledges them. */
  clearProblems(): void {
    this.problems.clear();
  }

  destroy(): void {
    this.destroyed = true;
    this.check?.end();
    this.outbox.stop();
    this.map.unobserve(this.inbox.onEnvelopeChange);
    this.plain.off('updateV2', this.onPlainUpdate);
  }

  // ---- own records ---------------------------------------------------------------------------

  private get me(): string {
    return toHex(this.signer.publicKey);
  }

  /**
   * Roles, devices or the epoch changed. A new epoch starts a new Yjs session (clientID): edits
   * made from now on do not continue the clock of structs sealed under an older key, so a member
   * without history (a clinician) can integrate them without structs it will never read.
   */
  private membershipChanged(): void {
    this.membershipVersion.set(this.membershipVersion.value + 1);
    if (this.currentEpoch !== this.sessionEpoch) {
      this.sessionEpoch = this.currentEpoch;
      this.newSession();
    }
  }

  private newSession(): void {
    do {
      this.session = new DataView(this.random(4).buffer).getUint32(0);
      this.sessionClientId = clientIdFor(this.docId, this.signer.publicKey, this.session);
      this.plain.clientID = this.sessionClientId;
    } while (usesClient(this.plain, this.plain.clientID));
    this.outbox.useSession(this.session);
    this.replica.clientAuthors.set(this.plain.clientID, this.me);
  }

  private readonly onPlainUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE_ORIGIN || this.destroyed) return;
    this.outbox.push(update);
  };

  private sealBlock(): OutboxBlock | undefined {
    // Before the membership log (or the current epoch's lockbox) has arrived we cannot seal
    // correctly yet: keep edits queued.
    if (this.check) return 'verifying';
    if (!this.index.membership.hasGenesis) return 'no-genesis';
    if (!this.ring.has(this.currentEpoch)) return 'no-key';
    if (!this.canWrite()) return 'read-only';
    return undefined;
  }

  private async sealUpdate(updates: Uint8Array[], sessions: number[]): Promise<void> {
    const update = updates.length === 1 ? updates[0]! : Y.mergeUpdatesV2(updates);
    await this.transact((tx) => tx.update(encodeUpdatePayload({ sessions, update })));
  }

  /** Inserts a transaction's staged records: index, chain, keys, then one envelope transaction. */
  private commit(tx: OwnTransaction): void {
    if (tx.staged.length === 0) return;
    for (const [epoch, key] of tx.newKeys) this.ring.add(epoch, key);
    for (const s of tx.staged) {
      this.replica.processed.add(s.key);
      this.index.add(s.record, undefined, s.op);
      this.replica.advance(this.me, s.record.header.seq, s.record.id);
      if (s.record.header.type === RecordType.audit) this.replica.addAudit(s.key, { author: this.me, seq: s.record.header.seq, entry: s.payload });
    }
    if (tx.staged.some((s) => s.op)) this.membershipChanged();
    this.envelope.transact(() => {
      for (const s of tx.staged) this.map.set(s.key, s.sealed.bytes);
      for (const s of tx.staged) for (const k of s.doomed) this.map.delete(k);
    }, LOCAL_ENVELOPE_ORIGIN);
  }

  private async maybeCompact(): Promise<void> {
    if (!compactionDue(this.index, this.compaction, this.me) || !this.canWrite() || !this.compactionAllowed()) return;
    try {
      await this.compact();
    } catch (e) {
      // A role change the last check did not see: nothing was written; shown, not thrown.
      if (!(e instanceof OwnRecordRefused)) throw e;
      this.problems.report({ code: e.code, message: 'this device may not compact this profile' });
    }
  }

  private applyRemote(update: VerifiedUpdate) {
    const result = applyVerified(this.plain, update, REMOTE_ORIGIN);
    this.check?.verified(update, REMOTE_ORIGIN);
    // Yjs picks a new random clientID if it sees ours used elsewhere; ours must stay derived.
    if (this.plain.clientID !== this.sessionClientId) this.newSession();
    this.outbox.remoteApplied(); // someone else is editing: stop holding own records back
    return result;
  }

  private publish(): void {
    this.state.set({ queued: this.outbox?.queued ?? 0, gaps: this.replica.waiting, problems: this.problems.all, verifying: this.check !== undefined });
  }
}
