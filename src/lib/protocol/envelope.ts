/**
 * The envelope write policy, shared by the relay and every client (docs/decisions/0004), so an
 * honest client never produces an update the relay refuses and a client can hold the relay to
 * the same rules.
 *
 * Envelope layout: one root Y.Map named `r`; key = base64url(record id), value = record bytes.
 * The rules are about the *effect* of integrating an update (docs/protocol.md §3, the
 * envelope invariants), decided from the update's structs and the index alone:
 *
 *   I1 append-only: every live key stays live, except records deleted under a snapshot that
 *      covers them (integrated already or in the same update);
 *   I2 fresh keys only: a new item is a root-map entry (no origin, no right origin) under a key
 *      no item ever held, once per update. Yjs resolves a second item under a used key by
 *      deleting one of the two (map conflict resolution): that is an implicit delete in no
 *      delete set, so it is refused before it can happen;
 *   I3 nothing pending: structs continue their client's clock exactly and deletes name only
 *      integrated items, so no struct or delete waits in Yjs for something that may never
 *      arrive (and takes effect later, unchecked);
 *   I4 owned clocks: an envelope clientID belongs to the person whose connection first wrote
 *      on it (kept by the relay across restarts); only that person's connection adds structs
 *      on it, and only records signed by that person's keys. Otherwise a member could occupy
 *      another's next clock and Yjs would drop that person's next record as already known;
 *   I5 valid records: a new value is a well-formed record of an allowed type whose id is its
 *      key, written by a member allowed to write that type now.
 *
 * Everything else (other roots, nested types, other content kinds, GC and skip structs, a
 * client twice in one update) is refused with a typed code. This module only reads updates;
 * it never applies them.
 */
import * as Y from 'yjs';
import { toBase64Url, toHex, type Ed25519Engine } from '../crypto/index.ts';
import { RecordType } from './constants.ts';
import { fail, ok, type Failure, type Result } from './errors.ts';
import { deleteSetHas, ENVELOPE_MAP, EnvelopeIndex, itemKey, personOf, recordKey, snapshotExtOf, type IndexView, type ItemId } from './envelope-index.ts';
import { lockboxHeader } from './lockbox.ts';
import { compareForMembership, INVITEE, isAdminRole, isWriterRole, MembershipView, verifyMembershipProof, type MembershipOp } from './membership.ts';
import { isSameDoc, parseRecord, startVerifying, verifyRecord, type ParsedRecord, type VerifiedRecord } from './record.ts';
import { ENVELOPE_RECORD_TYPES, isCompactableType } from './record-types.ts';
import { decodeEraseExt } from './erase.ts';
import { coveredSeq, decodeSnapshotExt, type SnapshotExt } from './snapshot.ts';

export * from './envelope-index.ts';

export interface EnvelopeLimits {
  readonly maxRecordBytes: number;
  readonly maxUpdateBytes: number;
  /** Most structs one update may carry (a sync step 2 of a large profile stays far below). */
  readonly maxStructs: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxRecordBytes: 8 * 1024 * 1024,
  maxUpdateBytes: 16 * 1024 * 1024,
  maxStructs: 1_000_000,
};

/** May `snapshot` justify deleting `target`? Pure: both are already verified records. */
export function snapshotCovers(snapshot: SnapshotExt, target: ParsedRecord, targetSnapshot: SnapshotExt | undefined): boolean {
  if (!isCompactableType(target.header.type)) return false; // membership, lockbox, audit (and unknown types) stay for ever
  if (target.header.type === RecordType.update) return coveredSeq(snapshot, target.header.author) >= target.header.seq;
  if (!targetSnapshot) return false;
  // A newer snapshot replaces an older one only if it covers everything the older one did
  // and the older snapshot itself, which is a link in its author's chain: otherwise a replica
  // that never saw it would wait forever for that author's next record's predecessor.
  return (
    snapshot !== targetSnapshot &&
    coveredSeq(snapshot, target.header.author) >= target.header.seq &&
    targetSnapshot.coverage.every((c) => coveredSeq(snapshot, c.author) >= c.seq)
  );
}

/**
 * Checks one record for insertion, given the index (which must already contain earlier
 * membership records of the same update). Returns the membership op for membership records.
 */
export async function authorizeRecord(
  record: ParsedRecord,
  index: IndexView,
  o: {
    engine: Ed25519Engine;
    now: number;
    /**
     * The record's signature check, done by the caller (batched): the result of `verifyRecord`
     * for this record, never a boolean the caller made up. Absent: checked here.
     */
    verified?: Result<VerifiedRecord>;
    /**
     * The record is one the relay already took: a replica folding its envelope. Time limits
     * (an invite link's, a member's session) were the relay's to check when it arrived; a replica
     * that syncs later must not apply them again, or it would fold a different state from the
     * others. Kept records of lasting history (audit) behind a snapshot are not replays there.
     */
    replica?: boolean;
  },
): Promise<Result<MembershipOp | undefined>> {
  if (!isSameDoc(record, index.docId)) return fail('RECORD_WRONG_DOC', 'record belongs to another document');
  const rule = ENVELOPE_RECORD_TYPES.get(record.header.type);
  if (!rule) return fail('RECORD_UNKNOWN_TYPE', 'record type not allowed in the envelope');
  const author = toHex(record.header.author);
  const taken = index.seqOwner(author, record.header.seq);
  if (taken !== undefined && taken !== toBase64Url(record.id)) return fail('RECORD_FORK', 'author already used this seq');
  if (record.header.seq <= index.coveredSeq(author) && !(o.replica && !rule.compactable)) return fail('RECORD_REPLAY', 'record is older than a snapshot');
  const verified = o.verified ?? (await verifyRecord(record, o.engine));
  if (!verified.ok || verified.value.bytes !== record.bytes) return fail('RECORD_BAD_SIGNATURE', 'record signature does not verify');
  const now = o.replica ? 0 : o.now; // roleOf and the invite check treat 0 as "no time limit"
  if (rule.writers === 'membership-rules') {
    const op = index.membership.check(record, now);
    if (!op.ok) return op;
    // A profile keeps an owner: without one nobody can ever change membership or rotate again.
    // Relay and own writes only; replicas fold what the relay took (fuzz seed 1325089206: the
    // last owner's signed "remove me" was accepted and the relay then closed the owner out).
    if (!o.replica && index.membership.leavesNoOwner(record, op.value)) return fail('RECORD_LAST_OWNER', 'the profile would be left without an owner');
    // Signatures inside the op (a device certificate, an accept's proof by the key it binds).
    const proof = await verifyMembershipProof(index.docId, record, op.value, o.engine);
    if (!proof.ok) return proof;
    return ok(op.value);
  }
  if (!index.membership.hasGenesis) return fail('ENVELOPE_NO_GENESIS', 'document has no genesis yet');
  // A replica judges records the relay took without time limits (an ended session's records
  // stay valid). A removed member's or revoked device's record counts only behind a snapshot a
  // writer made while it was a member: nothing proves when an uncovered one was written, and a
  // revoked key must not write again through a relay that lets it (threat model 24c).
  const covered = record.header.seq <= index.coveredSeq(author);
  const role = o.replica
    ? (index.membership.roleOf(record.header.author, 0) ?? (covered ? index.membership.formerRole(record.header.author) : undefined))
    : index.membership.roleOf(record.header.author, now);
  if (role === undefined) return fail('RECORD_NOT_MEMBER', 'record signed by a non-member');
  switch (rule.writers) {
    case 'owner': {
      if (!isAdminRole(role)) return fail('RECORD_NOT_ADMIN', `${rule.name} not signed by an owner`);
      const header =
        record.header.type === RecordType.lockbox
          ? lockboxHeader(record.header.ext)
          : record.header.type === RecordType.erase
            ? decodeEraseExt(record.header.ext)
            : ok(undefined);
      return header.ok ? ok(undefined) : header;
    }
    // Any member may leave audit entries (a clinician records its view); only writers edit.
    case 'member':
      return role === INVITEE ? fail('RECORD_NOT_WRITER', `invite keys write no ${rule.name} records`) : ok(undefined);
    case 'writer': {
      if (!isWriterRole(role)) return fail('RECORD_NOT_WRITER', 'record signed by a read-only member');
      if (record.header.type === RecordType.snapshot) {
        const ext = decodeSnapshotExt(record.header.ext);
        if (!ext.ok) return ext;
      }
      return ok(undefined);
    }
  }
}

export interface AcceptedUpdate {
  readonly added: readonly ParsedRecord[];
  /** Keys of live records the update deletes (each covered by a snapshot). */
  readonly deleted: readonly string[];
  /** ClientIDs this update gives their owner (person hex): the relay persists these. */
  readonly bound: ReadonlyArray<readonly [number, string]>;
  /** Commits the accepted records, placeholders and deletions into the index. */
  commit(): void;
}

export interface EnvelopeCheckOptions {
  readonly engine: Ed25519Engine;
  readonly now: number;
  readonly limits?: EnvelopeLimits;
  /** The doc's clock for a client (Y.getState): how far it has integrated that client's structs. */
  readonly stateOf: (client: number) => number;
  /**
   * Hex key the sending connection authenticated with: whose clientIDs it may write on.
   * Required in the relay scope. The replica scope skips I4: a client gating what its relay
   * forwards does not know who sent each relayed update (the relay checked I4 when it accepted
   * it; a relay that skips it can at worst make a member's later record wait, never erase one).
   */
  readonly sender?: string;
  /**
   * 'relay' (default): every rule. 'replica': what a client checks on what its relay forwards,
   * before it reaches the stored envelope: the effect invariants I1–I3 only. Whether each record
   * may be accepted (its signature, its author's role now, its chain) is the sync engine's
   * decision, record by record: a replica that syncs late must not refuse a whole catch-up
   * because it holds a record by someone removed since, or a malformed one the relay kept in
   * quarantine. A record whose signature fails counts as content-less here, so only signed
   * snapshots can cover a delete.
   */
  readonly scope?: 'relay' | 'replica';
}

const structFailure = (message: string): Failure => fail('ENVELOPE_BAD_STRUCT', message);

interface NewItem {
  readonly id: ItemId;
  readonly key: string;
  /** Undefined for a content-less placeholder (ContentDeleted). */
  readonly record: ParsedRecord | undefined;
}

/** Reads the update's structs and refuses every shape whose effect the rules cannot vouch for. */
function newItemsOf(decoded: ReturnType<typeof Y.decodeUpdate>, o: EnvelopeCheckOptions, limits: EnvelopeLimits): Result<{ items: NewItem[]; stateAfter: Map<number, number> }> {
  if (decoded.structs.length > limits.maxStructs) return fail('ENVELOPE_TOO_LARGE', 'too many structs in one update');
  const items: NewItem[] = [];
  const stateAfter = new Map<number, number>();
  const keysInUpdate = new Set<string>();
  /** Where each client's next struct in this update must start. */
  const inUpdate = new Map<number, number>();
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id;
    // Yjs keeps only the last block of a client that appears twice (readClientsStructRefs):
    // the structs checked and the structs applied would differ. Fuzz fixture: client-twice.
    if (inUpdate.has(client) && inUpdate.get(client) !== clock) return structFailure('a client appears twice in one update');
    inUpdate.set(client, clock + struct.length);
    if (!(struct instanceof Y.Item)) return structFailure('GC and skip structs are not accepted');
    if (struct.origin !== null || struct.rightOrigin !== null) return structFailure('only fresh map keys may be inserted');
    // In a decoded update, a root parent is the root type's name (Yjs types it loosely).
    if ((struct.parent as unknown) !== ENVELOPE_MAP || typeof struct.parentSub !== 'string') return structFailure('insert outside the envelope map');
    const next = stateAfter.get(client) ?? o.stateOf(client);
    stateAfter.set(client, Math.max(next, clock + struct.length));
    if (clock + struct.length <= next) continue; // already integrated: Yjs skips it
    if (clock < next) return structFailure('struct is partly known');
    if (clock > next) return fail('ENVELOPE_GAP', 'struct does not continue its client clock');
    const key = struct.parentSub;
    if (keysInUpdate.has(key)) return fail('ENVELOPE_KEY_EXISTS', 'key written twice in one update');
    keysInUpdate.add(key);
    if (struct.content instanceof Y.ContentDeleted) {
      if (struct.length !== 1) return structFailure('placeholder of more than one item');
      items.push({ id: { client, clock }, key, record: undefined });
      continue;
    }
    if (!(struct.content instanceof Y.ContentBinary)) return structFailure('envelope values must be binary records');
    const parsed = parseRecord(struct.content.content, limits.maxRecordBytes);
    const mismatch = parsed.ok && key !== recordKey(parsed.value);
    if (o.scope === 'replica' && (!parsed.ok || mismatch)) {
      items.push({ id: { client, clock }, key, record: undefined }); // the sync engine reports it
      continue;
    }
    if (!parsed.ok) return parsed;
    if (mismatch) return fail('RECORD_KEY_MISMATCH', 'map key is not the record id');
    items.push({ id: { client, clock }, key, record: parsed.value });
  }
  return ok({ items, stateAfter });
}

/** Updates larger than this (a catch-up) are not decoded an extra time to start their checks early. */
const EARLY_CHECK_MAX_BYTES = 64 * 1024;

/**
 * Starts the signature checks of the records a small envelope update carries, without deciding
 * anything (docs/decisions/0055): a client's relay connection calls it as soon as the relay's
 * message arrives (decision 0058; before, once it reached the wire doc), so the engine
 * (WebCrypto: another thread) works while the wire integrates it and the gate decodes and checks
 * it; the gate's own `verifyRecord` then waits for these answers. Malformed input is left to the
 * check itself. Returns the records whose checks it started (parsed, nothing checked).
 */
export function startVerifyingUpdate(update: Uint8Array, engine: Ed25519Engine): ParsedRecord[] {
  if (update.length > EARLY_CHECK_MAX_BYTES) return [];
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return [];
  }
  const started: ParsedRecord[] = [];
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentBinary)) continue;
    const parsed = parseRecord(struct.content.content);
    if (!parsed.ok) continue;
    startVerifying(parsed.value, engine);
    started.push(parsed.value);
  }
  return started;
}

/**
 * I4: every new struct on an envelope clientID comes from the person that clientID belongs to,
 * and every record on it is signed by that person's keys. A clientID belongs to the person whose
 * connection first wrote on it; one the doc has seen but whose owner is unknown (data stored
 * before bindings were kept) is frozen. Honest devices only ever send new structs of their own
 * clientIDs: whatever else they have, they got from the relay, which has it.
 */
function checkClockOwnership(items: readonly NewItem[], index: EnvelopeIndex, membership: MembershipView, senderKey: string, o: EnvelopeCheckOptions): Result<Array<[number, string]>> {
  const sender = personOf(membership, senderKey);
  const bound: Array<[number, string]> = [];
  const owners = new Map<number, string>();
  for (const it of items) {
    let owner = owners.get(it.id.client) ?? index.ownerOfClient(it.id.client);
    if (owner === undefined) {
      if (o.stateOf(it.id.client) > 0) return fail('ENVELOPE_CLIENT_NOT_OWNED', 'clientID of an unknown owner');
      owner = sender;
      bound.push([it.id.client, owner]);
    }
    owners.set(it.id.client, owner);
    if (owner !== sender) return fail('ENVELOPE_CLIENT_NOT_OWNED', "struct on another person's clientID");
    if (it.record && personOf(membership, toHex(it.record.header.author)) !== owner) {
      return fail('ENVELOPE_CLIENT_NOT_OWNED', "record signed by someone other than its clientID's owner");
    }
  }
  return ok(bound);
}

/**
 * The gate: accepts a (v1) envelope update only if integrating it keeps every invariant above.
 * All-or-nothing; on success, `commit()` brings the index to the doc's state after the update.
 */
export async function checkEnvelopeUpdate(update: Uint8Array, index: EnvelopeIndex, o: EnvelopeCheckOptions): Promise<Result<AcceptedUpdate>> {
  const limits = o.limits ?? DEFAULT_ENVELOPE_LIMITS;
  if (update.length > limits.maxUpdateBytes) return fail('ENVELOPE_TOO_LARGE', 'envelope update too large');
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return fail('ENVELOPE_BAD_UPDATE', 'envelope update does not decode');
  }
  const shape = newItemsOf(decoded, o, limits);
  if (!shape.ok) return shape;
  const { items, stateAfter } = shape.value;
  for (const it of items) if (index.keyUsed(it.key)) return fail('ENVELOPE_KEY_EXISTS', 'key already used in the envelope');

  let records = items.filter((it): it is NewItem & { record: ParsedRecord } => it.record !== undefined);
  // Membership first, in causal order (genesis, then by clock), then the rest by seq.
  records.sort((a, b) => compareForMembership(a.record, b.record));
  const staged = new EnvelopeIndexOverlay(index);
  // Signatures are independent of order: check them all at once (WebCrypto runs them in parallel).
  const signatures = await Promise.all(records.map((r) => verifyRecord(r.record, o.engine)));
  if (o.scope === 'replica') {
    records = records.filter((_, i) => signatures[i]!.ok);
    for (const r of records) staged.add(r.record, r.id, undefined);
  } else {
    for (const [i, r] of records.entries()) {
      const verdict = await authorizeRecord(r.record, staged, { engine: o.engine, now: o.now, verified: signatures[i] });
      if (!verdict.ok) return verdict;
      staged.add(r.record, r.id, verdict.value);
    }
  }
  const signed = new Set(records.map((r) => r.key));
  let bound: Array<[number, string]> = [];
  if (o.scope !== 'replica') {
    // The relay always knows the sender; a relay-scope check without one cannot decide I4.
    if (o.sender === undefined) return fail('ENVELOPE_CLIENT_NOT_OWNED', 'no sender to check clientID ownership against');
    const owned = checkClockOwnership(items, index, staged.membership, o.sender, o);
    if (!owned.ok) return owned;
    bound = owned.value;
  }

  const deletes = checkDeletes(decoded.ds, index, staged, (client) => stateAfter.get(client) ?? o.stateOf(client));
  if (!deletes.ok) return deletes;
  const deleted = deletes.value;
  return ok({
    added: staged.added.map((a) => a.record),
    deleted,
    bound,
    commit() {
      for (const [client, person] of bound) index.bindClient(client, person);
      for (const it of items) if (!signed.has(it.key)) index.useKey(it.key);
      for (const a of staged.added) index.add(a.record, a.item, a.op);
      for (const key of deleted) index.remove(key);
    },
  });
}

/** I1 and I3 for the delete set: only integrated items, and live records only under a snapshot. */
function checkDeletes(ds: ReturnType<typeof Y.decodeUpdate>['ds'], index: EnvelopeIndex, staged: EnvelopeIndexOverlay, stateAfter: (client: number) => number): Result<string[]> {
  const deleted: string[] = [];
  const snapshots = [...index.snapshots(), ...staged.newSnapshots()];
  for (const [client, ranges] of ds.clients) {
    const known = stateAfter(client);
    for (const { clock, len } of ranges) {
      if (clock + len > known) return fail('ENVELOPE_DELETE_UNKNOWN', 'delete of items the document does not have');
      for (const target of staged.recordsIn(client, clock, len)) {
        const covering = snapshots.some((s) => snapshotCovers(s, target.record, target.snapshot));
        if (!covering) return fail('ENVELOPE_DELETE_NOT_COVERED', 'delete of a record no snapshot covers');
        deleted.push(target.key);
      }
    }
  }
  return ok(deleted);
}

/** Re-exported for callers that test delete sets of decoded updates. */
export const inDeleteSet = deleteSetHas;

/**
 * Staging layer so a rejected update leaves the real index untouched, without copying it:
 * reads fall through to the base index; membership is copied only if the update changes it.
 */
/**
 * The index as records staged on top of it would change it (membership ops, used seqs, items),
 * without touching it: the relay stages one update's records, a device one own transaction's.
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
