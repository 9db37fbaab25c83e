/**
 * Owner operations on a profile: grants, removals, invites, expiry sweeps and key rotation.
 * Each is one own transaction (own-transaction.ts): its membership ops, lockboxes and (for a
 * rotation) the snapshot under the new key are all sealed and checked first, then inserted
 * together, so a refusal or a crash halfway leaves the profile as it was.
 */
import { bytesEqual, generateSymmetricKey, type SigningPublicKey } from '../crypto/index.ts';
import { inviteKeysFromSecret, isAdminRole, Role, sealLockbox, type MemberEntry, type Recipient, type RoleCode } from '../protocol/index.ts';
import type { OwnTransaction } from './own-transaction.ts';
import type { ProfileSync } from './profile-sync.ts';

/** Delivers the current epoch key (and, with history, every older one) to one recipient. */
async function sendLockbox(tx: OwnTransaction, docId: Uint8Array, to: Recipient, withHistory: boolean): Promise<void> {
  const epoch = tx.currentEpoch;
  await tx.lockbox(
    sealLockbox({ docId, epoch, recipient: to.publicKey, recipientBoxKey: to.boxKey, keys: tx.keysFor(epoch, withHistory), random: tx.random }),
  );
}

/**
 * The genesis record and, in the same transaction, a lockbox with the epoch-0 key for every
 * founding member that gave a box key: they read the profile with no access bundle.
 */
export async function writeGenesis(sync: ProfileSync, o: { nonce: Uint8Array; members: readonly MemberEntry[] }): Promise<void> {
  await sync.transact(async (tx) => {
    await tx.membershipOp({ kind: 'genesis', nonce: o.nonce, members: o.members });
    for (const r of tx.membership.recipients(tx.now())) {
      if (!bytesEqual(r.publicKey, sync.clock.signer)) await sendLockbox(tx, sync.docId, r, true);
    }
  });
}

/** New epoch key, delivered by lockbox to every current member, then a snapshot under it. */
async function rotateIn(tx: OwnTransaction, docId: Uint8Array): Promise<number> {
  const epoch = tx.currentEpoch + 1;
  await tx.membershipOp({ kind: 'rotate', epoch });
  tx.addKey(epoch, generateSymmetricKey(tx.random));
  for (const r of tx.membership.recipients(tx.now())) await sendLockbox(tx, docId, r, r.role !== Role.clinician);
  // Open invites get the new key too: an invite made before this rotation (say, before a
  // clinician session) would otherwise find no key for the current epoch (INVITE_NO_KEY).
  for (const { invite: i, used } of tx.membership.state().invites.values()) {
    if (used || i.inviteExpiresAt <= tx.now()) continue;
    const history = i.role !== Role.clinician && i.memberExpiresAt === 0;
    await sendLockbox(tx, docId, { publicKey: i.inviteKey, boxKey: i.inviteBox, role: i.role }, history);
  }
  await tx.snapshot();
  return epoch;
}

function requireOwner(sync: ProfileSync): void {
  // Only an owner's rotation counts: anyone else's would be refused by every member (the vault
  // refuses earlier, typed); the transaction would refuse it too, this says so first.
  if (!isAdminRole(sync.index.membership.roleOf(sync.clock.signer, sync.clock.now()))) throw new Error('NOT_OWNER: only an owner rotates the key');
}

export async function rotate(sync: ProfileSync): Promise<number> {
  requireOwner(sync);
  return sync.transact((tx) => rotateIn(tx, sync.docId));
}

/**
 * Adds or changes a member. Full members receive every epoch key (the whole history);
 * a member without history (by default a clinician) gets a fresh epoch: it reads the new
 * snapshot and what follows, nothing older.
 */
export async function grant(sync: ProfileSync, member: MemberEntry, o: { history?: boolean } = {}): Promise<void> {
  await sync.transact(async (tx) => {
    await tx.membershipOp({ kind: 'set', member });
    if (!(o.history ?? member.role !== Role.clinician)) {
      await rotateIn(tx, sync.docId);
      return;
    }
    for (const r of tx.membership.recipients(tx.now())) {
      if (bytesEqual(r.publicKey, member.publicKey)) await sendLockbox(tx, sync.docId, r, true);
    }
  });
}

/** Removes a member and rotates, so nothing written from now on opens with its keys. */
export async function revoke(sync: ProfileSync, publicKey: SigningPublicKey): Promise<number> {
  return sync.transact(async (tx) => {
    await tx.membershipOp({ kind: 'remove', publicKey });
    return rotateIn(tx, sync.docId);
  });
}

/**
 * Registers an invite (keys derived from `secret`) and addresses a lockbox to it. Without
 * history, the profile first rotates so the invitee reads the fresh snapshot and nothing older.
 */
export async function invite(
  sync: ProfileSync,
  o: { secret: Uint8Array; role: RoleCode; memberExpiresAt: number; inviteExpiresAt: number; history: boolean },
): Promise<void> {
  const keys = inviteKeysFromSecret(o.secret);
  await sync.transact(async (tx) => {
    if (!o.history) await rotateIn(tx, sync.docId);
    await tx.membershipOp({
      kind: 'invite',
      invite: { inviteKey: keys.signing.publicKey, inviteBox: keys.box.publicKey, role: o.role, memberExpiresAt: o.memberExpiresAt, inviteExpiresAt: o.inviteExpiresAt },
    });
    await sendLockbox(tx, sync.docId, { publicKey: keys.signing.publicKey, boxKey: keys.box.publicKey, role: o.role }, o.history);
  });
}

/** Members whose access has ended by `now` (still listed until an owner sweeps them). */
export function expiredMembers(sync: ProfileSync, now: number): MemberEntry[] {
  return [...sync.index.membership.members().values()].filter((m) => m.expiresAt !== 0 && m.expiresAt <= now);
}

/** The next time a member's access ends (undefined: none is time-limited). */
export function nextExpiry(sync: ProfileSync): number | undefined {
  let next: number | undefined;
  for (const m of sync.index.membership.members().values()) if (m.expiresAt !== 0 && (next === undefined || m.expiresAt < next)) next = m.expiresAt;
  return next;
}

/** Removes every member whose access expired, and rotates once for all, in one transaction; returns how many. */
export async function removeExpired(sync: ProfileSync): Promise<number> {
  const now = sync.clock.now();
  if (expiredMembers(sync, now).length === 0 || !isAdminRole(sync.index.membership.roleOf(sync.clock.signer, now))) return 0;
  // Decided inside the transaction: a sweep already under way (the owner's own, or another
  // call) has removed them by then, and they are not removed (and rotated for) twice.
  return sync.transact(async (tx) => {
    const expired = expiredMembers(sync, tx.now());
    if (expired.length === 0) return 0;
    for (const m of expired) await tx.membershipOp({ kind: 'remove', publicKey: m.publicKey });
    await rotateIn(tx, sync.docId);
    return expired.length;
  });
}
