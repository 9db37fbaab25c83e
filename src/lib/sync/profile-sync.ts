/**
 * Binds a profile's plain doc (health data, in memory only) to its envelope doc (signed
 * ciphertext, persisted and synced). Local plain-doc updates are sealed into records; records
 * arriving in the envelope are verified, opened and applied. Per-author chains detect gaps,
 * replays and forks; malformed records are quarantined; every N records a writer compacts the
 * envelope into one snapshot.
 *
 *   local edit ─► queue ─► (batch while a seal is in flight or within the window) ─► sealRecord ─► envelope.r[key]
 *   envelope.r[key] added ─► parse ─► authorise+verify ─► chain check ─► open ─► clientID check ─► applyUpdateV2
 */
import * as Y from 'yjs';
import {
  bytesEqual,
  fromHex,
  toBase64Url,
  toHex,
  secureRandom,
  type BoxKeyPair,
  type Ed25519Engine,
  type SigningPublicKey,
  type RandomSource,
  type SigningKeyPair,
} from '../crypto/index.ts';
import {
  authorizeRecord,
  compareForMembership,
  decodeSnapshotExt,
  encodeMembershipExt,
  encodeSnapshotExt,
  encodeUpdatePayload,
  ENVELOPE_MAP,
  EnvelopeIndex,
  isWriterRole,
  openRecord,
  parseRecord,
  verifyRecord,
  recordKey,
  RecordType,
  sealRecord,
  SEALED_TYPES,
  SerialGate,
  snapshotCovers,
  snapshotExtOf,
  ZERO_HASH,
  ProtocolError,
  type ChainHead as CoverageEntry,
  type Failure,
  type MembershipOp,
  type ParsedRecord,
  type RecordHeader,
  type RecordTypeCode,
  type SnapshotExt,
  type VerifiedRecord,
} from '../protocol/index.ts';
import { applyVerified, clientIdFor, snapshotUpdate, toVerifiedUpdate, type VerifiedUpdate } from './apply.ts';
import { GENESIS_HEAD, type ChainHead } from './chain.ts';
import { EpochKeyRing } from './key-ring.ts';
import { Observable } from './observable.ts';
import type { SyncProblem } from './status.ts';

/** Origin of transactions that apply verified remote records to the plain doc. */
export const REMOTE_ORIGIN = Symbol('fhv:remote');
/** Origin of this replica's own envelope inserts. */
export const LOCAL_ENVELOPE_ORIGIN = Symbol('fhv:local-envelope');


/**
 * An own record the write policy would refuse (the relay's rules, `authorizeRecord`, run on the
 * sealed record against this replica's index before it is inserted). Nothing was inserted,
 * deleted or indexed: the envelope, the chain head and the membership fold are unchanged.
 */
export class OwnRecordRefused extends ProtocolError {
  constructor(failure: Failure) {
    super(failure);
    this.name = 'OwnRecordRefused';
  }
}

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
  /** Minimum spacing of records while edits keep coming; an edit after a quiet period is sealed at once. */
  readonly batchWindowMs?: number;
  /** Write a snapshot once this many update records are live in the envelope. */
  readonly compactEvery?: number;
}

export interface LocalState {
  /** Local updates not yet sealed into a record. */
  readonly queued: number;
  /** Records held because a predecessor in their author's chain is missing. */
  readonly gaps: number;
  readonly problems: readonly SyncProblem[];
}

export const DEFAULT_BATCH_WINDOW_MS = 20;
export const DEFAULT_COMPACT_EVERY = 300;
const MAX_PROBLEMS = 100;

export class ProfileSync {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  readonly envelope: Y.Doc;
  readonly index: EnvelopeIndex;
  readonly state = new Observable<LocalState>({ queued: 0, gaps: 0, problems: [] });
  /** Fires after each verified remote record is applied (author hex, record type). */
  readonly applied = new Observable<{ author: string; type: RecordTypeCode; seq: number } | null>(null);
  /** Bumped whenever the membership fold takes an op (own or remote): roles, devices, invites, epoch. */
  readonly membershipVersion = new Observable<number>(0);

  private readonly o: Required<Omit<ProfileSyncOptions, 'docId' | 'plain' | 'envelope' | 'box' | 'alsoRecipient'>> & Pick<ProfileSyncOptions, 'box' | 'alsoRecipient'>;
  private readonly me: string;
  private readonly map: Y.Map<Uint8Array>;
  private readonly chains = new Map<string, ChainHead>();
  private readonly processed = new Set<string>();
  /** Keys this replica saw deleted by compaction: a later re-insert of one is a replay. */
  private readonly compacted = new Set<string>();
  private readonly held = new Map<string, ParsedRecord>();
  /** Opened audit entries (signed audit-entry bytes) by record author, in arrival order. */
  private readonly audit: Array<{ author: string; seq: number; entry: Uint8Array }> = [];
  /** Records whose epoch key this device does not hold (yet): retried when a lockbox arrives. */
  private readonly awaitingKey = new Map<string, ParsedRecord>();
  private readonly incoming = new Set<string>();
  /** Records deleted from the envelope, until a snapshot is known to cover them. */
  private readonly erasures = new Map<string, Uint8Array>();
  private readonly writes = new SerialGate();
  private readonly reads = new SerialGate();
  private problems: SyncProblem[] = [];
  /** Live update and snapshot records in the envelope (what compaction counts). */
  private compactable = 0;
  private queue: Uint8Array[] = [];
  private sessions = new Set<number>();
  /** Yjs clientID → hex signing key of the author whose verified record carried it. */
  private readonly clientAuthors = new Map<number, string>();
  private session = 0;
  private sealing = false;
  private sealTimer: ReturnType<typeof setTimeout> | 'microtask' | undefined;
  private lastSealAt = -Infinity;
  private destroyed = false;

  private constructor(o: ProfileSyncOptions) {
    this.docId = o.docId;
    this.plain = o.plain;
    this.envelope = o.envelope;
    this.o = {
      signer: o.signer,
      engine: o.engine,
      keys: o.keys,
      box: o.box,
      alsoRecipient: o.alsoRecipient,
      random: o.random ?? secureRandom,
      now: o.now ?? Date.now,
      batchWindowMs: o.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
      compactEvery: o.compactEvery ?? DEFAULT_COMPACT_EVERY,
    };
    this.me = toHex(o.signer.publicKey);
    this.index = new EnvelopeIndex(o.docId);
    this.map = o.envelope.getMap<Uint8Array>(ENVELOPE_MAP);
    this.newSession();
  }

  /** Opens a profile: applies everything already in the envelope, then follows both docs. */
  static async open(o: ProfileSyncOptions): Promise<ProfileSync> {
    const sync = new ProfileSync(o);
    for (const [key, bytes] of sync.map.entries()) {
      sync.incoming.add(key);
      if (isCompactable(bytes)) sync.compactable++;
    }
    await sync.drain();
    sync.map.observe(sync.onEnvelopeChange);
    sync.plain.on('updateV2', sync.onPlainUpdate);
    return sync;
  }

  get clientId(): number {
    return this.plain.clientID;
  }

  /** This replica's own chain position. */
  get ownHead(): ChainHead {
    return this.chains.get(this.me) ?? GENESIS_HEAD;
  }

  chainOf(authorHex: string): ChainHead {
    return this.chains.get(authorHex) ?? GENESIS_HEAD;
  }

  /** The epoch new records are sealed under: the newest an owner rotated to. */
  get currentEpoch(): number {
    return this.index.membership.currentEpoch;
  }

  get keys(): EpochKeyRing {
    return this.o.keys;
  }

  /**
   * Who wrote the Yjs structs of `clientId` (hex signing key), as proven by a verified record
   * whose clientID binding covered it; undefined for structs that arrived only inside a
   * snapshot (its signer vouches for them as a whole) or not at all.
   */
  authorOfClient(clientId: number): string | undefined {
    return this.clientAuthors.get(clientId);
  }

  /**
   * The envelope holds records but no genesis: once the relay says it sent everything, that is
   * an erased or withheld profile, not an empty one (the facade turns it into a problem).
   */
  get genesisMissing(): boolean {
    return !this.index.membership.hasGenesis && (this.held.size > 0 || this.map.size > 0);
  }

  /** This replica's signing key. */
  get signerKey(): SigningPublicKey {
    return this.o.signer.publicKey;
  }

  canWrite(): boolean {
    return isWriterRole(this.index.membership.roleOf(this.o.signer.publicKey, this.o.now()));
  }

  /** Seals everything queued and waits until remote processing is idle. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.sealing || this.sealTimer !== undefined) {
      if (this.sealTimer !== undefined && this.sealTimer !== 'microtask') {
        clearTimeout(this.sealTimer);
        this.sealTimer = undefined;
      }
      if (this.queue.length > 0 && !this.sealing && this.sealTimer === undefined) {
        await this.sealQueued();
      } else {
        await new Promise((r) => setTimeout(r, 1));
      }
      if (this.queue.length > 0 && !this.canWrite()) break;
    }
    await this.writes.idle();
    await this.reads.idle();
  }

  /** Writes an owner-signed membership record (genesis is written by `createProfile`). */
  async appendMembership(op: MembershipOp): Promise<string> {
    return this.writes.run(() => {
      // Stamp the Lamport clock at write time, after every op this replica has seen.
      const stamped = { ...op, clock: op.kind === 'genesis' ? 0 : (op.clock ?? this.index.membership.nextClock) };
      return this.appendOwn(RecordType.membership, new Uint8Array(0), encodeMembershipExt(stamped), { op: stamped });
    });
  }

  /** Appends one signed audit entry (see protocol/audit.ts) as a sealed audit record. */
  async appendAudit(entry: Uint8Array): Promise<void> {
    await this.writes.run(async () => {
      await this.appendOwn(RecordType.audit, entry, new Uint8Array(0));
      this.audit.push({ author: this.me, seq: this.ownHead.seq, entry });
    });
  }

  /** Every audit entry this replica could open, grouped by author in chain order. */
  auditEntries(): Map<string, Uint8Array[]> {
    const out = new Map<string, Uint8Array[]>();
    for (const a of [...this.audit].sort((x, y) => x.seq - y.seq)) {
      const list = out.get(a.author) ?? [];
      list.push(a.entry);
      out.set(a.author, list);
    }
    return out;
  }

  /** Appends an owner-signed lockbox (ext from protocol/lockbox.ts) to this device's chain. */
  async appendLockbox(ext: Uint8Array): Promise<void> {
    await this.writes.run(() => this.appendOwn(RecordType.lockbox, new Uint8Array(0), ext));
  }

  /** Injected time and randomness, for the owner operations in admin.ts. */
  get clock(): { now: () => number; random: RandomSource; signer: SigningPublicKey } {
    return { now: this.o.now, random: this.o.random, signer: this.o.signer.publicKey };
  }

  destroy(): void {
    this.destroyed = true;
    if (this.sealTimer !== undefined && this.sealTimer !== 'microtask') clearTimeout(this.sealTimer);
    this.map.unobserve(this.onEnvelopeChange);
    this.plain.off('updateV2', this.onPlainUpdate);
  }

  // ---- local edits -------------------------------------------------------------------------

  private newSession(): void {
    const used = new Set(Y.decodeStateVector(Y.encodeStateVector(this.plain)).keys());
    do {
      this.session = new DataView(this.o.random(4).buffer).getUint32(0);
      this.plain.clientID = clientIdFor(this.docId, this.o.signer.publicKey, this.session);
    } while (used.has(this.plain.clientID));
    this.sessions.add(this.session);
    this.clientAuthors.set(this.plain.clientID, toHex(this.o.signer.publicKey));
  }

  private readonly onPlainUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === REMOTE_ORIGIN || this.destroyed) return;
    this.queue.push(update);
    this.scheduleSeal();
    this.publish();
  };

  private scheduleSeal(): void {
    if (this.sealing || this.sealTimer !== undefined || this.queue.length === 0) return;
    const wait = this.lastSealAt + this.o.batchWindowMs - this.o.now();
    const run = () => {
      this.sealTimer = undefined;
      void this.sealQueued();
    };
    if (wait <= 0) {
      // A microtask, not a timer: updates of the same synchronous burst join this record.
      this.sealTimer = 'microtask';
      queueMicrotask(run);
    } else {
      this.sealTimer = setTimeout(run, wait);
    }
  }

  private async sealQueued(): Promise<void> {
    if (this.sealing || this.queue.length === 0 || this.destroyed) return;
    // Before the membership log (or the current epoch's lockbox) has arrived we cannot seal
    // correctly yet: keep edits queued.
    if (!this.index.membership.hasGenesis || !this.o.keys.has(this.currentEpoch)) return;
    if (!this.canWrite()) {
      this.report({ code: 'RECORD_NOT_WRITER', message: 'this device may not write to this profile; local changes are not shared' });
      return;
    }
    this.sealing = true;
    let refused = false;
    this.lastSealAt = this.o.now();
    const updates = this.queue;
    const sessions = [...this.sessions];
    this.queue = [];
    this.sessions = new Set([this.session]);
    try {
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdatesV2(updates);
      const payload = encodeUpdatePayload({ sessions, update });
      await this.writes.run(() => this.appendOwn(RecordType.update, payload, new Uint8Array(0)));
    } catch (e) {
      // Refused by the write policy (a role this device lost), or a local crypto or storage
      // failure: keep the edits queued and tell the user.
      this.queue = updates.concat(this.queue);
      for (const s of sessions) this.sessions.add(s);
      if (e instanceof OwnRecordRefused) {
        refused = true;
        this.report({ code: e.code, message: 'this device may not write to this profile; local changes are not shared' });
      } else this.report({ code: 'SYNC_SEAL_FAILED', message: `could not seal local changes: ${(e as Error).name}` });
    } finally {
      this.sealing = false;
      this.publish();
      // A refused seal is retried when records arrive (drain), not in a loop.
      if (!refused) this.scheduleSeal();
    }
    if (!refused) await this.maybeCompact();
  }

  /**
   * Seals, signs and inserts one own record; callers serialise through `writes`. A snapshot
   * (`covers`) deletes, in the same envelope transaction, every record it covers: the rule the
   * relay applies. The envelope observer does the bookkeeping for the deleted keys.
   *
   * First the sealed record passes the relay's own check (`authorizeRecord` against this
   * replica's index): one the relay would refuse for this device's role or authority throws
   * OwnRecordRefused before anything changes, so a refused snapshot deletes nothing.
   */
  private async appendOwn(type: RecordTypeCode, payload: Uint8Array, ext: Uint8Array, o: { op?: MembershipOp; covers?: SnapshotExt } = {}): Promise<string> {
    const head = this.ownHead;
    const sealed = await sealRecordFor(this.o, {
      type,
      docId: this.docId,
      epoch: this.currentEpoch,
      author: this.o.signer.publicKey,
      seq: head.seq + 1,
      prev: head.head,
      ext,
    }, payload);
    const parsed = parseRecord(sealed.bytes);
    if (!parsed.ok) throw new Error(parsed.code);
    // Signed just now by this device's own key: the signature check is the only one skipped.
    const verdict = await authorizeRecord(parsed.value, this.index, { engine: this.o.engine, now: this.o.now(), signatureOk: true });
    if (!verdict.ok && ROLE_REFUSALS.has(verdict.code)) throw new OwnRecordRefused(verdict);
    const key = recordKey(parsed.value);
    const doomed = o.covers ? this.coveredKeys(o.covers) : [];
    this.processed.add(key);
    this.index.add(parsed.value, undefined, o.op);
    if (o.op) this.membershipVersion.set(this.membershipVersion.value + 1);
    this.chains.set(this.me, { seq: head.seq + 1, head: parsed.value.id });
    this.envelope.transact(() => {
      this.map.set(key, sealed.bytes);
      for (const k of doomed) this.map.delete(k);
    }, LOCAL_ENVELOPE_ORIGIN);
    return key;
  }

  // ---- compaction --------------------------------------------------------------------------

  /**
   * When automatic compaction may run. A profile synced through a relay compacts only while
   * caught up with it: a snapshot deletes other people's records in the stored copy at once, and
   * a device that lost write access while offline would otherwise delete them locally before the
   * relay refuses its snapshot (the relay's copy stays whole; this device's would not).
   */
  private compactionAllowed: () => boolean = () => true;

  setCompactionGate(allowed: () => boolean): void {
    this.compactionAllowed = allowed;
  }

  /** Compacts now if enough records piled up and compaction is allowed (e.g. once back online). */
  compactIfDue(): Promise<void> {
    return this.maybeCompact();
  }

  private async maybeCompact(): Promise<void> {
    if (this.compactable < this.o.compactEvery || !this.canWrite() || !this.compactionAllowed()) return;
    try {
      await this.compact();
    } catch (e) {
      // A role change the last check did not see: nothing was written; shown, not thrown.
      if (!(e instanceof OwnRecordRefused)) throw e;
      this.report({ code: e.code, message: 'this device may not compact this profile' });
    }
  }

  /**
   * Writes a snapshot of the applied state covering every chain head, and deletes the records
   * it covers in the same envelope transaction (the relay checks the same rule). Throws
   * OwnRecordRefused, with the envelope untouched, if this device may not write a snapshot.
   */
  async compact(): Promise<string> {
    return this.writes.run(async () => {
      await this.reads.idle();
      const coverage: CoverageEntry[] = [];
      for (const [author, head] of this.chains) {
        if (head.seq > 0) coverage.push({ author: fromHex(author) as CoverageEntry['author'], seq: head.seq, head: head.head });
      }
      const ext: SnapshotExt = { prevSnapshot: this.previousSnapshotId(), coverage };
      return this.appendOwn(RecordType.snapshot, Y.encodeStateAsUpdateV2(this.plain), encodeSnapshotExt(ext), { covers: ext });
    });
  }

  /** Id of a live snapshot this one follows (zero if none): the chain of snapshots. */
  private previousSnapshotId(): Uint8Array {
    let prev: Uint8Array = ZERO_HASH;
    for (const bytes of this.map.values()) {
      if (bytes[3] !== RecordType.snapshot) continue;
      const parsed = parseRecord(bytes);
      if (parsed.ok) prev = parsed.value.id;
    }
    return prev;
  }

  /** Keys of the envelope records a snapshot with this coverage may delete. */
  private coveredKeys(covers: SnapshotExt): string[] {
    const doomed: string[] = [];
    for (const [k, bytes] of this.map.entries()) {
      const target = parseRecord(bytes);
      if (!target.ok) continue;
      if (snapshotCovers(covers, target.value, snapshotExtOf(target.value))) doomed.push(k);
    }
    return doomed;
  }

  // ---- remote records ----------------------------------------------------------------------

  private readonly onEnvelopeChange = (event: Y.YMapEvent<Uint8Array>): void => {
    for (const [key, change] of event.changes.keys) {
      if (change.action === 'add' && isCompactable(this.map.get(key))) this.compactable++;
      if (change.action === 'delete' && isCompactable(change.oldValue)) this.compactable--;
      // A key's value never changes (envelope invariant I2): if it did, Yjs resolved a second
      // item under a used key, deleting the first. Only a broken or malicious relay lets that in.
      if (change.action === 'update') this.report({ code: 'ENVELOPE_RECORD_ERASED', key, message: 'a record was replaced in the envelope' });
      if (change.action === 'add' || change.action === 'update') this.incoming.add(key);
      else if (change.action === 'delete') {
        if (change.oldValue instanceof Uint8Array) this.erasures.set(key, change.oldValue);
        this.index.remove(key);
        this.compacted.add(key);
        // Forget it was processed: if the same record is ever re-inserted, it is a replay.
        this.processed.delete(key);
      }
    }
    if (this.incoming.size > 0 || this.erasures.size > 0) void this.drain();
  };

  /**
   * Invariant I1 as a client sees it: a record leaves the envelope only under a snapshot that
   * covers it. Checked once nothing is held, since the covering snapshot may arrive after the
   * delete or wait for a key; an uncovered loss is a visible error, never "synced".
   */
  private checkErasures(): void {
    if (this.held.size + this.awaitingKey.size > 0) return;
    for (const [key, bytes] of this.erasures) {
      this.erasures.delete(key);
      const r = parseRecord(bytes);
      if (!r.ok) continue; // never a record: nothing of value went
      const target = snapshotExtOf(r.value);
      const covered =
        (r.value.header.type === RecordType.update && this.index.coveredSeq(toHex(r.value.header.author)) >= r.value.header.seq) ||
        this.index.snapshots().some((s) => s !== target && snapshotCovers(s, r.value, target));
      if (!covered) this.report({ code: 'ENVELOPE_RECORD_ERASED', key, author: toHex(r.value.header.author), message: 'a record left the envelope without a snapshot covering it' });
    }
  }

  /** Processes newly arrived records; serial, so chains advance in order. */
  drain(): Promise<void> {
    return this.reads.run(async () => {
      while (this.incoming.size > 0 && !this.destroyed) {
        const keys = [...this.incoming];
        this.incoming.clear();
        const batch: ParsedRecord[] = [];
        for (const key of keys) {
          if (this.processed.has(key)) continue;
          const bytes = this.map.get(key);
          if (bytes === undefined) continue; // compacted away before we got to it: its snapshot covers it
          if (!(bytes instanceof Uint8Array)) {
            this.reject(key, undefined, { ok: false, code: 'ENVELOPE_BAD_STRUCT', message: 'envelope value is not binary' });
            continue;
          }
          const parsed = parseRecord(bytes);
          if (!parsed.ok) {
            this.reject(key, undefined, parsed);
            continue;
          }
          if (recordKey(parsed.value) !== key) {
            this.reject(key, parsed.value, { ok: false, code: 'RECORD_KEY_MISMATCH', message: 'map key is not the record id' });
            continue;
          }
          batch.push(parsed.value);
        }
        await this.processBatch(batch);
      }
      this.checkErasures();
      this.publish();
      this.scheduleSeal(); // membership may have just arrived for edits made before it
    });
  }

  /** Signature results of records checked in a batch, consumed when the record is processed. */
  private readonly signatures = new Map<string, boolean>();

  private authorize(r: ParsedRecord) {
    const key = recordKey(r);
    const signatureOk = this.signatures.get(key);
    this.signatures.delete(key);
    // Records from the envelope were taken by the relay, which checked invite links' expiry then.
    return authorizeRecord(r, this.index, { engine: this.o.engine, now: this.o.now(), signatureOk, inviteLinkExpiry: false });
  }

  private async processBatch(batch: ParsedRecord[]): Promise<void> {
    // Verify every signature of the batch concurrently; chain order only matters afterwards.
    const results = await Promise.all(batch.map((r) => verifyRecord(r, this.o.engine)));
    batch.forEach((r, i) => this.signatures.set(recordKey(r), results[i]!.ok));
    // 1. Membership first: roles decide whether anything else is acceptable.
    for (const r of batch.filter((r) => r.header.type === RecordType.membership).sort(compareForMembership)) {
      const verdict = await this.authorize(r);
      if (!verdict.ok) this.reject(recordKey(r), r, verdict);
      else {
        this.index.add(r, undefined, verdict.value);
        this.membershipVersion.set(this.membershipVersion.value + 1);
      }
    }
    // 1b. Lockboxes: an owner-signed lockbox for this device adds epoch keys.
    let newKeys = 0;
    for (const r of batch.filter((r) => r.header.type === RecordType.lockbox)) {
      const verdict = await this.authorize(r);
      if (!verdict.ok) {
        this.reject(recordKey(r), r, verdict);
        continue;
      }
      const absorbed = this.o.keys.absorb(r, { docId: this.docId, me: this.o.signer.publicKey, box: this.o.box });
      // A revoked device stops opening its identity's lockboxes (it still holds the seed: see the threat model).
      const also = this.o.alsoRecipient && !this.index.membership.state().revokedDevices.has(this.me) ? this.o.alsoRecipient : undefined;
      const absorbedAlso = also ? this.o.keys.absorb(r, { docId: this.docId, me: also.publicKey, box: also.box }) : { ok: true as const, value: 0 };
      if (!absorbed.ok) this.reject(recordKey(r), r, absorbed);
      else if (!absorbedAlso.ok) this.reject(recordKey(r), r, absorbedAlso);
      else newKeys += absorbed.value + absorbedAlso.value;
      this.index.add(r, undefined);
    }
    if (newKeys > 0) {
      for (const [k, r] of this.awaitingKey) batch.push(r), this.awaitingKey.delete(k);
    }
    // 2. Snapshots: applied as a whole; they lift chain heads to what they cover.
    for (const r of batch.filter((r) => r.header.type === RecordType.snapshot)) {
      if (this.o.keys.has(r.header.epoch)) await this.acceptSnapshot(r);
      else this.awaitingKey.set(recordKey(r), r);
    }
    // 3. Everything else in chain order, holding records whose predecessor is missing.
    for (const r of batch) {
      const key = recordKey(r);
      if (r.header.type !== RecordType.snapshot && !this.processed.has(key)) this.held.set(key, r);
    }
    await this.advanceChains();
  }

  private async acceptSnapshot(r: ParsedRecord): Promise<void> {
    const key = recordKey(r);
    const verdict = await this.authorize(r);
    if (!verdict.ok) return this.reject(key, r, verdict);
    const ext = decodeSnapshotExt(r.header.ext);
    if (!ext.ok) return this.reject(key, r, ext);
    const own = ext.value.coverage.find((c) => toHex(c.author) === toHex(r.header.author));
    const ownSeq = own?.seq ?? 0;
    if (ownSeq !== r.header.seq - 1 || !bytesEqual(own?.head ?? ZERO_HASH, r.header.prev)) {
      return this.reject(key, r, { ok: false, code: 'RECORD_BAD_CHAIN', message: "snapshot does not cover its author's own chain" });
    }
    for (const c of ext.value.coverage) {
      const seen = this.index.seqOwner(toHex(c.author), c.seq);
      if (seen !== undefined && seen !== toBase64Url(c.head)) {
        return this.reject(key, r, { ok: false, code: 'RECORD_FORK', message: 'snapshot names another record at a covered seq' });
      }
    }
    const opened = this.open(r as VerifiedRecord);
    if (!opened.ok) return this.reject(key, r, opened);
    const update = snapshotUpdate(opened.value);
    if (!update.ok) return this.reject(key, r, update);
    const applied = this.applyRemote(update.value);
    if (!applied.ok) return this.reject(key, r, applied);
    for (const c of ext.value.coverage) {
      const a = toHex(c.author);
      if ((this.chains.get(a)?.seq ?? 0) < c.seq) this.chains.set(a, { seq: c.seq, head: c.head });
    }
    const author = toHex(r.header.author);
    if ((this.chains.get(author)?.seq ?? 0) < r.header.seq) this.chains.set(author, { seq: r.header.seq, head: r.id });
    this.index.add(r, undefined);
    this.processed.add(key);
    // Held records the snapshot already covers are now replays of its content.
    for (const [k, h] of this.awaitingKey) {
      if (h.header.type === RecordType.update && h.header.seq <= this.chainOf(toHex(h.header.author)).seq) {
        this.awaitingKey.delete(k);
        this.processed.add(k);
      }
    }
    for (const [k, h] of this.held) {
      if (h.header.type !== RecordType.membership && h.header.seq <= this.chainOf(toHex(h.header.author)).seq) {
        this.held.delete(k);
        this.processed.add(k);
      }
    }
    this.applied.set({ author, type: r.header.type, seq: r.header.seq });
  }

  private async advanceChains(): Promise<void> {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const [key, r] of [...this.held].sort((a, b) => bySeq(a[1], b[1]))) {
        const author = toHex(r.header.author);
        const head = this.chainOf(author);
        if (r.header.seq > head.seq + 1) continue; // gap: wait for the predecessor
        this.held.delete(key);
        progressed = true;
        if (r.header.seq <= head.seq && KEPT_TYPES.has(r.header.type) && this.index.has(key) && r.header.seq <= this.index.coveredSeq(author)) {
          // Membership and lockbox records outlive the snapshots that cover them: already
          // verified in step 1, nothing to apply.
          this.processed.add(key);
          continue;
        }
        if (r.header.seq <= head.seq) {
          const covered = r.header.seq <= this.index.coveredSeq(author);
          if (covered && !this.compacted.has(key)) {
            // A record a snapshot already covers, arriving with or after it (its writer never
            // had it live, so did not delete it): its content is in the snapshot. Never applied.
            this.processed.add(key);
            continue;
          }
          // Re-inserted after this replica saw it compacted: a replay. Otherwise: a fork.
          const code = covered ? 'RECORD_REPLAY' : 'RECORD_FORK';
          this.reject(key, r, { ok: false, code, message: 'record repeats a seq this author already used' });
          continue;
        }
        if (!bytesEqual(r.header.prev, head.head)) {
          this.reject(key, r, { ok: false, code: 'RECORD_BAD_CHAIN', message: "record does not follow its author's previous record" });
          continue;
        }
        await this.acceptInChain(key, r, author);
      }
    }
  }

  private async acceptInChain(key: string, r: ParsedRecord, author: string): Promise<void> {
    if (KEPT_TYPES.has(r.header.type)) {
      // Verified (and folded or absorbed) in step 1; here it only advances the chain.
      if (!this.index.has(key)) return this.reject(key, r, { ok: false, code: 'RECORD_NOT_ADMIN', message: 'membership record was refused' });
    } else {
      const verdict = await this.authorize(r);
      if (!verdict.ok) return this.reject(key, r, verdict);
      if ((r.header.type === RecordType.update || r.header.type === RecordType.audit) && !this.o.keys.has(r.header.epoch)) {
        // Not ours to read (yet): keep it, and the author's later records wait behind it.
        this.awaitingKey.set(key, r);
        return;
      }
      if (r.header.type === RecordType.audit) {
        const opened = this.open(r as VerifiedRecord);
        if (!opened.ok) return this.reject(key, r, opened);
        this.audit.push({ author, seq: r.header.seq, entry: opened.value.payload });
      }
      if (r.header.type === RecordType.update) {
        const opened = this.open(r as VerifiedRecord);
        if (!opened.ok) return this.reject(key, r, opened);
        const update = toVerifiedUpdate(opened.value, this.docId);
        if (!update.ok) return this.reject(key, r, update);
        // Known before the structs land, so observers of this update can already name their author.
        for (const c of update.value.clients) this.clientAuthors.set(c, author);
        const applied = this.applyRemote(update.value.update);
        if (!applied.ok) return this.reject(key, r, applied);
      }
      this.index.add(r, undefined);
    }
    this.chains.set(author, { seq: r.header.seq, head: r.id });
    this.processed.add(key);
    this.applied.set({ author, type: r.header.type, seq: r.header.seq });
  }

  private open(r: VerifiedRecord) {
    const key = this.o.keys.get(r.header.epoch);
    if (!key) return { ok: false, code: 'RECORD_UNKNOWN_EPOCH', message: 'no key for this record epoch' } as Failure;
    return openRecord(r, key);
  }

  private applyRemote(update: VerifiedUpdate) {
    const result = applyVerified(this.plain, update, REMOTE_ORIGIN);
    // Yjs picks a new random clientID if it sees ours used elsewhere; ours must stay derived.
    if (this.plain.clientID !== clientIdFor(this.docId, this.o.signer.publicKey, this.session)) this.newSession();
    return result;
  }

  private reject(key: string, r: ParsedRecord | undefined, failure: Failure): void {
    this.processed.add(key);
    this.report({ code: failure.code, key, author: r ? toHex(r.header.author) : undefined, message: failure.message });
  }

  private report(problem: SyncProblem): void {
    const seen = this.problems.some((p) => p.code === problem.code && p.key === problem.key);
    if (!seen && this.problems.length < MAX_PROBLEMS) this.problems = [...this.problems, problem];
    this.publish();
  }

  /** Problems are kept until the user (or a test) acknowledges them. */
  clearProblems(): void {
    this.problems = [];
    this.publish();
  }

  private publish(): void {
    this.state.set({ queued: this.queue.length, gaps: this.held.size + this.awaitingKey.size, problems: this.problems });
  }
}

const bySeq = (a: ParsedRecord, b: ParsedRecord): number => a.header.seq - b.header.seq;
const isCompactable = (bytes: unknown): boolean =>
  bytes instanceof Uint8Array && (bytes[3] === RecordType.update || bytes[3] === RecordType.snapshot);
/**
 * The verdicts of `authorizeRecord` about who may write what (role and authority): an own
 * record refused with one of these is never inserted. The rest (an accept's proof, a taken
 * key...) concern what the caller put in a membership op; the relay judges those, and tests
 * drive such records through the engine to check that it does.
 */
const ROLE_REFUSALS: ReadonlySet<string> = new Set(['RECORD_NOT_MEMBER', 'RECORD_NOT_WRITER', 'RECORD_NOT_ADMIN']);
/** Record types compaction never deletes. */
const KEPT_TYPES: ReadonlySet<number> = new Set([RecordType.membership, RecordType.lockbox]);

function sealRecordFor(
  o: { signer: SigningKeyPair; engine: Ed25519Engine; keys: EpochKeyRing; random: RandomSource },
  header: RecordHeader,
  payload: Uint8Array,
) {
  const key = SEALED_TYPES.has(header.type) ? o.keys.get(header.epoch) : undefined;
  return sealRecord({ header, payload, key, secretKey: o.signer.secretKey, engine: o.engine, random: o.random });
}
