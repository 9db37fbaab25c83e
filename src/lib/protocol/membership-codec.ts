/**
 * The bytes of a membership op (the record's ext), both ways. Cleartext and signed: the relay
 * reads them to enforce writes and every client folds them (membership.ts). Separate from the
 * fold so the wire format is read in one place, apart from the rules applied to it.
 *
 *   ext   = kind(u8) ‖ clock(u32) ‖ body
 *   genesis(0):        nonce(16) ‖ count(u16) ‖ count × entry   creator's seq 1; docId = H(creator ‖ nonce)
 *   set(1):            entry                                    owner
 *   remove(2):         publicKey(32)                            owner, or the member itself (leaving; decision 0038)
 *   rotate(3):         epoch(u32)                               owner; lockboxes follow
 *   device(4):         device certificate (device.ts)           the device itself or its identity; the identity
 *                                                               is a member (or the creator), the device key no
 *                                                               member, invite or other identity's device
 *   revoke-device(5):  device(32)                               owner, or the device's own identity/devices
 *   invite(6):         inviteKey(32) ‖ inviteBox(32) ‖ role(u8) ‖ memberExpiresAt(u48) ‖ inviteExpiresAt(u48)   owner
 *   accept(7):         entry ‖ proof(64)                        the invite key, once, before it expires
 *   entry = publicKey(32) ‖ boxKey(32, zero = none) ‖ role(u8) ‖ expiresAt(u48 ms, 0 = never)
 *   proof = Ed25519_entry.publicKey("fhv/invite-accept/v1" ‖ docId(16) ‖ inviteKey(32) ‖ entry)
 */
import { isAllZero, type BoxPublicKey, type SigningPublicKey } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './constants.ts';
import { decodeDeviceCert, DEVICE_CERT_LENGTH, encodeDeviceCert } from './device.ts';
import { fail, ok, type Result } from './errors.ts';
import { ROLE_CODES, type MemberEntry, type MembershipBody, type MembershipOp, type RoleCode } from './membership-types.ts';

export const GENESIS_NONCE_LENGTH = 16;

export const KIND_CODES = { genesis: 0, set: 1, remove: 2, rotate: 3, device: 4, 'revoke-device': 5, invite: 6, accept: 7 } as const;
const NO_BOX_KEY = new Uint8Array(32);

export const writeEntry = (w: ByteWriter, e: MemberEntry): ByteWriter =>
  w.bytes(e.publicKey).bytes(e.boxKey ?? NO_BOX_KEY).u8(e.role).u48(e.expiresAt);

export function encodeMembershipExt(op: MembershipOp): Uint8Array {
  const w = new ByteWriter().u8(KIND_CODES[op.kind]).u32(op.clock ?? 0);
  switch (op.kind) {
    case 'genesis':
      w.bytes(op.nonce).u16(op.members.length);
      for (const m of op.members) writeEntry(w, m);
      break;
    case 'set':
      writeEntry(w, op.member);
      break;
    case 'accept':
      if (op.proof.length !== SIGNATURE_LENGTH) throw new RangeError('accept proof must be 64 bytes');
      writeEntry(w, op.member).bytes(op.proof);
      break;
    case 'remove':
      w.bytes(op.publicKey);
      break;
    case 'rotate':
      w.u32(op.epoch);
      break;
    case 'device':
      w.bytes(encodeDeviceCert(op.cert));
      break;
    case 'revoke-device':
      w.bytes(op.device);
      break;
    case 'invite': {
      const i = op.invite;
      w.bytes(i.inviteKey).bytes(i.inviteBox).u8(i.role).u48(i.memberExpiresAt).u48(i.inviteExpiresAt);
      break;
    }
  }
  return w.finish();
}

function readEntry(r: ByteReader): MemberEntry | null {
  const publicKey = r.take(PUBLIC_KEY_LENGTH);
  const boxKey = r.take(PUBLIC_KEY_LENGTH);
  const role = r.u8();
  const expiresAt = r.u48();
  if (publicKey === null || boxKey === null || role === null || expiresAt === null || !ROLE_CODES.has(role)) return null;
  const entry = { publicKey: publicKey as SigningPublicKey, role: role as RoleCode, expiresAt };
  return isAllZero(boxKey) ? entry : { ...entry, boxKey: boxKey as BoxPublicKey };
}

function readBody(kind: number | null, r: ByteReader): MembershipBody | null {
  switch (kind) {
    case 0: {
      const nonce = r.take(GENESIS_NONCE_LENGTH);
      const count = r.u16();
      if (nonce === null || count === null) return null;
      const members: MemberEntry[] = [];
      for (let i = 0; i < count; i++) {
        const e = readEntry(r);
        if (e === null) return null;
        members.push(e);
      }
      return { kind: 'genesis', nonce, members };
    }
    case 1: {
      const member = readEntry(r);
      return member && { kind: 'set', member };
    }
    case 7: {
      const member = readEntry(r);
      const proof = r.take(SIGNATURE_LENGTH);
      return member && proof && { kind: 'accept', member, proof };
    }
    case 2: {
      const publicKey = r.take(PUBLIC_KEY_LENGTH);
      return publicKey && { kind: 'remove', publicKey: publicKey as SigningPublicKey };
    }
    case 3: {
      const epoch = r.u32();
      return epoch === null ? null : { kind: 'rotate', epoch };
    }
    case 4: {
      const bytes = r.take(DEVICE_CERT_LENGTH);
      const cert = bytes && decodeDeviceCert(bytes);
      return cert?.ok ? { kind: 'device', cert: cert.value } : null;
    }
    case 5: {
      const device = r.take(PUBLIC_KEY_LENGTH);
      return device && { kind: 'revoke-device', device: device as SigningPublicKey };
    }
    case 6: {
      const inviteKey = r.take(PUBLIC_KEY_LENGTH);
      const inviteBox = r.take(PUBLIC_KEY_LENGTH);
      const role = r.u8();
      const memberExpiresAt = r.u48();
      const inviteExpiresAt = r.u48();
      if (!inviteKey || !inviteBox || role === null || memberExpiresAt === null || inviteExpiresAt === null || !ROLE_CODES.has(role)) return null;
      return {
        kind: 'invite',
        invite: { inviteKey: inviteKey as SigningPublicKey, inviteBox: inviteBox as BoxPublicKey, role: role as RoleCode, memberExpiresAt, inviteExpiresAt },
      };
    }
    default:
      return null;
  }
}

export function decodeMembershipExt(bytes: Uint8Array): Result<MembershipOp & { clock: number }> {
  const r = new ByteReader(bytes);
  const kind = r.u8();
  const clock = r.u32();
  const body = clock === null ? null : readBody(kind, r);
  if (body === null || clock === null || r.remaining !== 0) return fail('RECORD_BAD_EXT', 'membership ext malformed');
  return ok({ ...body, clock });
}
