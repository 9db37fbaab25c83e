/**
 * Membership records: cleartext, signed. The relay reads them to enforce writes; every client
 * verifies and folds them itself, starting from the genesis the document id certifies.
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
 *
 * An accept binds only a key its writer controls (the proof, verified with `verifyMembershipProof`
 * where the record signature is), with the invite's role and access expiry, to a key that is not
 * already a member, a certified device or an invite key: a link holder cannot demote an owner or
 * re-role anyone. The same stateful rules apply in `check` and in the fold.
 *
 * `clock` is a Lamport clock (1 + the highest clock the author had seen), so the fold order
 * (clock, author, seq) respects causality: an accept comes after its invite, a change after the
 * grant that allowed it; concurrent admin actions are ordered by author key, the same everywhere.
 */
import {
  bytesEqual,
  concatBytes,
  isAllZero,
  signDetached,
  toHex,
  utf8,
  verifyDetached,
  type BoxPublicKey,
  type Ed25519Engine,
  type SigningKeyPair,
  type SigningPublicKey,
} from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { PUBLIC_KEY_LENGTH, RecordType, SIGNATURE_LENGTH } from './constants.ts';
import { decodeDeviceCert, DEVICE_CERT_LENGTH, encodeDeviceCert, verifyDeviceCert, type DeviceCert } from './device.ts';
import { fail, ok, type Result } from './errors.ts';
import { deriveDocId } from './ids.ts';
import type { ParsedRecord } from './record.ts';

export const Role = { owner: 1, editor: 2, viewer: 3, clinician: 4, emergency: 5 } as const;
export type RoleName = keyof typeof Role;
export type RoleCode = (typeof Role)[RoleName];
const ROLE_CODES = new Set<number>(Object.values(Role));
const ROLE_NAMES = new Map<number, RoleName>(Object.entries(Role).map(([name, code]) => [code, name as RoleName]));
/** The name of a role code (undefined for the invitee principal or an unknown code). */
export const roleName = (code: number | undefined): RoleName | undefined => (code === undefined ? undefined : ROLE_NAMES.get(code));
/** Not a member role: what an unused invite key may do (read, and accept once). */
export const INVITEE = 100 as const;
export type Principal = RoleCode | typeof INVITEE;

export const isWriterRole = (role: Principal | undefined): boolean => role === Role.owner || role === Role.editor;
export const isAdminRole = (role: Principal | undefined): boolean => role === Role.owner;

export interface MemberEntry {
  /** The member's identity key (or, for single-key members, the key that signs its records). */
  readonly publicKey: SigningPublicKey;
  /** X25519 key lockboxes are addressed to; without it the member receives keys only per device. */
  readonly boxKey?: BoxPublicKey;
  readonly role: RoleCode;
  /** Milliseconds since the epoch; 0 means no expiry. */
  readonly expiresAt: number;
}

export interface Invite {
  readonly inviteKey: SigningPublicKey;
  readonly inviteBox: BoxPublicKey;
  readonly role: RoleCode;
  readonly memberExpiresAt: number;
  readonly inviteExpiresAt: number;
}

export const GENESIS_NONCE_LENGTH = 16;

export type MembershipBody =
  | { readonly kind: 'genesis'; readonly nonce: Uint8Array; readonly members: readonly MemberEntry[] }
  | { readonly kind: 'set'; readonly member: MemberEntry }
  | { readonly kind: 'remove'; readonly publicKey: SigningPublicKey }
  | { readonly kind: 'rotate'; readonly epoch: number }
  | { readonly kind: 'device'; readonly cert: DeviceCert }
  | { readonly kind: 'revoke-device'; readonly device: SigningPublicKey }
  | { readonly kind: 'invite'; readonly invite: Invite }
  | { readonly kind: 'accept'; readonly member: MemberEntry; /** Signature by `member.publicKey` (see `acceptProofMessage`). */ readonly proof: Uint8Array };

/** An op as written; `clock` defaults to 0 for callers that let the sync engine stamp it. */
export type MembershipOp = MembershipBody & { readonly clock?: number };

const KIND_CODES = { genesis: 0, set: 1, remove: 2, rotate: 3, device: 4, 'revoke-device': 5, invite: 6, accept: 7 } as const;
const NO_BOX_KEY = new Uint8Array(32);

const writeEntry = (w: ByteWriter, e: MemberEntry): ByteWriter =>
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

interface Entry {
  readonly record: ParsedRecord;
  readonly op: MembershipOp & { clock: number };
}

interface DeviceState {
  readonly identity: string;
  readonly cert: DeviceCert;
}

interface InviteState {
  readonly invite: Invite;
  used: boolean;
  /** Hex key of the member its accept bound (who this invitation turned into; names, decision 0038). */
  acceptedBy?: string;
  /** Clock of the invite op: its accept must come later. */
  readonly clock: number;
}

/** The folded state: members by identity, certified devices, invites, current epoch. */
export interface MembershipState {
  readonly members: Map<string, MemberEntry>;
  readonly devices: Map<string, DeviceState>;
  readonly revokedDevices: Set<string>;
  readonly invites: Map<string, InviteState>;
  readonly epoch: number;
  readonly clock: number;
  /**
   * Keys that held a role and lost it (removed members, revoked devices): the role they last had
   * and the epoch current when they lost it (the newest key they can have held).
   */
  readonly former: Map<string, { readonly role: RoleCode; readonly epoch: number }>;
}

/** Someone a lockbox can be addressed to: a member identity or one of its devices. */
export interface Recipient {
  readonly publicKey: SigningPublicKey;
  readonly boxKey: BoxPublicKey;
  readonly role: RoleCode;
}

/** Clock of a membership record straight from its ext (genesis sorts first). */
function clockOf(record: ParsedRecord): number {
  const ext = record.header.ext;
  if (ext.length < 5 || ext[0] === KIND_CODES.genesis) return -1;
  return new DataView(ext.buffer, ext.byteOffset, ext.byteLength).getUint32(1);
}

/**
 * The order membership records must be checked in, wherever they arrive together (relay index
 * rebuild, an update's new records, a client batch): genesis, then causal (clock), then a
 * deterministic tie-break. Non-membership records sort after all membership records.
 */
export function compareForMembership(a: ParsedRecord, b: ParsedRecord): number {
  const am = a.header.type === RecordType.membership;
  const bm = b.header.type === RecordType.membership;
  if (am !== bm) return am ? -1 : 1;
  if (am) {
    const d = clockOf(a) - clockOf(b);
    if (d !== 0) return d;
    const ka = toHex(a.header.author);
    const kb = toHex(b.header.author);
    if (ka !== kb) return ka < kb ? -1 : 1;
  }
  return a.header.seq - b.header.seq;
}

const compareEntries = (a: Entry, b: Entry): number => {
  if (a.op.clock !== b.op.clock) return a.op.clock - b.op.clock;
  const ka = toHex(a.record.header.author);
  const kb = toHex(b.record.header.author);
  return ka < kb ? -1 : ka > kb ? 1 : a.record.header.seq - b.record.header.seq;
};

const hasOwner = (state: MembershipState): boolean => [...state.members.values()].some((m) => m.role === Role.owner);

/** A key an accept may not bind: a member (any role), a certified device (even revoked) or an invite key. */
function isTaken(key: Uint8Array, state: MembershipState): boolean {
  const hex = toHex(key);
  return state.members.has(hex) || state.devices.has(hex) || state.invites.has(hex);
}

/**
 * A device key may be certified only if it is not a member identity or an invite key and not
 * already another identity's device (first certificate wins): otherwise a member could certify
 * someone else's key as its own device and make it act with its own, lower role.
 */
function deviceKeyFree(cert: DeviceCert, state: MembershipState): boolean {
  const hex = toHex(cert.device);
  const existing = state.devices.get(hex);
  if (existing) return existing.identity === toHex(cert.identity);
  return !state.invites.has(hex) && (!state.members.has(hex) || bytesEqual(cert.device, cert.identity));
}

export class MembershipView {
  readonly docId: Uint8Array;
  private readonly entries = new Map<string, Entry>();
  private genesis: Entry | undefined;
  private cache: MembershipState | undefined;

  constructor(docId: Uint8Array) {
    this.docId = docId;
  }

  clone(): MembershipView {
    const copy = new MembershipView(this.docId);
    copy.genesis = this.genesis;
    for (const [k, v] of this.entries) copy.entries.set(k, v);
    return copy;
  }

  get hasGenesis(): boolean {
    return this.genesis !== undefined;
  }

  get creator(): SigningPublicKey | undefined {
    return this.genesis?.record.header.author;
  }

  /**
   * Checks an op against the current state (shape, authority, invite use and expiry). The
   * caller verified the record signature and, with `verifyMembershipProof`, a device op's
   * certificate signature and an accept's proof.
   */
  check(record: ParsedRecord, now = 0): Result<MembershipOp & { clock: number }> {
    if (record.header.type !== RecordType.membership) return fail('RECORD_BAD_EXT', 'not a membership record');
    const decoded = decodeMembershipExt(record.header.ext);
    if (!decoded.ok) return decoded;
    const op = decoded.value;
    const author = record.header.author;
    if (op.kind === 'genesis') {
      const creatorIsOwner = op.members.some((m) => bytesEqual(m.publicKey, author) && m.role === Role.owner);
      if (record.header.seq !== 1 || !bytesEqual(deriveDocId(author, op.nonce), this.docId) || !creatorIsOwner) {
        return fail('RECORD_NOT_ADMIN', 'genesis does not match the document id');
      }
      return decoded;
    }
    if (!this.genesis) return fail('ENVELOPE_NO_GENESIS', 'membership change before genesis');
    const state = this.state();
    const who = this.principalOf(author, state);
    switch (op.kind) {
      case 'remove':
        // A member may leave: remove its own identity (the last owner still may not; leavesNoOwner).
        if (who !== undefined && who.identity === toHex(op.publicKey)) return decoded;
        return who?.role === Role.owner ? decoded : fail('RECORD_NOT_ADMIN', 'membership change not signed by an owner');
      case 'set':
      case 'rotate':
      case 'invite':
        return who?.role === Role.owner ? decoded : fail('RECORD_NOT_ADMIN', 'membership change not signed by an owner');
      case 'device': {
        if (!bytesEqual(author, op.cert.device) && !bytesEqual(author, op.cert.identity)) {
          return fail('DEVICE_BAD_CERT', 'a device certificate is published by the device or its identity');
        }
        if (!state.members.has(toHex(op.cert.identity)) && !this.isCreator(op.cert.identity)) {
          return fail('RECORD_NOT_MEMBER', 'a device certificate is only for the identity of a current member');
        }
        return deviceKeyFree(op.cert, state) ? decoded : fail('DEVICE_KEY_TAKEN', 'that device key is a member, an invite or another identity\'s device');
      }
      case 'revoke-device': {
        const target = state.devices.get(toHex(op.device));
        const sameIdentity = target !== undefined && who !== undefined && who.identity === target.identity;
        return who?.role === Role.owner || sameIdentity ? decoded : fail('RECORD_NOT_ADMIN', 'device revocation not allowed');
      }
      case 'accept': {
        const pending = state.invites.get(toHex(author));
        if (!pending) return fail('RECORD_NOT_ADMIN', 'accept not signed by an invite key');
        if (pending.used) return fail('INVITE_USED', 'this invite was already used');
        if (now > pending.invite.inviteExpiresAt) return fail('INVITE_EXPIRED', 'this invite expired');
        if (op.clock <= pending.clock) return fail('RECORD_NOT_ADMIN', 'accept does not follow its invite');
        if (op.member.role !== pending.invite.role || op.member.expiresAt !== pending.invite.memberExpiresAt) {
          return fail('RECORD_NOT_ADMIN', 'accept does not match its invite');
        }
        if (isTaken(op.member.publicKey, state)) return fail('INVITE_KEY_TAKEN', 'accept names a key that is already a member, device or invite');
        return decoded;
      }
    }
  }

  /** Adds a verified membership record that passed `check`. Idempotent per record id. */
  add(record: ParsedRecord, op: MembershipOp): void {
    const entry = { record, op: { ...op, clock: op.clock ?? 0 } };
    if (op.kind === 'genesis') this.genesis ??= entry;
    else this.entries.set(toHex(record.id), entry);
    this.cache = undefined;
  }

  /** The fold, recomputed only when an entry was added. */
  state(): MembershipState {
    if (this.cache) return this.cache;
    const members = new Map<string, MemberEntry>();
    const devices = new Map<string, DeviceState>();
    const revokedDevices = new Set<string>();
    const invites = new Map<string, InviteState>();
    const former = new Map<string, { role: RoleCode; epoch: number }>();
    let epoch = 0;
    let clock = 0;
    if (this.genesis?.op.kind === 'genesis') for (const m of this.genesis.op.members) members.set(toHex(m.publicKey), m);
    const partial: MembershipState = { members, devices, revokedDevices, invites, epoch, clock, former };
    for (const { record, op } of [...this.entries.values()].sort(compareEntries)) {
      clock = Math.max(clock, op.clock);
      const who = this.principalOf(record.header.author, partial);
      const owner = who?.role === Role.owner;
      switch (op.kind) {
        case 'set':
          if (owner) {
            members.set(toHex(op.member.publicKey), op.member);
            // A key an owner makes a member is nobody's device from then on. With back-dated
            // clocks a device certificate can fold before the owner's `set` of the same key; the
            // certifying identity then shadowed the owner's role for that key, and its leaving
            // gave the role back (membership-accept.test.ts seed 1588643701): owners' word wins.
            devices.delete(toHex(op.member.publicKey));
          }
          break;
        case 'remove': {
          const gone = members.get(toHex(op.publicKey));
          const leaving = who !== undefined && who.identity === toHex(op.publicKey);
          if ((owner || leaving) && gone) {
            former.set(toHex(op.publicKey), { role: gone.role, epoch });
            members.delete(toHex(op.publicKey));
          }
          break;
        }
        case 'rotate':
          if (owner) epoch = Math.max(epoch, op.epoch);
          break;
        case 'invite':
          if (owner) invites.set(toHex(op.invite.inviteKey), { invite: op.invite, used: false, clock: op.clock });
          break;
        case 'accept': {
          const pending = invites.get(toHex(record.header.author));
          if (
            pending &&
            !pending.used &&
            op.member.role === pending.invite.role &&
            op.member.expiresAt === pending.invite.memberExpiresAt &&
            !isTaken(op.member.publicKey, partial)
          ) {
            pending.used = true;
            pending.acceptedBy = toHex(op.member.publicKey);
            members.set(toHex(op.member.publicKey), op.member);
          }
          break;
        }
        case 'device': {
          const byItself = bytesEqual(record.header.author, op.cert.device) || bytesEqual(record.header.author, op.cert.identity);
          const forMember = members.has(toHex(op.cert.identity)) || this.isCreator(op.cert.identity);
          if (byItself && forMember && deviceKeyFree(op.cert, partial)) devices.set(toHex(op.cert.device), { identity: toHex(op.cert.identity), cert: op.cert });
          break;
        }
        case 'revoke-device': {
          const target = devices.get(toHex(op.device));
          if (owner || (target && who && who.identity === target.identity)) {
            revokedDevices.add(toHex(op.device));
            const role = target && members.get(target.identity)?.role;
            if (role !== undefined) former.set(toHex(op.device), { role, epoch });
          }
          break;
        }
      }
    }
    this.cache = { members, devices, revokedDevices, invites, epoch, clock, former };
    return this.cache;
  }

  private isCreator(key: Uint8Array): boolean {
    return this.genesis !== undefined && bytesEqual(this.genesis.record.header.author, key);
  }

  /** Resolves a signing key to the member it acts for: the identity itself, or a certified, unrevoked device of it. */
  private principalOf(key: Uint8Array, state: MembershipState): { identity: string; role: RoleCode; expiresAt: number } | undefined {
    const hex = toHex(key);
    const direct = state.members.get(hex);
    if (direct) return { identity: hex, role: direct.role, expiresAt: direct.expiresAt };
    const device = state.devices.get(hex);
    if (!device || state.revokedDevices.has(hex)) return undefined;
    const member = state.members.get(device.identity);
    return member ? { identity: device.identity, role: member.role, expiresAt: member.expiresAt } : undefined;
  }

  /**
   * Whether adding this op (one `check` accepted) would leave a document that has an owner with
   * none: the last owner removing or demoting itself, or any op whose place in the fold has that
   * effect. Nobody could then ever add, remove or rotate again, and the relay would close the
   * last owner's connections (revocation.ts). Judged on the fold with the op in place, regardless
   * of expiry. The relay and a device's own writes refuse it (`authorizeRecord`); a replica folds
   * what the relay took, like an invite's expiry, so replicas never disagree about it.
   */
  leavesNoOwner(record: ParsedRecord, op: MembershipOp): boolean {
    if (op.kind === 'genesis' || !hasOwner(this.state())) return false;
    const trial = this.clone();
    trial.add(record, op);
    return !hasOwner(trial.state());
  }

  /** Members by identity key, regardless of expiry. */
  members(): Map<string, MemberEntry> {
    return this.state().members;
  }

  get currentEpoch(): number {
    return this.state().epoch;
  }

  /** The next Lamport clock value for an op written now. */
  get nextClock(): number {
    return this.state().clock + 1;
  }

  /** What this signing key may do now: its member's role, INVITEE for a live invite, or undefined. */
  roleOf(publicKey: Uint8Array, now: number): Principal | undefined {
    const state = this.state();
    const who = this.principalOf(publicKey, state);
    if (who) return who.expiresAt !== 0 && who.expiresAt <= now ? undefined : who.role;
    const invite = state.invites.get(toHex(publicKey));
    if (invite && !invite.used && now < invite.invite.inviteExpiresAt) return INVITEE;
    return undefined;
  }

  /**
   * The role a removed member or revoked device last had (undefined: never lost one). A device of
   * a removed member lost its role with its identity: without this, a cold replica refused the
   * device's kept records (audit entries, names) even behind a snapshot (decision 0038).
   */
  formerRole(publicKey: Uint8Array): RoleCode | undefined {
    const state = this.state();
    const hex = toHex(publicKey);
    const own = state.former.get(hex)?.role;
    if (own !== undefined) return own;
    const identity = state.devices.get(hex)?.identity;
    return identity !== undefined && !state.members.has(identity) ? state.former.get(identity)?.role : undefined;
  }

  /** When this key's access ends (0 = never; undefined = no access). */
  expiryOf(publicKey: Uint8Array): number | undefined {
    const state = this.state();
    const who = this.principalOf(publicKey, state);
    if (who) return who.expiresAt;
    return state.invites.get(toHex(publicKey))?.invite.inviteExpiresAt;
  }

  /** Everyone a lockbox for the current epoch goes to: member identities with a box key, and their live devices. */
  recipients(now: number): Recipient[] {
    const state = this.state();
    const out: Recipient[] = [];
    for (const m of state.members.values()) {
      if (m.expiresAt !== 0 && m.expiresAt <= now) continue;
      if (m.boxKey) out.push({ publicKey: m.publicKey, boxKey: m.boxKey, role: m.role });
      for (const [hex, d] of state.devices) {
        if (d.identity === toHex(m.publicKey) && !state.revokedDevices.has(hex)) {
          out.push({ publicKey: d.cert.device, boxKey: d.cert.deviceBox, role: m.role });
        }
      }
    }
    return out;
  }

  /** A live invite by its key (for the invite lockbox). */
  invite(inviteKey: Uint8Array): Invite | undefined {
    const i = this.state().invites.get(toHex(inviteKey));
    return i && !i.used ? i.invite : undefined;
  }
}
