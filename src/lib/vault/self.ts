/**
 * What a person does about themselves (docs/decisions/0038): rename themselves everywhere, give
 * a profile a nickname of their own, and leave a profile.
 */
import { fromHex, toHex, type SigningPublicKey } from '../crypto/index.ts';
import { Role } from '../protocol/index.ts';
import { PROFILES_MAP } from '../../../crdt-schemas/system.ts';
import { VaultError } from './errors.ts';
import { engineOf } from './engine.ts';
import { announceSelf, cleanName, NAME_LIMIT, setPersonName } from './names.ts';
import { accessEnded } from './people.ts';
import type { Profile } from './profile.ts';
import type { VaultSession } from './session.ts';

/**
 * Renames the person: in their vault (so every device of theirs takes it) and, at once, in every
 * profile this device can open (the others follow when each device next opens one).
 * Empty or too long: NAME_EMPTY / NAME_TOO_LONG, and nothing is written.
 */
export async function renameSelf(session: VaultSession, name: string): Promise<string> {
  const clean = setPersonName(session.vault.profile, toHex(session.person.identity.signing.publicKey), name);
  for (const entry of session.profiles()) {
    const profile = await session.openProfile(entry.docId).catch(() => undefined);
    // A profile that cannot be opened here now learns the name when it next opens (keepAnnounced).
    if (profile) await announceSelf(profile, { name: clean }).catch(() => undefined);
  }
  await session.vault.flush().catch(() => undefined);
  return clean;
}

/**
 * The person's own name for a profile ("Mum"), beside the legal name the profile records. It is
 * private: it lives in the person's own vault, which no one else can open.
 */
export async function setNickname(session: VaultSession, docId: string, nickname: string): Promise<string> {
  const clean = cleanName(nickname, NAME_LIMIT);
  const map = session.vault.profile.systemMap(PROFILES_MAP);
  const entry = map.get(docId);
  if (!entry) throw new VaultError('PROFILE_UNKNOWN', 'this profile is not in the vault');
  if (entry.name !== clean) map.set(docId, { ...entry, name: clean });
  await session.vault.flush().catch(() => undefined);
  return clean;
}

/** The member identity (hex) this profile's device acts for, if it is a member now. */
function ownIdentity(profile: Profile): string | undefined {
  const state = profile.membershipState();
  const me = toHex(engineOf(profile).sync.signerKey);
  const identity = state.members.has(me) ? me : state.devices.get(me)?.identity;
  return identity !== undefined && state.members.has(identity) ? identity : undefined;
}

/**
 * Leaves a profile: an audit entry ("left"), then the member's own `remove` (membership.ts lets
 * a member remove itself), acknowledged by the relay before the caller drops anything. The
 * relay refuses the person's keys from then on and owners see them gone. The only owner may
 * not leave (LEAVE_LAST_OWNER; the relay would refuse it as RECORD_LAST_OWNER). Offline, or not
 * taken in time: LEAVE_NOT_SENT. Already not a member: nothing to send.
 */
export async function leaveProfile(profile: Profile, o: { timeoutMs?: number } = {}): Promise<void> {
  const me = ownIdentity(profile);
  if (me === undefined) {
    if (accessEnded(profile)) return; // removed already: nothing to send
    throw new VaultError('LEAVE_NOT_SENT', 'This device is not set up in this profile yet: try again once it has synced.');
  }
  const members = profile.membershipState().members;
  const otherOwner = [...members].some(([key, m]) => key !== me && m.role === Role.owner);
  if (members.get(me)?.role === Role.owner && !otherOwner) {
    throw new VaultError('LEAVE_LAST_OWNER', 'You are the only owner of this profile: make someone else an owner before you leave.');
  }
  if (profile.status.value.connection !== 'connected') throw new VaultError('LEAVE_NOT_SENT', 'Leaving needs a connection to the relay: try again when online.');
  const identity = fromHex(me) as SigningPublicKey;
  await profile.audit('revoke', identity, 'left');
  await engineOf(profile).sync.appendMembership({ kind: 'remove', publicKey: identity });
  await profile.flush(o.timeoutMs).catch(() => undefined);
  if (profile.status.value.pending !== 0) throw new VaultError('LEAVE_NOT_SENT', 'The relay did not confirm that you left: try again when online.');
}

/** Leaves a profile and drops it from this device and the person's vault (their other devices follow). */
export async function leaveAndForget(session: VaultSession, docId: string): Promise<void> {
  await leaveProfile(await session.openProfile(docId), { timeoutMs: 20_000 });
  await session.forgetProfile(docId);
}
