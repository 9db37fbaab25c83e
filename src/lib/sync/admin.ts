/**
 * Owner operations on a profile: grants, removals, invites, expiry sweeps and key rotation.
 * Each is a short sequence of signed membership ops, lockboxes and (for rotation) a snapshot
 * under the new key, written through the profile's sync engine.
 */
import { bytesEqual, generateSymmetricKey, type SigningPublicKey } from '../crypto/index.ts';
import { inviteKeysFromSecret, isAdminRole, Role, sealLockbox, type MemberEntry, type Recipient, type RoleCode } from '../protocol/index.ts';
import type { ProfileSync } from './profile-sync.ts';

/** Delivers the current epoch key (and, with history, every older one) to one recipient. */
export async function sendLockbox(sync: ProfileSync, to: Recipient, withHistory: boolean): Promise<void> {
  const epoch = sync.currentEpoch;
  await sync.appendLockbox(
    sealLockbox({
      docId: sync.docId,
      epoch,
      recipient: to.publicKey,
      recipientBoxKey: to.boxKey,
      keys: sync.keys.subset(epoch, withHistory),
      random: sync.clock.random,
    }),
  );
}

/** New epoch key, delivered by lockbox to every current member, then a snapshot under it. */
export async function rotate(sync: ProfileSync): Promise<number> {
  // Only an owner's rotation counts: anyone else's would leave a stray key in the ring and a
  // snapshot that deletes, locally, records the relay keeps (the vault refuses earlier, typed).
  if (!isAdminRole(sync.index.membership.roleOf(sync.clock.signer, sync.clock.now()))) throw new Error('NOT_OWNER: only an owner rotates the key');
  const epoch = sync.currentEpoch + 1;
  // The new key joins the ring only once the rotation is written (a refused op leaves no stray key).
  await sync.appendMembership({ kind: 'rotate', epoch });
  sync.keys.add(epoch, generateSymmetricKey(sync.clock.random));
  for (const r of sync.index.membership.recipients(sync.clock.now())) await sendLockbox(sync, r, r.role !== Role.clinician);
  // Open invites get the new key too: an invite made before this rotation (say, before a
  // clinician session) would otherwise find no key for the current epoch (INVITE_NO_KEY).
  for (const { invite: i, used } of sync.index.membership.state().invites.values()) {
    if (used || i.inviteExpiresAt <= sync.clock.now()) continue;
    const history = i.role !== Role.clinician && i.memberExpiresAt === 0;
    await sendLockbox(sync, { publicKey: i.inviteKey, boxKey: i.inviteBox, role: i.role }, history);
  }
  await sync.compact();
  return epoch;
}

/**
 * Adds or changes a member. Full members receive every epoch key (the whole history);
 * a member without history (by default a clinician) gets a fresh epoch: it reads the new
 * snapshot and what follows, nothing older.
 */
export async function grant(sync: ProfileSync, member: MemberEntry, o: { history?: boolean } = {}): Promise<void> {
  await sync.appendMembership({ kind: 'set', member });
  if (!(o.history ?? member.role !== Role.clinician)) {
    await rotate(sync);
    return;
  }
  for (const r of sync.index.membership.recipients(sync.clock.now())) {
    if (bytesEqual(r.publicKey, member.publicKey)) await sendLockbox(sync, r, true);
  }
}

/** Removes a member and rotates, so nothing written from now on opens with its keys. */
export async function revoke(sync: ProfileSync, publicKey: SigningPublicKey): Promise<number> {
  await sync.appendMembership({ kind: 'remove', publicKey });
  return rotate(sync);
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
  if (!o.history) await rotate(sync);
  await sync.appendMembership({
    kind: 'invite',
    invite: { inviteKey: keys.signing.publicKey, inviteBox: keys.box.publicKey, role: o.role, memberExpiresAt: o.memberExpiresAt, inviteExpiresAt: o.inviteExpiresAt },
  });
  await sendLockbox(sync, { publicKey: keys.signing.publicKey, boxKey: keys.box.publicKey, role: o.role }, o.history);
}

/** Removes every member whose access expired (one rotation for all); returns how many. */
export async function removeExpired(sync: ProfileSync): Promise<number> {
  const now = sync.clock.now();
  const expired = [...sync.index.membership.members().values()].filter((m) => m.expiresAt !== 0 && m.expiresAt <= now);
  if (expired.length === 0 || !isAdminRole(sync.index.membership.roleOf(sync.clock.signer, now))) return 0;
  for (const m of expired) await sync.appendMembership({ kind: 'remove', publicKey: m.publicKey });
  await rotate(sync);
  return expired.length;
}
