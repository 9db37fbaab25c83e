/**
 * Who can open a profile, as the sharing screens list it: members (with their certified
 * devices) and open invitations, from the verified membership fold, each with the name people
 * know them by (vault/names.ts, docs/decisions/0038).
 */
import { fromHex, toHex } from '../crypto/index.ts';
import { Role, roleName, type MembershipState, type RoleName } from '../protocol/index.ts';
import { revokeDevice } from './person.ts';
import type { Profile } from './profile.ts';
import { engineOf } from './engine.ts';
import { announcements, inviteNames, newestSaid, type Announcements } from './names.ts';

export interface DeviceView {
  readonly key: string;
  readonly issuedAt: number;
  readonly revoked: boolean;
  /** The label its person gave it, as the device said in this profile (undefined: not said yet). */
  readonly label?: string | undefined;
  /** The device this profile is open on. */
  readonly current?: boolean;
}

export interface MemberView {
  /** Hex identity key (or single-key member). */
  readonly key: string;
  readonly role: RoleName;
  /** 0 = no end. */
  readonly expiresAt: number;
  readonly devices: readonly DeviceView[];
  /** The name they gave themselves, else the one their invitation was given; undefined if neither. */
  readonly name: string | undefined;
  /** This device belongs to this member. */
  readonly isYou: boolean;
}

export interface InviteView {
  readonly key: string;
  readonly role: RoleName;
  readonly inviteExpiresAt: number;
  readonly memberExpiresAt: number;
  /** Whom the owner made it for, if they said. */
  readonly name: string | undefined;
}

/** What names are read from, once per listing (`nameSources`, for a screen naming many keys at once). */
export interface NameSources {
  readonly state: MembershipState;
  readonly said: Announcements;
  readonly chosen: Map<string, string>;
  readonly invites: Map<string, string>;
}

export const nameSources = (profile: Profile): NameSources => ({
  state: profile.membershipState(),
  said: announcements(profile),
  chosen: profile.displayNames(),
  invites: inviteNames(profile),
});

const devicesOf = (state: MembershipState, identity: string): string[] =>
  [...state.devices].filter(([, d]) => d.identity === identity).map(([key]) => key);

/** A person's name (identity hex): their own newest word, then a writer's name in the profile, then their invitation's. */
function personName(src: NameSources, identity: string): string | undefined {
  const keys = [identity, ...devicesOf(src.state, identity)];
  const own = newestSaid(src.said.names, keys) ?? keys.map((k) => src.chosen.get(k)).find((n) => n !== undefined);
  if (own !== undefined) return own;
  for (const [inviteKey, i] of src.state.invites) if (i.acceptedBy === identity) return src.invites.get(inviteKey);
  return undefined;
}

export function membersOf(profile: Profile, now = Date.now()): MemberView[] {
  const src = nameSources(profile);
  const { state } = src;
  const me = toHex(engineOf(profile).sync.signerKey);
  const out: MemberView[] = [];
  for (const [key, m] of state.members) {
    if (m.expiresAt !== 0 && m.expiresAt <= now) continue;
    const devices: DeviceView[] = devicesOf(state, key).map((dev) => ({
      key: dev,
      issuedAt: state.devices.get(dev)!.cert.issuedAt,
      revoked: state.revokedDevices.has(dev),
      label: src.said.labels.get(dev)?.text,
      current: dev === me,
    }));
    const name = personName(src, key);
    out.push({ key, role: roleName(m.role) ?? 'viewer', expiresAt: m.expiresAt, devices, name, isYou: key === me || devices.some((d) => d.key === me) });
  }
  return out.sort((a, b) => Role[a.role] - Role[b.role] || (a.name ?? a.key).localeCompare(b.name ?? b.key));
}

export function openInvites(profile: Profile, now = Date.now()): InviteView[] {
  const names = inviteNames(profile);
  const out: InviteView[] = [];
  for (const [key, i] of profile.membershipState().invites) {
    if (i.used || i.invite.inviteExpiresAt <= now) continue;
    out.push({ key, role: roleName(i.invite.role) ?? 'viewer', inviteExpiresAt: i.invite.inviteExpiresAt, memberExpiresAt: i.invite.memberExpiresAt, name: names.get(key) });
  }
  return out;
}

/**
 * The name for any key a screen shows (a member identity, one of its devices, an invitation,
 * also after they lost access): the person's name, or the invitation's; undefined if unknown.
 */
export function nameOfKey(profile: Profile, key: string, sources?: NameSources): string | undefined {
  const src = sources ?? nameSources(profile);
  const identity = src.state.devices.get(key)?.identity ?? key;
  return personName(src, identity) ?? src.invites.get(key);
}

/** Whether this device's access to the profile ended: its person was removed (or left), or this device was revoked. */
export function accessEnded(profile: Profile): boolean {
  const state = profile.membershipState();
  const me = toHex(engineOf(profile).sync.signerKey);
  const identity = state.devices.get(me)?.identity ?? me;
  return (state.former.has(identity) && !state.members.has(identity)) || state.revokedDevices.has(me);
}

/**
 * Owners or the device's own person: stop one device; an owner then rotates, so it reads nothing
 * new (a member who is no owner cannot rotate: the relay refuses the device's keys at once).
 */
export async function revokeDeviceByKey(profile: Profile, deviceKey: string): Promise<void> {
  const owner = profile.isOwner;
  await revokeDevice(profile, fromHex(deviceKey) as never);
  if (owner && profile.isOwner) await profile.rotateKey();
}

export async function removeMemberByKey(profile: Profile, memberKey: string): Promise<void> {
  await profile.removeMember(fromHex(memberKey) as never);
}
