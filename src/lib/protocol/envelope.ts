/**
 * The envelope document and its write policy, shared by the relay and every client so that an
 * honest client never produces an update the relay refuses (a refused message closes the
 * connection and would be re-sent on every reconnect).
 *
 * Envelope layout: one root Y.Map named `r`; key = base64url(record id), value = record bytes.
 * Allowed changes: inserting a fresh key whose bytes are a well-formed record signed by an
 * authorised member, and deleting records that a valid snapshot covers.
 *
 * This module uses Yjs's update decoder read-only (see docs/decisions/0004).
 */
import * as Y from 'yjs';
import { toBase64Url, toHex, type Ed25519Engine } from '../crypto/index.ts';
import { RecordType } from './constants.ts';
import { fail, ok, type Failure, type Result } from './errors.ts';
import { verifyDeviceCert } from './device.ts';
import { lockboxHeader } from './lockbox.ts';
import { compareForMembership, INVITEE, isAdminRole, isWriterRole, MembershipView, type MembershipOp } from './membership.ts';
import { isSameDoc, parseRecord, verifyRecord, type ParsedRecord } from './record.ts';
import { coveredSeq, decodeSnapshotExt, type SnapshotExt } from './snapshot.ts';

export const ENVELOPE_MAP = 'r';

export interface EnvelopeLimits {
  readonly maxRecordBytes: number;
  readonly maxUpdateBytes: number;
  /** Largest delete range (in Yjs clock units) checked item by item. */
  readonly maxDeleteRange: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxRecordBytes: 8 * 1024 * 1024,
  maxUpdateBytes: 16 * 1024 * 1024,
  maxDeleteRange: 1_000_000,
};

export const recordKey = (record: ParsedRecord): string => toBase64Url(record.id);
const itemKey = (client: number, clock: number): string => `${client}:${clock}`;

interface Indexed {
  readonly record: ParsedRecord;
  readonly item: string | undefined;
  readonly snapshot: SnapshotExt | undefined;
}

/**
 * What the policy needs to know about one envelope doc: its verified records, which Yjs item
 * holds each, snapshot coverage, per-author seqs and the membership view.
 */
/** The part of an index that record authorisation reads. */
export interface IndexView {
  readonly docId: Uint8Array;
  readonly membership: MembershipView;
  coveredSeq(authorHex: string): number;
  seqOwner(authorHex: string, seq: number): string | undefined;
}

export class EnvelopeIndex implements IndexView {
  readonly docId: Uint8Array;
  readonly membership: MembershipView;
  private readonly records = new Map<string, Indexed>();
  private readonly byItem = new Map<string, string>();
  /** author hex → seq → record key, to detect forks (two records with one seq). */
  private readonly seqs = new Map<string, Map<number, string>>();
  private readonly covered = new Map<string, number>();

  constructor(docId: Uint8Array) {
    this.docId = docId;
    this.membership = new MembershipView(docId);
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  get size(): number {
    return this.records.size;
  }

  snapshots(): SnapshotExt[] {
    const out: SnapshotExt[] = [];
    for (const r of this.records.values()) if (r.snapshot) out.push(r.snapshot);
    return out;
  }

  /** Highest seq of this author covered by any snapshot the index holds. */
  coveredSeq(authorHex: string): number {
    return this.covered.get(authorHex) ?? 0;
  }

  /**
   * The same, counting only snapshots the relay's doc has integrated. A snapshot whose struct
   * Yjs still holds as pending (an earlier update of the same client is missing) does not make
   * that missing earlier record a replay when it finally arrives.
   */
  integratedCoveredSeq(authorHex: string, isKnown: (client: number, clock: number) => boolean): number {
    let best = 0;
    for (const r of this.records.values()) {
      if (!r.snapshot) continue;
      if (r.item) {
        const [client, clock] = r.item.split(':').map(Number) as [number, number];
        if (!isKnown(client, clock)) continue;
      }
      for (const c of r.snapshot.coverage) if (c.seq > best && toHex(c.author) === authorHex) best = c.seq;
    }
    return best;
  }

  seqOwner(authorHex: string, seq: number): string | undefined {
    return this.seqs.get(authorHex)?.get(seq);
  }

  add(record: ParsedRecord, item: { client: number; clock: number } | undefined, membershipOp?: MembershipOp): void {
    const key = recordKey(record);
    if (this.records.has(key)) return;
    let snapshot: SnapshotExt | undefined;
    if (record.header.type === RecordType.snapshot) {
      const ext = decodeSnapshotExt(record.header.ext);
      if (ext.ok) {
        snapshot = ext.value;
        for (const c of snapshot.coverage) {
          const a = toHex(c.author);
          if (c.seq > this.coveredSeq(a)) this.covered.set(a, c.seq);
        }
      }
    }
    if (membershipOp) this.membership.add(record, membershipOp);
    const ik = item ? itemKey(item.client, item.clock) : undefined;
    this.records.set(key, { record, item: ik, snapshot });
    if (ik) this.byItem.set(ik, key);
    const author = toHex(record.header.author);
    let perAuthor = this.seqs.get(author);
    if (!perAuthor) this.seqs.set(author, (perAuthor = new Map()));
    perAuthor.set(record.header.seq, key);
  }

  /** Forget a record that was deleted from the doc (covered by a snapshot); membership stays. */
  remove(key: string): void {
    const r = this.records.get(key);
    if (!r || r.record.header.type === RecordType.membership) return;
    this.records.delete(key);
    if (r.item) this.byItem.delete(r.item);
  }

  recordAtItem(client: number, clock: number): ParsedRecord | undefined {
    const key = this.byItem.get(itemKey(client, clock));
    return key === undefined ? undefined : this.records.get(key)?.record;
  }
}

/** May `snapshot` justify deleting `target`? Pure: both are already verified records. */
export function snapshotCovers(snapshot: SnapshotExt, target: ParsedRecord, targetSnapshot: SnapshotExt | undefined): boolean {
  if (target.header.type === RecordType.update) return coveredSeq(snapshot, target.header.author) >= target.header.seq;
  if (target.header.type === RecordType.snapshot && targetSnapshot) {
    // A newer snapshot replaces an older one only if it covers everything the older one did
    // and the older snapshot itself, which is a link in its author's chain: otherwise a replica
    // that never saw it would wait forever for that author's next record's predecessor.
    return (
      snapshot !== targetSnapshot &&
      coveredSeq(snapshot, target.header.author) >= target.header.seq &&
      targetSnapshot.coverage.every((c) => coveredSeq(snapshot, c.author) >= c.seq)
    );
  }
  return false; // membership, lockbox and audit records are never compacted away
}

/**
 * Checks one record for insertion, given the index (which must already contain earlier
 * membership records of the same update). Returns the membership op for membership records.
 */
export async function authorizeRecord(
  record: ParsedRecord,
  index: IndexView,
  o: { engine: Ed25519Engine; now: number; /** Result of a signature check already done (batched). */ signatureOk?: boolean },
): Promise<Result<MembershipOp | undefined>> {
  if (!isSameDoc(record, index.docId)) return fail('RECORD_WRONG_DOC', 'record belongs to another document');
  const author = toHex(record.header.author);
  const taken = index.seqOwner(author, record.header.seq);
  if (taken !== undefined && taken !== recordKey(record)) return fail('RECORD_FORK', 'author already used this seq');
  if (record.header.seq <= index.coveredSeq(author)) return fail('RECORD_REPLAY', 'record is older than a snapshot');
  const signatureOk = o.signatureOk ?? (await verifyRecord(record, o.engine)).ok;
  if (!signatureOk) return fail('RECORD_BAD_SIGNATURE', 'record signature does not verify');
  if (record.header.type === RecordType.membership) {
    const op = index.membership.check(record, o.now);
    if (!op.ok) return op;
    if (op.value.kind === 'device' && !(await verifyDeviceCert(op.value.cert, o.engine))) {
      return fail('DEVICE_BAD_CERT', 'device certificate signature does not verify');
    }
    return ok(op.value);
  }
  if (!index.membership.hasGenesis) return fail('ENVELOPE_NO_GENESIS', 'document has no genesis yet');
  const role = index.membership.roleOf(record.header.author, o.now);
  if (role === undefined) return fail('RECORD_NOT_MEMBER', 'record signed by a non-member');
  if (record.header.type === RecordType.lockbox) {
    if (!isAdminRole(role)) return fail('RECORD_NOT_ADMIN', 'lockbox not signed by an owner');
    const header = lockboxHeader(record.header.ext);
    return header.ok ? ok(undefined) : header;
  }
  // Any member may leave audit entries (a clinician records its view); only writers edit.
  if (record.header.type === RecordType.audit) return role === INVITEE ? fail('RECORD_NOT_WRITER', 'invite keys leave no audit entries') : ok(undefined);
  if (!isWriterRole(role)) return fail('RECORD_NOT_WRITER', 'record signed by a read-only member');
  if (record.header.type === RecordType.snapshot) {
    const ext = decodeSnapshotExt(record.header.ext);
    if (!ext.ok) return ext;
  }
  return ok(undefined);
}

export interface AcceptedUpdate {
  readonly added: readonly ParsedRecord[];
  readonly deleted: readonly string[];
  /** Commits the accepted records and deletions into the index. */
  commit(): void;
}

const structFailure = (message: string): Failure => fail('ENVELOPE_BAD_STRUCT', message);

/**
 * The relay's gate: decode a (v1) envelope update and accept it only if every inserted struct
 * is a fresh map entry holding an authorised record under its own id, and every delete of an
 * existing record is covered by a snapshot in the doc or in the same update. All-or-nothing.
 * `isKnown(client, clock)` says whether the doc already integrated that struct.
 */
export async function checkEnvelopeUpdate(
  update: Uint8Array,
  index: EnvelopeIndex,
  o: {
    engine: Ed25519Engine;
    now: number;
    limits?: EnvelopeLimits;
    isKnown: (client: number, clock: number) => boolean;
    /** Whether a delete the doc already holds (e.g. Yjs's pending delete set) removes this struct. */
    isPendingDelete?: (client: number, clock: number) => boolean;
  },
): Promise<Result<AcceptedUpdate>> {
  const limits = o.limits ?? DEFAULT_ENVELOPE_LIMITS;
  if (update.length > limits.maxUpdateBytes) return fail('ENVELOPE_TOO_LARGE', 'envelope update too large');
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return fail('ENVELOPE_BAD_UPDATE', 'envelope update does not decode');
  }
  const fresh: Array<{ record: ParsedRecord; client: number; clock: number }> = [];
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue; // GC and Skip carry no content
    if (o.isKnown(struct.id.client, struct.id.clock)) continue;
    if (struct.content instanceof Y.ContentDeleted) continue; // already-deleted placeholder, carries nothing
    // A record whose delete (under a snapshot) arrived first, as reordered delivery allows:
    // it is removed as soon as it integrates, so it is neither new data nor a replay.
    if (inDeleteSet(decoded.ds, struct.id.client, struct.id.clock) || o.isPendingDelete?.(struct.id.client, struct.id.clock)) continue;
    if (struct.origin !== null || struct.rightOrigin !== null) return structFailure('only fresh map keys may be inserted');
    // In a decoded update, a root parent is the root type's name (Yjs types it loosely).
    if ((struct.parent as unknown) !== ENVELOPE_MAP || typeof struct.parentSub !== 'string') {
      return structFailure('insert outside the envelope map');
    }
    if (!(struct.content instanceof Y.ContentBinary)) return structFailure('envelope values must be binary records');
    const parsed = parseRecord(struct.content.content, limits.maxRecordBytes);
    if (!parsed.ok) return parsed;
    if (struct.parentSub !== recordKey(parsed.value)) return fail('RECORD_KEY_MISMATCH', 'map key is not the record id');
    fresh.push({ record: parsed.value, client: struct.id.client, clock: struct.id.clock });
  }
  // Membership first, in causal order (genesis, then by clock), then the rest by seq.
  fresh.sort((a, b) => compareForMembership(a.record, b.record));
  const staged = new EnvelopeIndexOverlay(index, o.isKnown);
  // Signatures are independent of order: check them all at once (WebCrypto runs them in parallel).
  const signatures = await Promise.all(fresh.map((f) => (index.has(recordKey(f.record)) ? true : verifyRecord(f.record, o.engine).then((v) => v.ok))));
  for (const [i, f] of fresh.entries()) {
    if (index.has(recordKey(f.record))) continue;
    const verdict = await authorizeRecord(f.record, staged.view, { ...o, signatureOk: signatures[i] });
    if (!verdict.ok) return verdict;
    staged.add(f.record, f, verdict.value);
  }
  const deleted: string[] = [];
  const newSnapshots = staged.newSnapshots();
  for (const [client, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) {
      if (len > limits.maxDeleteRange) return fail('ENVELOPE_DELETE_NOT_COVERED', 'delete range too large');
      for (let c = clock; c < clock + len; c++) {
        const target = index.recordAtItem(client, c);
        if (!target) continue; // not an existing record: nothing of value is removed
        const targetSnap = target.header.type === RecordType.snapshot ? decodeSnapshotExt(target.header.ext) : undefined;
        const ts = targetSnap?.ok ? targetSnap.value : undefined;
        const covering = [...index.snapshots(), ...newSnapshots].some((s) => snapshotCovers(s, target, ts));
        if (!covering) return fail('ENVELOPE_DELETE_NOT_COVERED', 'delete of a record no snapshot covers');
        deleted.push(recordKey(target));
      }
    }
  }
  return ok({
    added: staged.added.map((a) => a.record),
    deleted,
    commit() {
      for (const a of staged.added) index.add(a.record, a.item, a.op);
      for (const key of deleted) index.remove(key);
    },
  });
}

export function inDeleteSet(ds: ReturnType<typeof Y.decodeUpdate>["ds"], client: number, clock: number): boolean {
  const ranges = ds.clients.get(client);
  return ranges !== undefined && ranges.some((r: { clock: number; len: number }) => clock >= r.clock && clock < r.clock + r.len);
}


/**
 * Staging layer so a rejected update leaves the real index untouched, without copying it:
 * reads fall through to the base index; membership is copied only if the update changes it.
 */
class EnvelopeIndexOverlay implements IndexView {
  readonly added: Array<{ record: ParsedRecord; item: { client: number; clock: number }; op: MembershipOp | undefined }> = [];
  readonly docId: Uint8Array;
  private readonly base: EnvelopeIndex;
  private readonly seqs = new Map<string, string>();
  private ownMembership: MembershipView | undefined;

  private readonly isKnown: (client: number, clock: number) => boolean;
  constructor(base: EnvelopeIndex, isKnown: (client: number, clock: number) => boolean) {
    this.base = base;
    this.docId = base.docId;
    this.isKnown = isKnown;
  }
  get view(): IndexView {
    return this;
  }
  get membership(): MembershipView {
    return this.ownMembership ?? this.base.membership;
  }
  coveredSeq(authorHex: string): number {
    return this.base.integratedCoveredSeq(authorHex, this.isKnown);
  }
  seqOwner(authorHex: string, seq: number): string | undefined {
    return this.seqs.get(`${authorHex}:${seq}`) ?? this.base.seqOwner(authorHex, seq);
  }
  add(record: ParsedRecord, item: { client: number; clock: number }, op: MembershipOp | undefined): void {
    this.added.push({ record, item: { client: item.client, clock: item.clock }, op });
    this.seqs.set(`${toHex(record.header.author)}:${record.header.seq}`, recordKey(record));
    if (op) {
      this.ownMembership ??= this.base.membership.clone();
      this.ownMembership.add(record, op);
    }
  }
  newSnapshots(): SnapshotExt[] {
    const out: SnapshotExt[] = [];
    for (const a of this.added) {
      if (a.record.header.type !== RecordType.snapshot) continue;
      const ext = decodeSnapshotExt(a.record.header.ext);
      if (ext.ok) out.push(ext.value);
    }
    return out;
  }
}
