/**
 * This replica's own records on their way into the envelope, one transaction at a time: a
 * transaction (own-transaction.ts) is staged against the verified state once remote records
 * that arrived are processed, then committed to the index, the chain and the key ring and
 * inserted in one envelope transaction. Local edits are sealed this way (the outbox asks), and
 * so is automatic compaction. Separate from profile-sync.ts, which wires the engine and answers
 * what it knows; this is its write path alone, one transaction at a time (a serial gate).
 */
import * as Y from 'yjs';
import { toHex } from '../crypto/index.ts';
import { encodeUpdatePayload, fail, RecordType, SerialGate } from '../protocol/index.ts';
import { compactionDue, type CompactionPolicy } from './compaction.ts';
import type { OutboxBlock } from './outbox.ts';
import type { CatchUpHold } from './catch-up-hold.ts';
import { OwnRecordRefused, OwnTransaction, type OwnWriteGuard, type OwnWriterContext } from './own-transaction.ts';
import type { ProblemList } from './problems.ts';

/** Origin of this replica's own envelope inserts. */
export const LOCAL_ENVELOPE_ORIGIN = Symbol('fhv:local-envelope');

/** What a transaction is staged with (own-transaction.ts), and where its records go. */
export interface OwnWritesContext extends Omit<OwnWriterContext, 'settle' | 'guard'> {
  readonly envelope: Y.Doc;
  readonly map: Y.Map<Uint8Array>;
  readonly problems: ProblemList;
  readonly compaction: CompactionPolicy;
  /** Resolves once a cached open's check is over (at once for a full open). */
  whenVerified(): Promise<void>;
  /** A cached open is being checked, or failed its check (cached-open.ts). */
  checking(): boolean;
  /** Resolves once the inbox has processed the batch in progress (OwnWriterContext `settle`). */
  settle(): Promise<void>;
  canWrite(): boolean;
  membershipChanged(): void;
  /** Own records wait for the relay's first catch-up after an open (catch-up-hold.ts). */
  readonly hold: Pick<CatchUpHold, 'active' | 'released'>;
}

export class OwnWrites {
  private readonly c: OwnWritesContext;
  private readonly writes = new SerialGate();
  /**
   * When automatic compaction may run. A profile synced through a relay compacts only while
   * caught up with it: a snapshot deletes other people's records in the stored copy at once, and
   * a device that lost write access while offline would otherwise delete them locally before the
   * relay refuses its snapshot (the relay's copy stays whole; this device's would not).
   */
  compactionAllowed: () => boolean = () => true;
  /** The facade's typed refusals of own membership ops and snapshots, checked before sealing. */
  guard: OwnWriteGuard | undefined;

  constructor(c: OwnWritesContext) {
    this.c = c;
  }

  private get me(): string {
    return toHex(this.c.signer.publicKey);
  }

  /** Resolves once no transaction is queued or running. */
  idle(): Promise<void> {
    return this.writes.idle();
  }

  transact<T>(plan: (tx: OwnTransaction) => Promise<T>): Promise<T> {
    return this.writes.run(async () => {
      const { c } = this;
      // The relay may hold records of this chain that this copy lost: take them in first.
      await c.hold.released();
      // After a cached open, own records are judged against the verified state only.
      await c.whenVerified();
      if (c.checking()) throw new OwnRecordRefused(fail('SYNC_CACHE_MISMATCH', 'this copy of the profile is being rebuilt from its verified records'));
      // The own chain head is the replica's: records this person sealed on another open (another
      // device's store, a copy since lost) arrive like anyone's, and the inbox folds membership
      // before it advances chains. Sealing in between reused their seq: RECORD_FORK, for good
      // (tests/sync/own-chain-fresh-open.test.ts). Waits only for the batch in progress.
      await c.settle();
      const tx = new OwnTransaction({
        docId: c.docId,
        signer: c.signer,
        engine: c.engine,
        random: c.random,
        now: c.now,
        ring: c.ring,
        replica: c.replica,
        plain: c.plain,
        settle: () => c.settle(),
        guard: this.guard,
      });
      const result = await plan(tx);
      this.commit(tx);
      return result;
    });
  }

  /** Why local edits cannot be sealed now (the outbox keeps them queued meanwhile). */
  sealBlock(): OutboxBlock | undefined {
    // Before the membership log (or the current epoch's lockbox) has arrived we cannot seal
    // correctly yet: keep edits queued.
    const { c } = this;
    if (c.checking()) return 'verifying';
    if (!c.replica.index.membership.hasGenesis) return 'no-genesis';
    if (!c.ring.has(c.replica.index.membership.currentEpoch)) return 'no-key';
    if (!c.canWrite()) return 'read-only';
    if (c.hold.active) return 'catching-up';
    return undefined;
  }

  async sealUpdate(updates: Uint8Array[], sessions: number[]): Promise<void> {
    const update = updates.length === 1 ? updates[0]! : Y.mergeUpdatesV2(updates);
    await this.transact((tx) => tx.update(encodeUpdatePayload({ sessions, update })));
  }

  /** Compacts if enough records piled up and compaction is allowed; a refusal is shown, not thrown. */
  async maybeCompact(): Promise<void> {
    if (!compactionDue(this.c.replica.index, this.c.compaction, this.me) || !this.c.canWrite() || !this.compactionAllowed()) return;
    try {
      await this.transact((tx) => tx.snapshot());
    } catch (e) {
      // A role change the last check did not see: nothing was written; shown, not thrown.
      if (!(e instanceof OwnRecordRefused)) throw e;
      this.c.problems.report({ code: e.code, message: 'this device may not compact this profile' });
    }
  }

  /** Inserts a transaction's staged records: index, chain, keys, then one envelope transaction. */
  private commit(tx: OwnTransaction): void {
    if (tx.staged.length === 0) return;
    const { ring, replica, envelope, map } = this.c;
    for (const [epoch, key] of tx.newKeys) ring.add(epoch, key);
    for (const s of tx.staged) {
      replica.processed.add(s.key);
      replica.index.add(s.record, undefined, s.op);
      replica.advance(this.me, s.record.header.seq, s.record.id);
      if (s.record.header.type === RecordType.audit) replica.addAudit(s.key, { author: this.me, seq: s.record.header.seq, entry: s.payload });
    }
    if (tx.staged.some((s) => s.op)) this.c.membershipChanged();
    envelope.transact(() => {
      for (const s of tx.staged) map.set(s.key, s.sealed.bytes);
      for (const s of tx.staged) for (const k of s.doomed) map.delete(k);
    }, LOCAL_ENVELOPE_ORIGIN);
  }
}
