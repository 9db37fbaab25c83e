/**
 * Membership records: cleartext, signed. The relay reads them to enforce writes; every client
 * verifies and folds them itself, starting from the genesis the document id certifies. The ops'
 * bytes are in membership-codec.ts, their fold order in membership-order.ts, the accept proof in
 * membership-proof.ts and the folded state with the rules `check` and the fold share in
 * membership-state.ts; this module holds the view that checks and folds them.
 *
 * An accept binds only a key its writer controls (the proof, verified with `verifyMembershipProof`
 * where the record signature is), with the invite's role and access expiry, to a key that is not
 * already a member, a certified device or an invite key: a link holder cannot demote an owner or
 * re-role anyone. The same stateful rules apply in `check` and in the fold.
 */
import { bytesEqual, toHex, type SigningPublicKey } from '../crypto/index.ts';
import { RecordType } from './constants.ts';
import { fail, type Result } from './errors.ts';
import { deriveDocId } from './ids.ts';
import { decodeMembershipExt } from './membership-codec.ts';
import { compareEntries } from './membership-order.ts';
import { deviceKeyFree, hasOwner, isTaken, principalOf, type DeviceState, type Entry, type InviteState, type MembershipState, type Recipient } from './membership-state.ts';
import { INVITEE, Role, type Invite, type MemberEntry, type MembershipOp, type Principal, type RoleCode } from './membership-types.ts';
import type { ParsedRecord } from './record.ts';

export { decodeMembershipExt, encodeMembershipExt, GENESIS_NONCE_LENGTH } from './membership-codec.ts';
export { compareForMembership } from './membership-order.ts';
export { ACCEPT_PROOF_DOMAIN, acceptProofMessage, signAccept, verifyMembershipProof } from './membership-proof.ts';
export type { MembershipState, Recipient } from './membership-state.ts';
export {
  INVITEE,
  isAdminRole,
  isWriterRole,
  Role,
  roleName,
  type Invite,
  type MemberEntry,
  type MembershipBody,
  type MembershipOp,
  type Principal,
  type RoleCode,
  type RoleName,
} from './membership-types.ts';

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
    const who = principalOf(author, state);
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
      const who = principalOf(record.header.author, partial);
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
    const who = principalOf(publicKey, state);
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
    const who = principalOf(publicKey, state);
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
