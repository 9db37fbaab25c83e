/**
 * Own records written as one unit. Every record of an owner operation (a rotation's membership
 * op, its lockboxes and the snapshot under the new key; a removal and its rotation; an invite)
 * is sealed, signed and checked against the write policy first, each against the state the
 * earlier ones make; only then are they inserted, in one envelope transaction. A refusal or a
 * crash before that leaves nothing behind: no stray epoch key, no epoch others have no key for.
 */
import * as Y from 'yjs';
import { toHex, type Ed25519Engine, type RandomSource, type SigningKeyPair, type SymmetricKey } from '../crypto/index.ts';
import {
  authorizeRecord,
  EnvelopeIndexOverlay,
  encodeEraseExt,
  encodeMembershipExt,
  encodeSnapshotExt,
  parseOwnRecord,
  ProtocolError,
  recordKey,
  RecordType,
  sealRecord,
  SEALED_TYPES,
  type Failure,
  type MembershipOp,
  type MembershipView,
  type RecordHeader,
  type RecordTypeCode,
  type SealedRecord,
  type SnapshotExt,
  type VerifiedRecord,
} from '../protocol/index.ts';
import type { ChainHead } from './chain.ts';
import { coveredKeys, snapshotExtFor } from './compaction.ts';
import type { EpochKeyRing } from './key-ring.ts';
import type { ReplicaState } from './replica-state.ts';

/** An own record the write policy would refuse: nothing of its transaction was inserted. */
export class OwnRecordRefused extends ProtocolError {
  constructor(failure: Failure) {
    super(failure);
    this.name = 'OwnRecordRefused';
  }
}

/** Verdicts about who may write what: an own record refused with one of these is never inserted. */
const ROLE_REFUSALS: ReadonlySet<string> = new Set(['RECORD_NOT_MEMBER', 'RECORD_NOT_WRITER', 'RECORD_NOT_ADMIN', 'RECORD_LAST_OWNER']);

export interface OwnWriterContext {
  readonly docId: Uint8Array;
  readonly signer: SigningKeyPair;
  readonly engine: Ed25519Engine;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly ring: EpochKeyRing;
  readonly replica: ReplicaState;
  readonly plain: Y.Doc;
  /** Waits until remote records that arrived are processed (a snapshot covers what is known). */
  settle(): Promise<void>;
  /** The facade's typed refusals, run before anything is sealed (throws to refuse). */
  readonly guard?: OwnWriteGuard;
}

export interface OwnWriteGuard {
  membership(op: MembershipOp): void;
  snapshot(): void;
}

export interface StagedRecord {
  readonly key: string;
  readonly sealed: SealedRecord;
  readonly record: VerifiedRecord;
  readonly op?: MembershipOp;
  /** What was sealed (an audit entry's bytes are kept for the trail). */
  readonly payload: Uint8Array;
  /** For a snapshot: keys of the live records it deletes. */
  readonly doomed: readonly string[];
}

export class OwnTransaction {
  readonly staged: StagedRecord[] = [];
  readonly newKeys = new Map<number, SymmetricKey>();
  private readonly c: OwnWriterContext;
  private readonly view: EnvelopeIndexOverlay;
  private head: ChainHead;

  constructor(c: OwnWriterContext) {
    this.c = c;
    this.view = new EnvelopeIndexOverlay(c.replica.index);
    this.head = c.replica.chainOf(toHex(c.signer.publicKey));
  }

  /** Membership as it stands with this transaction's ops so far. */
  get membership(): MembershipView {
    return this.view.membership;
  }

  get currentEpoch(): number {
    return this.view.membership.currentEpoch;
  }

  get random(): RandomSource {
    return this.c.random;
  }

  now(): number {
    return this.c.now();
  }

  /** The key of an epoch: held, or made in this transaction. */
  keyOf(epoch: number): SymmetricKey | undefined {
    return this.newKeys.get(epoch) ?? this.c.ring.get(epoch);
  }

  /** Every key (full members read the whole history), or only `epoch`'s (clinicians). */
  keysFor(epoch: number, withHistory: boolean): Map<number, SymmetricKey> {
    if (!withHistory) {
      const key = this.keyOf(epoch);
      return key ? new Map([[epoch, key]]) : new Map();
    }
    return new Map([...this.c.ring.entries(), ...this.newKeys]);
  }

  /** A new epoch key: joins the ring only if the transaction commits. */
  addKey(epoch: number, key: SymmetricKey): void {
    this.newKeys.set(epoch, key);
  }

  membershipOp(op: MembershipOp): Promise<string> {
    this.c.guard?.membership(op);
    // Stamp the Lamport clock at write time, after every op this replica (and this transaction) has seen.
    const stamped = { ...op, clock: op.kind === 'genesis' ? 0 : (op.clock ?? this.view.membership.nextClock) };
    return this.append(RecordType.membership, new Uint8Array(0), encodeMembershipExt(stamped), { op: stamped });
  }

  lockbox(ext: Uint8Array): Promise<string> {
    return this.append(RecordType.lockbox, new Uint8Array(0), ext);
  }

  audit(entry: Uint8Array): Promise<string> {
    return this.append(RecordType.audit, entry, new Uint8Array(0));
  }

  /** An owner's erase order (protocol/erase.ts): the relay drops the profile once it is stored. */
  erase(erasedAt: number): Promise<string> {
    return this.append(RecordType.erase, new Uint8Array(0), encodeEraseExt({ erasedAt }));
  }

  update(payload: Uint8Array): Promise<string> {
    return this.append(RecordType.update, payload, new Uint8Array(0));
  }

  /** A snapshot of the applied state covering every chain head, deleting what it covers. */
  async snapshot(): Promise<string> {
    this.c.guard?.snapshot();
    await this.c.settle();
    const ext = snapshotExtFor(this.c.replica, { author: toHex(this.c.signer.publicKey), head: this.head });
    return this.append(RecordType.snapshot, Y.encodeStateAsUpdateV2(this.c.plain), encodeSnapshotExt(ext), { covers: ext });
  }

  private async append(type: RecordTypeCode, payload: Uint8Array, ext: Uint8Array, o: { op?: MembershipOp; covers?: SnapshotExt } = {}): Promise<string> {
    const header: RecordHeader = {
      type,
      docId: this.c.docId,
      epoch: this.currentEpoch,
      author: this.c.signer.publicKey,
      seq: this.head.seq + 1,
      prev: this.head.head,
      ext,
    };
    const key = SEALED_TYPES.has(type) ? this.keyOf(header.epoch) : undefined;
    if (SEALED_TYPES.has(type) && !key) throw new ProtocolError({ ok: false, code: 'RECORD_UNKNOWN_EPOCH', message: 'no key for the current epoch' });
    const sealed = await sealRecord({ header, payload, key, secretKey: this.c.signer.secretKey, engine: this.c.engine, random: this.c.random });
    const own = parseOwnRecord(sealed);
    if (!own.ok) throw new ProtocolError(own);
    // The relay's own check against the state this transaction makes: refused here, nothing is inserted.
    const verdict = await authorizeRecord(own.value, this.view, { engine: this.c.engine, now: this.c.now(), verified: own });
    if (!verdict.ok && ROLE_REFUSALS.has(verdict.code)) throw new OwnRecordRefused(verdict);
    const recordId = recordKey(own.value);
    this.view.add(own.value, undefined, o.op);
    this.head = { seq: header.seq, head: own.value.id };
    const doomed = o.covers ? coveredKeys(this.c.replica.index, o.covers) : [];
    this.staged.push({ key: recordId, sealed, record: own.value, op: o.op, payload, doomed });
    return recordId;
  }
}
