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
import type * as Y from 'yjs';
import { toHex } from '../crypto/index.ts';
import { compareForMembership, recordKey, RecordType, recordTypeRule, SerialGate, verifyRecord, type Failure, type ParsedRecord, type RecordTypeCode } from '../protocol/index.ts';
import { snapshotUpdate } from './apply.ts';
import { chainStep } from './chain-rules.ts';
import { ErasureCheck } from './erasure-check.ts';
import { parseIncoming } from './incoming-records.ts';
import type { InboxContext } from './inbox-context.ts';
import { commitPlain } from './plain-commit.ts';
import { PlainGroup } from './plain-group.ts';
import { RecordOpener } from './record-opener.ts';
import { RecordRefusals } from './record-refusals.ts';
import { RecordVerdicts } from './record-verdicts.ts';
import { checkedCoverage } from './snapshot-coverage.ts';

export type { InboxContext } from './inbox-context.ts';

export class Inbox {
  private readonly c: InboxContext;
  private readonly incoming = new Set<string>();
  /** Records deleted from the envelope, until a snapshot is known to cover them (erasure-check.ts). */
  private readonly erasures = new ErasureCheck();
  /** Signatures and authorisation (record-verdicts.ts). */
  private readonly verdicts: RecordVerdicts;
  /** Every refusal, and those a later snapshot withdraws (record-refusals.ts). */
  private readonly refusals: RecordRefusals;
  private readonly reads = new SerialGate();
  /** Opens records with the epoch keys, or takes those opened ahead (record-opener.ts). */
  private readonly opener: RecordOpener;

  constructor(c: InboxContext) {
    this.c = c;
    this.verdicts = new RecordVerdicts(c);
    this.opener = new RecordOpener(c.docId, c.keys);
    this.refusals = new RecordRefusals(c.state, c.problems);
  }

  /**
   * A record the relay is sending, parsed as it arrived: opened now, while its signature is
   * checked (docs/decisions/0058). Decides nothing: `accept` takes the result only once the record
   * passed its signature check and authorisation, and only for these exact bytes and key.
   */
  openAhead(record: ParsedRecord): void {
    this.opener.openAhead(record);
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
        if (change.oldValue instanceof Uint8Array) this.erasures.note(key, change.oldValue);
        state.index.remove(key);
        state.compacted.add(key);
        // Gone before this replica could read it: its snapshot carries it (or the erasure check
        // says it was erased). Waiting for its key or predecessor would end in a false replay.
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
        await this.processBatch(parseIncoming(keys, this.c, this.refusals));
      }
      this.erasures.check(this.c.state, this.c.map, this.c.problems);
      this.c.drained();
    });
  }

  private async processBatch(batch: ParsedRecord[]): Promise<void> {
    const { state } = this.c;
    // Verify every signature of the batch concurrently; chain order only matters afterwards.
    const results = await Promise.all(batch.map((r) => verifyRecord(r, this.c.engine)));
    this.verdicts.remember(batch, results);
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
      const verdict = await this.verdicts.authorize(r);
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

  private async absorbLockbox(r: ParsedRecord): Promise<number> {
    const { state, keys, docId } = this.c;
    const verdict = await this.verdicts.authorize(r);
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
    const verdict = await this.verdicts.authorize(r);
    if (!verdict.ok && verdict.failure.code === 'ENVELOPE_NO_GENESIS') return void state.awaitingKey.set(key, r);
    if (!verdict.ok) return this.refuse(key, r, verdict.failure);
    const ext = checkedCoverage(r, state.index);
    if (!ext.ok) return this.refuse(key, r, ext);
    const author = toHex(r.header.author);
    const opened = this.opener.open(verdict.record);
    if (!opened.ok) return this.refuse(key, r, opened);
    const update = snapshotUpdate(opened.value);
    if (!update.ok) return this.refuse(key, r, update);
    const applied = this.c.apply(update.value);
    if (!applied.ok) return this.refuse(key, r, applied);
    for (const c of ext.value.coverage) state.lift(toHex(c.author), c.seq, c.head);
    state.lift(author, r.header.seq, r.id);
    state.index.add(r, undefined);
    state.processed.add(key);
    this.refusals.reconsiderLeavers();
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
          if (group.holds(author)) commitPlain(group, this.c, this.refusals);
          await this.accept(key, r, author, step.kind === 'next');
        }
      }
      commitPlain(group, this.c, this.refusals);
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
      const verified = await this.verdicts.signatureOf(r);
      if (!verified.ok) return this.refuse(key, r, verified);
      state.index.add(r, undefined);
    } else {
      const verdict = await this.verdicts.authorize(r);
      // Another member's record can reach a fresh replica before the genesis (the relay
      // broadcasts live updates before this replica's catch-up): it waits, like one without its key.
      if (!verdict.ok && verdict.failure.code === 'ENVELOPE_NO_GENESIS') return void state.awaitingKey.set(key, r);
      if (!verdict.ok) return this.refuse(key, r, verdict.failure);
      if (rule.sealed && !this.c.keys.has(r.header.epoch)) {
        if (this.c.neverReadable(r.header.epoch)) {
          // Sealed before this device's access began (a writer who had not seen the rotation):
          // authorised and kept in the chain, its content never readable here by design.
          if (group?.holds(author)) commitPlain(group, this.c, this.refusals);
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
        const opened = this.opener.open(verdict.record);
        if (!opened.ok) return this.refuse(key, r, opened);
        state.addAudit(key, { author, seq: r.header.seq, entry: opened.value.payload });
      }
      if (rule.effect === 'plain') {
        const update = this.opener.openUpdate(verdict.record);
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

  private refuse(key: string, r: ParsedRecord | undefined, failure: Failure): void {
    this.refusals.refuse(key, r, failure);
  }
}
