/**
 * The accept's proof of possession: the key an accept binds signs it, for this document and the
 * invite key that signed the record, so a link holder cannot bind someone else's key. Also the
 * check of a device op's certificate. Separate from the fold (membership.ts) because these are
 * signatures, verified asynchronously wherever the record signature is; the fold trusts them.
 */
import {
  bytesEqual,
  concatBytes,
  signDetached,
  utf8,
  verifyDetached,
  type Ed25519Engine,
  type SigningKeyPair,
  type SigningPublicKey,
} from '../crypto/index.ts';
import { ByteWriter } from './codec.ts';
import { verifyDeviceCert } from './device.ts';
import { fail, ok, type Result } from './errors.ts';
import { writeEntry } from './membership-codec.ts';
import type { MemberEntry, MembershipOp } from './membership-types.ts';
import type { ParsedRecord } from './record.ts';

/** Domain of the accept proof-of-possession signature. */
export const ACCEPT_PROOF_DOMAIN = 'fhv/invite-accept/v1';

/** What the bound key signs in an accept: domain ‖ docId ‖ inviteKey ‖ entry (as encoded). */
export const acceptProofMessage = (docId: Uint8Array, inviteKey: Uint8Array, member: MemberEntry): Uint8Array =>
  concatBytes(utf8(ACCEPT_PROOF_DOMAIN), docId, inviteKey, writeEntry(new ByteWriter(), member).finish());

/** The accept op binding `member` (whose secret key is `memberKey`) through `inviteKey`. */
export async function signAccept(o: {
  docId: Uint8Array;
  inviteKey: SigningPublicKey;
  member: MemberEntry;
  memberKey: SigningKeyPair;
  engine: Ed25519Engine;
}): Promise<MembershipOp & { kind: 'accept' }> {
  if (!bytesEqual(o.memberKey.publicKey, o.member.publicKey)) throw new RangeError('the accept proof is signed by the bound key');
  const proof = await signDetached(o.engine, acceptProofMessage(o.docId, o.inviteKey, o.member), o.memberKey.secretKey);
  return { kind: 'accept', member: o.member, proof };
}

/**
 * The signatures a membership op carries besides the record's own: a device certificate's
 * (by its identity) and an accept's proof (by the bound key, for this document and the
 * invite key that signed the record). Run wherever the record signature is verified, after
 * `MembershipView.check` (the fold trusts both, as it trusts record signatures).
 */
export async function verifyMembershipProof(docId: Uint8Array, record: ParsedRecord, op: MembershipOp, engine: Ed25519Engine): Promise<Result<void>> {
  if (op.kind === 'device' && !(await verifyDeviceCert(op.cert, engine))) {
    return fail('DEVICE_BAD_CERT', 'device certificate signature does not verify');
  }
  if (op.kind === 'accept') {
    const message = acceptProofMessage(docId, record.header.author, op.member);
    if (!(await verifyDetached(engine, message, op.proof, op.member.publicKey))) {
      return fail('INVITE_BAD_PROOF', 'accept is not signed by the key it binds');
    }
  }
  return ok(undefined);
}
