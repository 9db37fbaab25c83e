/**
 * Whether one record may enter the envelope (invariant I5: its type, its id, its signature and
 * its author's role) and whether a snapshot may justify deleting a record (I1). Pure decisions
 * over a record and the index, shared by the gate (envelope.ts), a replica's inbox, compaction
 * and the erase order's check; separate from the gate, which reads an update's structs and
 * delete set.
 */
import { toBase64Url, toHex, type Ed25519Engine } from '../crypto/index.ts';
import { RecordType } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import type { IndexView } from './envelope-index.ts';
import { lockboxHeader } from './lockbox.ts';
import { INVITEE, isAdminRole, isWriterRole, verifyMembershipProof, type MembershipOp } from './membership.ts';
import { isSameDoc, verifyRecord, type ParsedRecord, type VerifiedRecord } from './record.ts';
import { ENVELOPE_RECORD_TYPES, isCompactableType } from './record-types.ts';
import { decodeEraseExt } from './erase.ts';
import { coveredSeq, decodeSnapshotExt, type SnapshotExt } from './snapshot.ts';

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
