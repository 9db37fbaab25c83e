/**
 * Remote records, from the envelope map to the plain doc:
 *
 *   envelope key added ─► parse ─► verify signatures (the batch at once) ─► membership ops
 *   ─► lockboxes (epoch keys) ─► snapshots ─► every other record in its author's chain order
 *
 * Only a record `verifyRecord` returned (a VerifiedRecord) and `authorizeRecord` accepted is
 * opened, and only a `VerifiedUpdate` reaches the plain doc. Records are authorised as the relay
 * took them: time limits were the relay's to check (`replica: true`), so a replica that syncs
 * after a session ended folds the same records as one that was online during it.
 */
import * as Y from 'yjs';
import { toBase64Url, toHex, type BoxKeyPair, type Ed25519Engine, type SigningPublicKey } from '../crypto/index.ts';
import {
  authorizeRecord,
  compareForMembership,
  decodeSnapshotExt,
  effectInSnapshot,
  openRecord,
  parseRecord,
  prevNames,
  recordKey,
  RecordType,
  recordTypeRule,
  SerialGate,
  snapshotCovers,
  snapshotExtOf,
  verifyRecord,
  ZERO_HASH,
  type Failure,
  type MembershipOp,
  type ParsedRecord,
  type RecordTypeCode,
  type Result,
  type VerifiedRecord,
} from '../protocol/index.ts';
import { mergeVerified, snapshotUpdate, toVerifiedUpdate, type OwnedUpdate, type VerifiedUpdate } from './apply.ts';
import { chainStep } from './chain-rules.ts';
import type { EpochKeyRing } from './key-ring.ts';
import { OpenedAhead } from './opened-ahead.ts';
import { PlainGroup, type PlainItem } from './plain-group.ts';
import type { ProblemList } from './problems.ts';
import type { ReplicaState } from './replica-state.ts';
import { hasPending } from './yjs-internals.ts';
import { LeaverRefusals } from './leaver-refusals.ts';

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

export class Inbox {
  private readonly c: InboxContext;
  private readonly incoming = new Set<string>();
  /** Records deleted from the envelope, until a snapshot is known to cover them. */
  private readonly erasures = new Map<string, Uint8Array>();
  /** Signature results of the batch being processed, consumed when each record is authorised. */
  private readonly verified = new Map<string, Result<VerifiedRecord>>();
  /** Refusals a later snapshot can make wrong (leaver-refusals.ts). */
  private readonly leavers = new LeaverRefusals();
  private readonly reads = new SerialGate();
  /** Update records opened while their signatures were checked (docs/decisions/0058). */
  private readonly ahead: OpenedAhead;

  constructor(c: InboxContext) {
    this.c = c;
    this.ahead = new OpenedAhead(c.docId);
  }

  /**
   * A record the relay is sending, parsed as it arrived: opened now, while its signature is
   * checked (docs/decisions/0058). Decides nothing: `accept` takes the result only once the record
   * passed its signature check and authorisation, and only for these exact bytes and key.
   */
  openAhead(record: ParsedRecord): void {
    const key = this.c.keys.get(record.header.epoch);
    if (key) this.ahead.open(record, key);
  }

  /** Everything already in the envelope at open. */
  takeAll(): void {
    for (const key of this.c.map.keys()) this.incoming.add(key);
  }

  readonly onEnvelopeChange = (event: Y.YMapEvent<Uint8Array>): void => {
    const { state, problems } = this.c;
    for (const [key, change] of event.changes.keys) {
      // A key's value never changes (envelope invariant I2): if it did, Yjs resolved a second
      // item under a used key, deleting the first. Only a broken or malicious relay lets that in.
      if (change.action === 'update') problems.report({ code: 'ENVELOPE_RECORD_ERASED', key, message: 'a record was replaced in the envelope' });
      if (change.action === 'add' || change.action === 'update') this.incoming.add(key);
      else if (change.action === 'delete') {
        if (change.oldValue instanceof Uint8Array) this.erasures.set(key, change.oldValue);
        state.index.remove(key);
        state.compacted.add(key);
        // Gone before this replica could read it: its snapshot carries it (or checkErasures says
        // it was erased). Waiting for its key or predecessor would end in a false replay.
        state.awaitingKey.delete(key);
        state.held.delete(key);
        // Forget it was processed: if the same record is ever re-inserted, it is a replay.
        state.processed.delete(key);
      }
    }
    if (this.incoming.size > 0 || this.erasures.size > 0) void this.drain();
  };

  idle(): Promise<void> {
    return this.reads.idle();
  }

  /** Processes newly arrived records; serial, so chains advance in order. */
  drain(): Promise<void> {
    return this.reads.run(async () => {
      while (this.incoming.size > 0 && !this.c.destroyed()) {
        const keys = [...this.incoming];
        this.incoming.clear();
        await this.processBatch(this.parseBatch(keys));
      }
      this.checkErasures();
      this.c.drained();
    });
  }

  private parseBatch(keys: string[]): ParsedRecord[] {
    const batch: ParsedRecord[] = [];
    for (const key of keys) {
      if (this.c.state.processed.has(key)) continue;
      const bytes = this.c.map.get(key);
      if (bytes === undefined) continue; // compacted away before we got to it: its snapshot covers it
      if (!(bytes instanceof Uint8Array)) {
        this.refuse(key, undefined, { ok: false, code: 'ENVELOPE_BAD_STRUCT', message: 'envelope value is not binary' });
        continue;
      }
      // A type this app does not know (a newer app wrote it) is kept and followed, never dropped.
      const parsed = parseRecord(bytes, undefined, { unknownTypes: true });
      if (!parsed.ok) this.refuse(key, undefined, parsed);
      else if (recordKey(parsed.value) !== key) this.refuse(key, parsed.value, { ok: false, code: 'RECORD_KEY_MISMATCH', message: 'map key is not the record id' });
      else batch.push(parsed.value);
    }
    return batch;
  }

  private async processBatch(batch: ParsedRecord[]): Promise<void> {
    const { state } = this.c;
    // Verify every signature of the batch concurrently; chain order only matters afterwards.
    const results = await Promise.all(batch.map((r) => verifyRecord(r, this.c.engine)));
    batch.forEach((r, i) => this.verified.set(recordKey(r), results[i]!));
    // 1. Membership first: roles decide whether anything else is acceptable.
    const hadGenesis = state.index.membership.hasGenesis;
    await this.foldMembership(batch);
    if (!hadGenesis && state.index.membership.hasGenesis) {
      // The genesis at last: records that arrived before it (waiting) join this batch, and
      // their membership ops are folded now, in causal order, like the batch's own.
      const waiting = this.takeWaiting();
      batch.push(...waiting);
      await this.foldMembership(waiting);
    }
    // 1b. Lockboxes: an owner-signed lockbox for this device adds epoch keys.
    let newKeys = 0;
    for (const r of batch.filter((r) => r.header.type === RecordType.lockbox)) newKeys += await this.absorbLockbox(r);
    // New keys: records that waited for one are retried.
    if (newKeys > 0) batch.push(...this.takeWaiting());
    // 2. Snapshots: applied as a whole; they lift chain heads to what they cover.
    for (const r of batch.filter((r) => r.header.type === RecordType.snapshot)) {
      if (this.c.keys.has(r.header.epoch)) await this.acceptSnapshot(r);
      else state.awaitingKey.set(recordKey(r), r);
    }
    // 3. Everything else in chain order, holding records whose predecessor is missing.
    for (const r of batch) {
      const key = recordKey(r);
      if (r.header.type !== RecordType.snapshot && !state.processed.has(key) && !state.awaitingKey.has(key)) state.held.set(key, r);
    }
    await this.advanceChains();
  }

  /** Step 1: folds the membership records among `records`, in causal order. */
  private async foldMembership(records: ParsedRecord[]): Promise<void> {
    const { state } = this.c;
    for (const r of records.filter((r) => r.header.type === RecordType.membership).sort(compareForMembership)) {
      const verdict = await this.authorize(r);
      // Before the genesis nothing can be judged: wait for it (retried when it arrives).
      if (!verdict.ok && !state.index.membership.hasGenesis) state.awaitingKey.set(recordKey(r), r);
      else if (!verdict.ok) this.refuse(recordKey(r), r, verdict.failure);
      else {
        state.index.add(r, undefined, verdict.op);
        this.c.membershipChanged();
      }
    }
  }

  /** Every waiting record (for a key or the genesis), taken out of the wait to be tried again. */
  private takeWaiting(): ParsedRecord[] {
    const waiting = [...this.c.state.awaitingKey.values()];
    this.c.state.awaitingKey.clear();
    return waiting;
  }

  /** The batch's signature result for this record (consumed), or a check now for one retried later. */
  private async signatureOf(r: ParsedRecord): Promise<Result<VerifiedRecord>> {
    const key = recordKey(r);
    const verified = this.verified.get(key) ?? (await verifyRecord(r, this.c.engine));
    this.verified.delete(key);
    return verified;
  }

  private async authorize(r: ParsedRecord): Promise<{ ok: true; record: VerifiedRecord; op: MembershipOp | undefined } | { ok: false; failure: Failure }> {
    const verified = await this.signatureOf(r);
    if (!verified.ok) return { ok: false, failure: verified };
    const verdict = await authorizeRecord(r, this.c.state.index, { engine: this.c.engine, now: this.c.now(), verified, replica: true });
    return verdict.ok ? { ok: true, record: verified.value, op: verdict.value } : { ok: false, failure: verdict };
  }

  private async absorbLockbox(r: ParsedRecord): Promise<number> {
    const { state, keys, docId } = this.c;
    const verdict = await this.authorize(r);
    if (!verdict.ok && !state.index.membership.hasGenesis) {
      state.awaitingKey.set(recordKey(r), r);
      return 0;
    }
    if (!verdict.ok) {
      this.refuse(recordKey(r), r, verdict.failure);
      return 0;
    }
    const absorbed = keys.absorb(r, { docId, me: this.c.me, box: this.c.box });
    // A revoked device stops opening its identity's lockboxes (it still holds the seed: see the threat model).
    const also = this.c.alsoRecipient && !state.index.membership.state().revokedDevices.has(toHex(this.c.me)) ? this.c.alsoRecipient : undefined;
    const absorbedAlso = also ? keys.absorb(r, { docId, me: also.publicKey, box: also.box }) : { ok: true as const, value: 0 };
    state.index.add(r, undefined);
    if (!absorbed.ok) this.refuse(recordKey(r), r, absorbed);
    else if (!absorbedAlso.ok) this.refuse(recordKey(r), r, absorbedAlso);
    else return absorbed.value + absorbedAlso.value;
    return 0;
  }

  private async acceptSnapshot(r: ParsedRecord): Promise<void> {
    const { state } = this.c;
    const key = recordKey(r);
    const verdict = await this.authorize(r);
    if (!verdict.ok && verdict.failure.code === 'ENVELOPE_NO_GENESIS') return void state.awaitingKey.set(key, r);
    if (!verdict.ok) return this.refuse(key, r, verdict.failure);
    const ext = decodeSnapshotExt(r.header.ext);
    if (!ext.ok) return this.refuse(key, r, ext);
    const author = toHex(r.header.author);
    const own = ext.value.coverage.find((c) => toHex(c.author) === author);
    if ((own?.seq ?? 0) !== r.header.seq - 1 || !prevNames(r.header.prev, own?.head ?? ZERO_HASH)) {
      return this.refuse(key, r, { ok: false, code: 'RECORD_BAD_CHAIN', message: "snapshot does not cover its author's own chain" });
    }
    for (const c of ext.value.coverage) {
      const seen = state.index.seqOwner(toHex(c.author), c.seq);
      if (seen !== undefined && seen !== toBase64Url(c.head)) {
        return this.refuse(key, r, { ok: false, code: 'RECORD_FORK', message: 'snapshot names another record at a covered seq' });
      }
    }
    const opened = this.open(verdict.record);
    if (!opened.ok) return this.refuse(key, r, opened);
    const update = snapshotUpdate(opened.value);
    if (!update.ok) return this.refuse(key, r, update);
    const applied = this.c.apply(update.value);
    if (!applied.ok) return this.refuse(key, r, applied);
    for (const c of ext.value.coverage) state.lift(toHex(c.author), c.seq, c.head);
    state.lift(author, r.header.seq, r.id);
    state.index.add(r, undefined);
    state.processed.add(key);
    this.reconsiderLeavers();
    // Held updates the snapshot already covers are replays of its content. Records whose
    // effect lives outside the plain doc (audit entries...) stay: chainStep still folds them.
    for (const [k, h] of state.awaitingKey) {
      if (h.header.type === RecordType.update && h.header.seq <= state.chainOf(toHex(h.header.author)).seq) {
        state.awaitingKey.delete(k);
        state.processed.add(k);
      }
    }
    this.c.applied({ author, type: r.header.type, seq: r.header.seq });
  }

  private async advanceChains(): Promise<void> {
    const { state } = this.c;
    let progressed = true;
    while (progressed) {
      progressed = false;
      const group = new PlainGroup();
      for (const [key, r] of [...state.held].sort((a, b) => a[1].header.seq - b[1].header.seq)) {
        const author = toHex(r.header.author);
        const step = chainStep({ type: r.header.type, seq: r.header.seq, prev: r.header.prev }, group.position(state, author, key));
        if (step.kind === 'wait') continue;
        state.held.delete(key);
        progressed = true;
        if (step.kind === 'reject') this.refuse(key, r, { ok: false, code: step.code, message: step.message });
        else if (step.kind === 'covered') state.processed.add(key);
        else if (step.kind === 'next' && recordTypeRule(r.header.type)?.effect === 'plain') await this.accept(key, r, author, true, group);
        else {
          // It moves its author's chain now: that author's records in the group go first. (Its
          // effect is outside the plain doc: other authors' records can wait for the group.)
          if (group.holds(author)) this.commitPlain(group);
          await this.accept(key, r, author, step.kind === 'next');
        }
      }
      this.commitPlain(group);
    }
  }

  /**
   * Applies the group's updates as one and commits its records (plain-group.ts), in one
   * synchronous step. If Yjs rejects the merged update, each is applied alone to find the one
   * it rejects; an author's records after a refused one go back to wait, as they would have.
   */
  private commitPlain(group: PlainGroup): void {
    if (group.size === 0) return;
    const { state } = this.c;
    const items = group.take();
    for (const item of items) state.bindClients(item.clients, item.author);
    const done = (item: PlainItem) => {
      state.index.add(item.record, undefined);
      state.advance(item.author, item.record.header.seq, item.record.id);
      state.processed.add(item.key);
      this.c.applied({ author: item.author, type: item.record.header.type as RecordTypeCode, seq: item.record.header.seq });
    };
    const all = this.c.apply(mergeVerified(items.map((i) => i.update)));
    if (all.ok) return items.forEach(done);
    if (items.length === 1) return this.refuse(items[0]!.key, items[0]!.record, all);
    const refused = new Set<string>();
    for (const item of items) {
      if (refused.has(item.author)) {
        state.held.set(item.key, item.record);
        continue;
      }
      const applied = this.c.apply(item.update);
      if (applied.ok) done(item);
      else {
        refused.add(item.author);
        this.refuse(item.key, item.record, applied);
      }
    }
  }

  /**
   * Applies one record's effect. `advances`: it is its author's next record (else a snapshot
   * already moved the chain past it and only its effect outside the plain doc is taken).
   */
  private async accept(key: string, r: ParsedRecord, author: string, advances: boolean, group?: PlainGroup): Promise<void> {
    const { state } = this.c;
    const rule = recordTypeRule(r.header.type);
    if (rule?.effect === 'membership' || rule?.effect === 'keys') {
      // Verified, folded or absorbed in step 1; here it only advances the chain.
      if (!state.index.has(key)) return this.refuse(key, r, { ok: false, code: 'RECORD_NOT_ADMIN', message: `${rule.name} record was refused` });
    } else if (rule === undefined) {
      // A type this app does not know: signed by its author, kept in the envelope and in the chain.
      const verified = await this.signatureOf(r);
      if (!verified.ok) return this.refuse(key, r, verified);
      state.index.add(r, undefined);
    } else {
      const verdict = await this.authorize(r);
      // Another member's record can reach a fresh replica before the genesis (the relay
      // broadcasts live updates before this replica's catch-up): it waits, like one without its key.
      if (!verdict.ok && verdict.failure.code === 'ENVELOPE_NO_GENESIS') return void state.awaitingKey.set(key, r);
      if (!verdict.ok) return this.refuse(key, r, verdict.failure);
      if (rule.sealed && !this.c.keys.has(r.header.epoch)) {
        if (this.c.neverReadable(r.header.epoch)) {
          // Sealed before this device's access began (a writer who had not seen the rotation):
          // authorised and kept in the chain, its content never readable here by design.
          if (group?.holds(author)) this.commitPlain(group);
          state.index.add(r, undefined);
          if (advances) state.advance(author, r.header.seq, r.id);
          state.processed.add(key);
          return;
        }
        // Not ours to read (yet): keep it, and the author's later records wait behind it.
        state.awaitingKey.set(key, r);
        return;
      }
      if (rule.effect === 'audit') {
        const opened = this.open(verdict.record);
        if (!opened.ok) return this.refuse(key, r, opened);
        state.addAudit(key, { author, seq: r.header.seq, entry: opened.value.payload });
      }
      if (rule.effect === 'plain') {
        const update = this.openUpdate(verdict.record);
        if (!update.ok) return this.refuse(key, r, update);
        // In a pass of the inbox: applied with the others it found ready, when it commits them.
        if (group) return group.add({ key, record: r, author, update: update.value.update, clients: update.value.clients });
        // Known before the structs land, so observers of this update can already name their author.
        state.bindClients(update.value.clients, author);
        const applied = this.c.apply(update.value.update);
        if (!applied.ok) return this.refuse(key, r, applied);
      }
      state.index.add(r, undefined);
    }
    if (advances) state.advance(author, r.header.seq, r.id);
    state.processed.add(key);
    this.c.applied({ author, type: r.header.type as RecordTypeCode, seq: r.header.seq });
  }

  /** A verified, authorised update record's Yjs update: opened ahead (same bytes, same key), or now. */
  private openUpdate(r: VerifiedRecord): Result<OwnedUpdate> {
    const key = this.c.keys.get(r.header.epoch);
    const ahead = key && this.ahead.take(r, key);
    if (ahead) return ahead;
    const opened = this.open(r);
    return opened.ok ? toVerifiedUpdate(opened.value, this.c.docId) : opened;
  }

  private open(r: VerifiedRecord) {
    const key = this.c.keys.get(r.header.epoch);
    if (!key) return { ok: false, code: 'RECORD_UNKNOWN_EPOCH', message: 'no key for this record epoch' } as Failure;
    return openRecord(r, key);
  }

  /**
   * Invariant I1 as a client sees it: a record leaves the envelope only under a snapshot that
   * covers it. Checked once nothing is held, since the covering snapshot may arrive after the
   * delete or wait for a key; an uncovered loss is a visible error, never "synced". Nor while the
   * envelope holds structs Yjs could not integrate yet: a compaction's deletes take effect at once
   * while its snapshot can wait there for an earlier struct (the relay gate holds such updates
   * back, relay-connection.ts; an envelope fed another way must not cry wolf either).
   */
  private checkErasures(): void {
    const { state } = this.c;
    if (state.waiting > 0 || (this.c.map.doc !== null && hasPending(this.c.map.doc))) return;
    for (const [key, bytes] of this.erasures) {
      this.erasures.delete(key);
      const r = parseRecord(bytes, undefined, { unknownTypes: true });
      if (!r.ok) continue; // never a record: nothing of value went
      const target = snapshotExtOf(r.value);
      const covered =
        (r.value.header.type === RecordType.update && state.index.coveredSeq(toHex(r.value.header.author)) >= r.value.header.seq) ||
        state.index.snapshots().some((s) => s !== target && snapshotCovers(s, r.value, target));
      if (!covered) this.c.problems.report({ code: 'ENVELOPE_RECORD_ERASED', key, author: toHex(r.value.header.author), message: 'a record left the envelope without a snapshot covering it' });
    }
  }

  /**
   * A snapshot moved coverage: a leaver's record it now covers was refused too early. The
   * refusal is withdrawn; a record whose effect the snapshot carries is done, any other (an
   * audit entry) goes back to its chain to be folded as covered.
   */
  private reconsiderLeavers(): void {
    const { state } = this.c;
    for (const [key, r] of this.leavers.takeCovered((author) => state.index.coveredSeq(author))) {
      this.c.problems.withdraw('RECORD_NOT_MEMBER', key);
      if (effectInSnapshot(r.header.type)) continue;
      state.processed.delete(key);
      state.held.set(key, r);
    }
  }

  private refuse(key: string, r: ParsedRecord | undefined, failure: Failure): void {
    this.c.state.processed.add(key);
    this.c.problems.refused(key, r, failure);
    if (r) this.leavers.keep(key, r, failure, (author) => this.c.state.index.membership.formerRole(author));
  }
}
