/**
 * What the write policy knows about one envelope doc: every map key that ever held an item
 * (live, deleted or placeholder), the live verified records and the Yjs item holding each,
 * which signer owns each envelope clientID, snapshot coverage and the membership fold.
 *
 * The policy (envelope.ts) decides an update's effect from this alone, so the index must track
 * the doc exactly: the relay builds it from storage with `rebuildEnvelopeIndex` and keeps it
 * current by committing each accepted update; nothing reaches the relay's doc any other way.
 */
import * as Y from 'yjs';
import { toBase64Url, toHex } from '../crypto/index.ts';
import { CURRENT_RECORD_VERSION, RECORD_KEY_ID_BYTES, RecordType, RecordVersion, type RecordVersionCode } from './constants.ts';
import { compareForMembership, MembershipView, type MembershipOp } from './membership.ts';
import { parseRecord, type ParsedRecord } from './record.ts';
import { decodeSnapshotExt, type SnapshotExt } from './snapshot.ts';
import { isCompactableType } from './record-types.ts';

export const ENVELOPE_MAP = 'r';

/**
 * The one map key a record may be stored under, decided by the record itself (its signed format
 * version), so a record can never appear under two keys: v1 = base64url(id), v2 = base64url of
 * the id's first 16 bytes (decision 0023; every deleted key stays in the Yjs doc for ever).
 */
export const recordKey = (record: ParsedRecord): string => recordKeyOfId(record.id, record.version);

/** The map key of the record with this id and format version. */
export const recordKeyOfId = (id: Uint8Array, version: RecordVersionCode = CURRENT_RECORD_VERSION): string =>
  toBase64Url(version === RecordVersion.v1 ? id : id.subarray(0, RECORD_KEY_ID_BYTES));
export const itemKey = (client: number, clock: number): string => `${client}:${clock}`;

export interface ItemId {
  readonly client: number;
  readonly clock: number;
}

interface Indexed {
  readonly record: ParsedRecord;
  readonly item: string | undefined;
  readonly snapshot: SnapshotExt | undefined;
}

/** The part of an index that record authorisation reads. */
export interface IndexView {
  readonly docId: Uint8Array;
  readonly membership: MembershipView;
  coveredSeq(authorHex: string): number;
  /** base64url of the whole id of the record this author wrote at this seq (not its key), if the index ever held one. */
  seqOwner(authorHex: string, seq: number): string | undefined;
}

export class EnvelopeIndex implements IndexView {
  readonly docId: Uint8Array;
  readonly membership: MembershipView;
  private readonly records = new Map<string, Indexed>();
  private readonly byItem = new Map<string, string>();
  /** Every key that ever held an item in the map: none of them may be written again. */
  private readonly usedKeys = new Set<string>();
  /** Envelope clientID → hex key of the person (identity) whose connection first wrote on it. */
  private readonly clientOwners = new Map<number, string>();
  /** author hex → seq → base64url of the record's whole id (keys may be shorter), to detect forks (two records with one seq). */
  private readonly seqs = new Map<string, Map<number, string>>();
  private readonly covered = new Map<string, number>();
  private readonly liveSnapshots = new Map<string, SnapshotExt>();
  private compactableCount = 0;
  private compactableBytes = 0;
  private snapshotBytes = 0;

  constructor(docId: Uint8Array) {
    this.docId = docId;
    this.membership = new MembershipView(docId);
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  /** Whether any item (live, deleted or placeholder) ever held this key. */
  keyUsed(key: string): boolean {
    return this.usedKeys.has(key);
  }

  get size(): number {
    return this.records.size;
  }

  /** Keys of the live records, for comparing with a doc's live map keys. */
  liveKeys(): string[] {
    return [...this.records.keys()];
  }

  /** Live records a snapshot may delete (updates, snapshots): what decides when to compact. */
  get liveCompactable(): number {
    return this.compactableCount;
  }

  /**
   * The live records a snapshot may delete, split into the snapshots and the rest (the tail of
   * updates since): bytes of each, and the tail's record count. What the byte-ratio compaction
   * trigger reads (sync/compaction.ts).
   */
  get liveBytes(): { readonly snapshots: number; readonly tail: number; readonly tailRecords: number } {
    return { snapshots: this.snapshotBytes, tail: this.compactableBytes - this.snapshotBytes, tailRecords: this.compactableCount - this.liveSnapshots.size };
  }

  /** The live records, with their snapshot coverage if they are snapshots. */
  *entries(): IterableIterator<[string, ParsedRecord, SnapshotExt | undefined]> {
    for (const [key, r] of this.records) yield [key, r.record, r.snapshot];
  }

  snapshots(): SnapshotExt[] {
    return [...this.liveSnapshots.values()];
  }

  /** Highest seq of this author covered by any snapshot the index ever held. */
  coveredSeq(authorHex: string): number {
    return this.covered.get(authorHex) ?? 0;
  }

  seqOwner(authorHex: string, seq: number): string | undefined {
    return this.seqs.get(authorHex)?.get(seq);
  }

  ownerOfClient(client: number): string | undefined {
    return this.clientOwners.get(client);
  }

  bindClient(client: number, person: string): void {
    if (!this.clientOwners.has(client)) this.clientOwners.set(client, person);
  }

  /** Every clientID binding, for persisting beside the doc. */
  clientBindings(): Array<[number, string]> {
    return [...this.clientOwners];
  }

  /** Marks a key used by an item that carries no record (a deleted placeholder). */
  useKey(key: string): void {
    this.usedKeys.add(key);
  }

  add(record: ParsedRecord, item: ItemId | undefined, membershipOp?: MembershipOp): void {
    const key = recordKey(record);
    this.usedKeys.add(key);
    if (this.records.has(key)) return;
    const snapshot = snapshotExtOf(record);
    if (snapshot) {
      this.liveSnapshots.set(key, snapshot);
      for (const c of snapshot.coverage) {
        const a = toHex(c.author);
        if (c.seq > this.coveredSeq(a)) this.covered.set(a, c.seq);
      }
    }
    if (membershipOp) this.membership.add(record, membershipOp);
    const ik = item ? itemKey(item.client, item.clock) : undefined;
    this.records.set(key, { record, item: ik, snapshot });
    if (isCompactableType(record.header.type)) this.count(record, 1);
    if (ik) this.byItem.set(ik, key);
    const author = toHex(record.header.author);
    let perAuthor = this.seqs.get(author);
    if (!perAuthor) this.seqs.set(author, (perAuthor = new Map()));
    perAuthor.set(record.header.seq, toBase64Url(record.id));
  }

  /**
   * Forgets a record deleted from the doc (covered by a snapshot). Its key stays used, its
   * clientID stays bound and its membership op stays folded: a deletion never undoes those.
   */
  remove(key: string): void {
    const r = this.records.get(key);
    if (!r) return;
    this.records.delete(key);
    this.liveSnapshots.delete(key);
    if (isCompactableType(r.record.header.type)) this.count(r.record, -1);
    if (r.item) this.byItem.delete(r.item);
  }

  private count(record: ParsedRecord, sign: 1 | -1): void {
    this.compactableCount += sign;
    this.compactableBytes += sign * record.bytes.length;
    if (record.header.type === RecordType.snapshot) this.snapshotBytes += sign * record.bytes.length;
  }

  /**
   * Points an indexed record at the item that now holds its key. Only a map conflict moves a
   * record: two relay instances each accepted the same record (one id, so the same signed
   * content) on a different clientID within one Redis round trip, and Yjs kept one item and
   * deleted the other. Deletes are judged by the item they name (`recordAtItem`), so an index
   * left on the deleted item would let anyone delete the live one unchecked (fuzz fixture
   * cluster-seeds 921232137). Returns whether it moved.
   */
  relocate(key: string, item: ItemId): boolean {
    const r = this.records.get(key);
    const ik = itemKey(item.client, item.clock);
    if (!r || r.item === ik) return false;
    if (r.item) this.byItem.delete(r.item);
    this.records.set(key, { ...r, item: ik });
    this.byItem.set(ik, key);
    return true;
  }

  recordAtItem(client: number, clock: number): ParsedRecord | undefined {
    const key = this.byItem.get(itemKey(client, clock));
    return key === undefined ? undefined : this.records.get(key)?.record;
  }

  recordOf(key: string): ParsedRecord | undefined {
    return this.records.get(key)?.record;
  }

  snapshotOf(key: string): SnapshotExt | undefined {
    return this.records.get(key)?.snapshot;
  }
}

/** A stored record the rebuild did not index, and why (kept in the doc, reported, never fatal). */
export interface QuarantinedRecord {
  readonly key: string;
  readonly code: string;
}

/**
 * Rebuilds an index from a stored envelope state with Yjs's public update decoder: every map
 * key ever used, every live record (membership folded first, in causal order), and the signer
 * persisted owner of each clientID. A live value that is not a valid record for its key, or a membership
 * op the fold refuses, is quarantined: its key stays used (nothing can overwrite it) but it is
 * not indexed, so it can neither lock members out nor authorise anything.
 */
export function rebuildEnvelopeIndex(
  docId: Uint8Array,
  state: Uint8Array | undefined,
  bindings: Iterable<readonly [number, string]> = [],
): { index: EnvelopeIndex; quarantined: QuarantinedRecord[]; derivedOwners: Array<[number, string]> } {
  const index = new EnvelopeIndex(docId);
  const quarantined: QuarantinedRecord[] = [];
  const derivedOwners: Array<[number, string]> = [];
  for (const [client, person] of bindings) index.bindClient(client, person);
  if (!state) return { index, quarantined, derivedOwners };
  const { structs, ds } = Y.decodeUpdate(state);
  const live: Array<{ record: ParsedRecord; item: ItemId }> = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item) || typeof s.parentSub !== 'string') continue;
    index.useKey(s.parentSub);
    if (!(s.content instanceof Y.ContentBinary) || deleteSetHas(ds, s.id.client, s.id.clock)) continue;
    const parsed = parseLive(s.parentSub, s.content.content);
    if ('code' in parsed) quarantined.push(parsed);
    else live.push({ record: parsed.record, item: { client: s.id.client, clock: s.id.clock } });
  }
  // A live record on a clientID with no stored owner can only come from before owners were
  // kept: its signer's person owns it (the caller persists these). One whose records were all
  // compacted stays unowned, and the policy freezes it.
  derivedOwners.push(...indexLive(index, live, quarantined).derivedOwners);
  return { index, quarantined, derivedOwners };
}

/** A live map value as the record for its key, or why it is not (what a rebuild and an ingest both judge). */
export function parseLive(key: string, bytes: Uint8Array): { record: ParsedRecord } | QuarantinedRecord {
  const parsed = parseRecord(bytes);
  if (!parsed.ok) return { key, code: parsed.code };
  if (recordKey(parsed.value) !== key) return { key, code: 'RECORD_KEY_MISMATCH' };
  return { record: parsed.value };
}

/**
 * Indexes live records another party already accepted (stored state, another relay instance):
 * membership ops folded in causal order, one the fold refuses quarantined; each clientID with no
 * owner yet bound to its signer's person. Returns the records added and those new bindings.
 */
export function indexLive(
  index: EnvelopeIndex,
  live: Array<{ record: ParsedRecord; item: ItemId }>,
  quarantined: QuarantinedRecord[],
): { added: ParsedRecord[]; derivedOwners: Array<[number, string]> } {
  live.sort((a, b) => compareForMembership(a.record, b.record));
  const added: ParsedRecord[] = [];
  for (const { record, item } of live) {
    let op: MembershipOp | undefined;
    if (record.header.type === RecordType.membership) {
      const checked = index.membership.check(record);
      if (!checked.ok) {
        quarantined.push({ key: recordKey(record), code: checked.code });
        continue;
      }
      op = checked.value;
    }
    index.add(record, item, op);
    added.push(record);
  }
  const derivedOwners: Array<[number, string]> = [];
  for (const { record, item } of live) {
    if (index.ownerOfClient(item.client) !== undefined || !index.has(recordKey(record))) continue;
    const person = personOf(index.membership, toHex(record.header.author));
    index.bindClient(item.client, person);
    derivedOwners.push([item.client, person]);
  }
  return { added, derivedOwners };
}

/** A snapshot record's coverage (undefined for other types, or an ext that does not decode). */
export function snapshotExtOf(record: ParsedRecord): SnapshotExt | undefined {
  if (record.header.type !== RecordType.snapshot) return undefined;
  const ext = decodeSnapshotExt(record.header.ext);
  return ext.ok ? ext.value : undefined;
}

/** The person a signing key acts for: its identity if it is a certified device, else itself. */
export function personOf(membership: MembershipView, keyHex: string): string {
  return membership.state().devices.get(keyHex)?.identity ?? keyHex;
}

export type DecodedDeleteSet = ReturnType<typeof Y.decodeUpdate>['ds'];

export function deleteSetHas(ds: DecodedDeleteSet, client: number, clock: number): boolean {
  const ranges = ds.clients.get(client);
  return ranges !== undefined && ranges.some((r: { clock: number; len: number }) => clock >= r.clock && clock < r.clock + r.len);
}
