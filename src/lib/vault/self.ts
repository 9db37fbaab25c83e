/**
 * What a person does about themselves (docs/decisions/0038): rename themselves everywhere, give
 * a profile a nickname of their own, and leave a profile.
 */
import { fromHex, toHex, type SigningPublicKey } from '../crypto/index.ts';
import { parseAuditEntry, Role } from '../protocol/index.ts';
import { PROFILES_MAP } from '../../../crdt-schemas/system.ts';
import { VaultError } from './errors.ts';
import { engineOf } from './engine.ts';
import { announceSelf, cleanName, NAME_LIMIT, setPersonName } from './names.ts';
import { accessEnded } from './people.ts';
import { endsAccess, type Profile } from './profile.ts';
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
  const timeoutMs = o.timeoutMs ?? 20_000;
  // Everything written before (this device's certificate, say) is taken first.
  await profile.flush(timeoutMs).catch(() => undefined);
  const identity = fromHex(me) as SigningPublicKey;
  // The note first, on its own: arriving with the remove, a replica would fold the remove first
  // (membership before everything else) and refuse the note of someone no longer a member.
  await profile.audit('revoke', identity, 'left');
  await profile.flush(timeoutMs).catch(() => undefined);
  if (profile.status.value.pending !== 0) throw new VaultError('LEAVE_NOT_SENT', 'Leaving needs a connection to the relay: try again when online.');
  await engineOf(profile).sync.appendMembership({ kind: 'remove', publicKey: identity });
  if (!(await departureTaken(profile, timeoutMs))) throw new VaultError('LEAVE_NOT_SENT', 'The relay did not confirm that you left: try again when online.');
}

/**
 * The relay took the departure: it acknowledged everything, or it closed this device out as no
 * longer a member (it does that right after applying the remove, possibly before the
 * acknowledgement arrives here).
 */
function departureTaken(profile: Profile, timeoutMs: number): Promise<boolean> {
  const taken = () => profile.status.value.pending === 0 || endsAccess(profile.refusal.value);
  return new Promise((resolve) => {
    const stops: Array<() => void> = [];
    const done = (value: boolean) => {
      clearTimeout(timer);
      queueMicrotask(() => stops.forEach((stop) => stop()));
      resolve(value);
    };
    const timer = setTimeout(() => done(taken()), timeoutMs);
    void profile.flush(timeoutMs).catch(() => undefined);
    stops.push(profile.status.subscribe(() => taken() && done(true)), profile.refusal.subscribe(() => taken() && done(true)));
  });
}

/** Leaves a profile and drops it from this device and the person's vault (their other devices follow). */
export async function leaveAndForget(session: VaultSession, docId: string): Promise<void> {
  await leaveProfile(await session.openProfile(docId), { timeoutMs: 20_000 });
  await session.forgetProfile(docId);
}

/**
 * Identities (hex) that left this profile themselves: a `revoke` audit entry with detail `left`
 * whose subject is the key of the person who signed it (their identity or one of its devices).
 */
function departedByThemselves(profile: Profile): Set<string> {
  const devices = profile.membershipState().devices;
  const out = new Set<string>();
  for (const [author, entries] of engineOf(profile).sync.auditEntries()) {
    for (const bytes of entries) {
      const parsed = parseAuditEntry(bytes);
      if (!parsed.ok) continue;
      const e = parsed.value.entry;
      if (e.kind !== 'revoke' || e.detail !== 'left' || !e.subject || toHex(e.actor) !== author) continue;
      const subject = toHex(e.subject);
      if (author === subject || devices.get(author)?.identity === subject) out.add(subject);
    }
  }
  return out;
}

/**
 * On an owner's device: after a member left by themselves, rotate the key. A leaver cannot
 * rotate (most roles may not), and until a snapshot covers its last records, a replica loading
 * the profile cold finds records by someone who is no longer a member and refuses them
 * (RECORD_NOT_MEMBER; threat model 24c); the rotation's snapshot covers them, and its new key
 * goes only to those who stayed. Owners' own removals already rotate (`removeMember`).
 * Returns the stop function.
 */
export function keepDeparturesCovered(profile: Profile): () => void {
  let running = false;
  const uncovered = (): boolean => {
    const state = profile.membershipState();
    const stale = [...state.former].filter(([, f]) => f.epoch === state.epoch).map(([key]) => key);
    if (stale.length === 0) return false;
    const left = departedByThemselves(profile);
    return stale.some((key) => left.has(key));
  };
  const check = (): void => {
    if (running || !profile.isOwner || !uncovered()) return;
    running = true;
    profile
      .rotateKey()
      .catch(() => undefined) // retried on the next change
      .finally(() => (running = false));
  };
  const stop = profile.watch(check);
  check();
  return stop;
}
