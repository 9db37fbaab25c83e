/**
 * Binds a profile's plain doc (health data, in memory only) to its envelope doc (signed
 * ciphertext, persisted and synced): the composition root of the sync engine.
 *
 *   local edit ─► Outbox (queue, batch, seal) ─► appendOwn ─► envelope.r[key]
 *   envelope.r[key] added ─► Inbox (parse, verify, authorise, chains, open) ─► plain doc
 *
 * ReplicaState holds what both sides share (index, chain heads, held records); compaction.ts
 * decides what a snapshot covers; ProblemList collects what the user must see. What the replica
 * knows is read through replica-view.ts; own records go in through own-writes.ts.
 */
import * as Y from 'yjs';
import type { MembershipOp, ParsedRecord, RecordTypeCode } from '../protocol/index.ts';
import { applyVerified, type VerifiedUpdate } from './apply.ts';
import { CachedOpenCheck, type CacheCheck, type CachedPlain } from './cached-open.ts';
import { DEFAULT_COMPACTION } from './compaction.ts';
import { Inbox } from './inbox.ts';
import { Observable } from './observable.ts';
import { Outbox, type OutboxBlock } from './outbox.ts';
import { CatchUpHold } from './catch-up-hold.ts';
import { OwnRecordRefused, type OwnTransaction, type OwnWriteGuard } from './own-transaction.ts';
import { OwnWrites } from './own-writes.ts';
import { PlainSession } from './plain-session.ts';
import { ProblemList } from './problems.ts';
import { DEFAULT_BATCH_WINDOW_MS, DEFAULT_OTHERS_ACTIVE_MS, type LocalState, type ProfileSyncOptions } from './profile-sync-options.ts';
import { ReplicaView } from './replica-view.ts';
import { usesClient } from './yjs-internals.ts';

/** Origin of transactions that apply verified remote records to the plain doc. */
export const REMOTE_ORIGIN = Symbol('fhv:remote');
/** Origin of this replica's own envelope inserts (own-writes.ts). */
export { LOCAL_ENVELOPE_ORIGIN } from './own-writes.ts';

export { OwnRecordRefused } from './own-transaction.ts';
export { DEFAULT_BATCH_WINDOW_MS, DEFAULT_OTHERS_ACTIVE_MS, type LocalState, type ProfileSyncOptions } from './profile-sync-options.ts';

export class ProfileSync extends ReplicaView {
  readonly envelope: Y.Doc;
  readonly state = new Observable<LocalState>({ queued: 0, gaps: 0, problems: [], verifying: false });
  /** Fires after each verified remote record is applied (author hex, record type). */
  readonly applied = new Observable<{ author: string; type: RecordTypeCode; seq: number } | null>(null);
  /** Bumped whenever the membership fold takes an op (own or remote): roles, devices, invites, epoch. */
  readonly membershipVersion = new Observable<number>(0);

  private readonly problems: ProblemList;
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  /** Own records into the envelope: transactions, sealing, compaction (own-writes.ts). */
  private readonly own: OwnWrites;
  /** This device's Yjs clientID for its edits (plain-session.ts). */
  private readonly session: PlainSession;
  private destroyed = false;
  /** Own records wait for the relay's first catch-up after an open (catch-up-hold.ts). */
  private readonly hold = new CatchUpHold(() => {
    this.outbox.schedule();
    this.publish();
  });
  /** While a cached open is checked (kept after a mismatch: nothing is sealed from this plain doc then). */
  private check: CachedOpenCheck | undefined;

  private constructor(o: ProfileSyncOptions) {
    super(o);
    this.envelope = o.envelope;
    this.problems = new ProblemList(() => this.publish());
    this.own = new OwnWrites({
      docId: o.docId,
      plain: o.plain,
      envelope: o.envelope,
      map: this.map,
      signer: o.signer,
      engine: o.engine,
      ring: o.keys,
      random: this.random,
      now: this.now,
      replica: this.replica,
      problems: this.problems,
      compaction: o.compactEvery !== undefined ? { kind: 'every', records: o.compactEvery } : (o.compaction ?? DEFAULT_COMPACTION),
      whenVerified: () => this.whenVerified(),
      checking: () => this.check !== undefined,
      settle: () => this.inbox.idle(),
      canWrite: () => this.canWrite(),
      membershipChanged: () => this.membershipChanged(),
      hold: this.hold,
    });
    this.outbox = new Outbox({
      now: this.now,
      batchWindowMs: o.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
      othersActiveMs: o.othersActiveMs ?? DEFAULT_OTHERS_ACTIVE_MS,
      problems: this.problems,
      blocked: () => this.own.sealBlock(),
      seal: (updates, sessions) => this.own.sealUpdate(updates, sessions),
      refusal: (e) => (e instanceof OwnRecordRefused ? { code: e.code } : undefined),
      sealed: () => this.own.maybeCompact(),
      changed: () => this.publish(),
    });
    this.session = new PlainSession({ docId: o.docId, plain: o.plain, signer: o.signer, random: this.random, outbox: this.outbox, replica: this.replica });
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
      neverReadable: (epoch) => this.neverReadable(epoch),
    });
    this.session.renew();
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
    this.followPlain(true);
  }

  /** Applies the cached plain state; the envelope is verified against it later (verifyCached). */
  openFromCache(cached: CachedPlain): void {
    Y.applyUpdate(this.plain, cached.state, REMOTE_ORIGIN);
    // The session was picked on an empty doc: this device's clientID must be none the cache uses.
    if (usesClient(this.plain, this.plain.clientID)) {
      this.replica.clientAuthors.delete(this.plain.clientID);
      this.session.renew();
    }
    this.check = new CachedOpenCheck(cached);
    // Edits made now are queued (own-writes.ts `sealBlock` says 'verifying'), never lost.
    this.followPlain(true);
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

  /**
   * The plain state as a cache may record it, or undefined if it may not now: while a cached
   * open is checked (or failed its check), or while local edits are not yet sealed (the cache
   * must hold only what records cover, or they would never be sealed after a reload).
   */
  cacheableState(): { state: Uint8Array; coverage: { author: string; seq: number }[]; epoch: number } | undefined {
    if (this.check || this.destroyed || this.outbox.queued > 0) return undefined;
    return { state: Y.encodeStateAsUpdate(this.plain), coverage: this.coveredHeads(), epoch: this.currentEpoch };
  }

  /** Why local edits cannot be sealed now (undefined if nothing is queued or they can). */
  get outboxBlocked(): OutboxBlock | undefined {
    return this.outbox.blocked;
  }

  /**
   * Own records wait until the relay's first catch-up is applied (catch-up-hold.ts), or the bound
   * `boundOwnRecordHold` sets: for a copy that may be behind the relay on this device's own chain.
   */
  holdOwnRecords(): void {
    if (!this.destroyed) this.hold.start();
  }

  /** The hold ends `ms` from now at the latest (nothing if not holding). */
  boundOwnRecordHold(ms: number): void {
    this.hold.bound(ms);
  }

  /** The catch-up is in, or cannot come now (offline, refused): own records go ahead. */
  endOwnRecordHold(): void {
    this.hold.release();
  }

  /** Seals everything that can be sealed and waits until remote processing is idle (after the catch-up hold). */
  async flush(): Promise<void> {
    await this.hold.released();
    await this.outbox.flush();
    await this.own.idle();
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
    return this.own.transact(plan);
  }

  /** Writes one membership record (genesis is written by `createProfile`). */
  appendMembership(op: MembershipOp): Promise<string> {
    return this.transact((tx) => tx.membershipOp(op));
  }

  /** Appends one signed audit entry (see protocol/audit.ts) as a sealed audit record. */
  async appendAudit(entry: Uint8Array): Promise<void> {
    await this.transact((tx) => tx.audit(entry));
  }

  /** Appends an owner-signed lockbox (ext from protocol/lockbox.ts) to this device's chain. */
  async appendLockbox(ext: Uint8Array): Promise<void> {
    await this.transact((tx) => tx.lockbox(ext));
  }

  /** Appends an owner's erase order (protocol/erase.ts); the relay drops the profile once it stores it. */
  async appendErase(erasedAt: number): Promise<string> {
    return this.transact((tx) => tx.erase(erasedAt));
  }

  /** The facade's typed refusals of own membership ops and snapshots, checked before sealing. */
  setWriteGuard(guard: OwnWriteGuard | undefined): void {
    this.own.guard = guard;
  }

  /** When automatic compaction may run (own-writes.ts `compactionAllowed`: only while caught up with a relay). */
  setCompactionGate(allowed: () => boolean): void {
    this.own.compactionAllowed = allowed;
  }

  /** Compacts now if enough records piled up and compaction is allowed (e.g. once back online). */
  compactIfDue(): Promise<void> {
    return this.own.maybeCompact();
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
    this.hold.release();
    this.map.unobserve(this.inbox.onEnvelopeChange);
    this.followPlain(false);
  }

  /** Whether local plain-doc updates go to the outbox (from the open until destroy). */
  private followingPlain = false;

  private followPlain(on: boolean): void {
    if (on === this.followingPlain) return;
    this.followingPlain = on;
    if (on) this.plain.on('updateV2', this.onPlainUpdate);
    else this.plain.off('updateV2', this.onPlainUpdate);
  }

  /** Roles, devices or the epoch changed (a new epoch starts a new session: plain-session.ts). */
  private membershipChanged(): void {
    this.membershipVersion.set(this.membershipVersion.value + 1);
    this.session.epochIs(this.currentEpoch);
  }

  private readonly onPlainUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE_ORIGIN || this.destroyed) return;
    this.outbox.push(update);
  };

  private applyRemote(update: VerifiedUpdate) {
    // Yjs encodes a transaction's update for every 'updateV2' listener; ours drops remote ones.
    // Not listening while applying saves that encode: a whole snapshot's on a catch-up.
    const following = this.followingPlain;
    if (following) this.plain.off('updateV2', this.onPlainUpdate);
    let result: ReturnType<typeof applyVerified>;
    try {
      result = applyVerified(this.plain, update, REMOTE_ORIGIN);
    } finally {
      if (following) this.plain.on('updateV2', this.onPlainUpdate);
    }
    this.check?.verified(update, REMOTE_ORIGIN);
    this.session.keep(); // Yjs picks a new clientID if it sees ours used elsewhere
    this.outbox.remoteApplied(); // someone else is editing: stop holding own records back
    return result;
  }

  private publish(): void {
    this.state.set({ queued: this.outbox?.queued ?? 0, gaps: this.replica.waiting, problems: this.problems.all, verifying: this.check !== undefined });
  }
}
