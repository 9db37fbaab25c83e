/**
 * An envelope index with one update's (or one own transaction's) records staged on top. Its own
 * module because both the gate (envelope.ts) and a device's own writes stage records this way,
 * and the delete check (envelope-deletes.ts) reads it.
 */
import { toBase64Url, toHex } from '../crypto/index.ts';
import { itemKey, recordKey, snapshotExtOf, type EnvelopeIndex, type IndexView, type ItemId } from './envelope-index.ts';
import type { MembershipOp, MembershipView } from './membership.ts';
import type { ParsedRecord } from './record.ts';
import type { SnapshotExt } from './snapshot.ts';

/**
 * The index as records staged on top of it would change it (membership ops, used seqs, items),
 * without touching it: the relay stages one update's records, a device one own transaction's.
 * A rejected update leaves the real index untouched, without copying it: reads fall through to
 * the base index; membership is copied only if the update changes it.
 */
export class EnvelopeIndexOverlay implements IndexView {
  readonly added: Array<{ record: ParsedRecord; item: ItemId | undefined; op: MembershipOp | undefined }> = [];
  readonly docId: Uint8Array;
  private readonly base: EnvelopeIndex;
  private readonly seqs = new Map<string, string>();
  private readonly byItem = new Map<string, ParsedRecord>();
  private ownMembership: MembershipView | undefined;

  constructor(base: EnvelopeIndex) {
    this.base = base;
    this.docId = base.docId;
  }
  get membership(): MembershipView {
    return this.ownMembership ?? this.base.membership;
  }
  coveredSeq(authorHex: string): number {
    return this.base.coveredSeq(authorHex);
  }
  seqOwner(authorHex: string, seq: number): string | undefined {
    return this.seqs.get(`${authorHex}:${seq}`) ?? this.base.seqOwner(authorHex, seq);
  }
  add(record: ParsedRecord, item: ItemId | undefined, op: MembershipOp | undefined): void {
    this.added.push({ record, item, op });
    this.seqs.set(`${toHex(record.header.author)}:${record.header.seq}`, toBase64Url(record.id));
    if (item) this.byItem.set(itemKey(item.client, item.clock), record);
    if (op) {
      this.ownMembership ??= this.base.membership.clone();
      this.ownMembership.add(record, op);
    }
  }
  newSnapshots(): SnapshotExt[] {
    const out: SnapshotExt[] = [];
    for (const a of this.added) {
      const ext = snapshotExtOf(a.record);
      if (ext) out.push(ext);
    }
    return out;
  }
  /** Live records (indexed or new in this update) held by items in [clock, clock + len) of a client. */
  *recordsIn(client: number, clock: number, len: number): Generator<{ key: string; record: ParsedRecord; snapshot: SnapshotExt | undefined }> {
    for (let c = clock; c < clock + len; c++) {
      const record = this.base.recordAtItem(client, c) ?? this.byItem.get(itemKey(client, c));
      if (!record) continue;
      const key = recordKey(record);
      const snapshot = this.base.snapshotOf(key) ?? snapshotExtOf(record);
      yield { key, record, snapshot };
    }
  }
}
