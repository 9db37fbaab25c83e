/**
 * Who can open a profile, as the sharing screens list it: members (with their certified
 * devices) and open invitations, from the verified membership fold.
 */
import { fromHex, toHex } from '../crypto/index.ts';
import { Role, roleName, type RoleName } from '../protocol/index.ts';
import { revokeDevice } from './person.ts';
import type { Profile } from './profile.ts';
import { engineOf } from './engine.ts';

export interface DeviceView {
  readonly key: string;
  readonly issuedAt: number;
  readonly revoked: boolean;
}

export interface MemberView {
  /** Hex identity key (or single-key member). */
  readonly key: string;
  readonly role: RoleName;
  /** 0 = no end. */
  readonly expiresAt: number;
  readonly devices: readonly DeviceView[];
  /** A name one of its devices chose, if any. */
  readonly name: string | undefined;
  /** This device belongs to this member. */
  readonly isYou: boolean;
}

export interface InviteView {
  readonly key: string;
  readonly role: RoleName;
  readonly inviteExpiresAt: number;
  readonly memberExpiresAt: number;
}


export function membersOf(profile: Profile, now = Date.now()): MemberView[] {
  const state = engineOf(profile).sync.index.membership.state();
  const names = profile.displayNames();
  const me = toHex(engineOf(profile).sync.signerKey);
  const out: MemberView[] = [];
  for (const [key, m] of state.members) {
    if (m.expiresAt !== 0 && m.expiresAt <= now) continue;
    const devices: DeviceView[] = [];
    for (const [dev, d] of state.devices) if (d.identity === key) devices.push({ key: dev, issuedAt: d.cert.issuedAt, revoked: state.revokedDevices.has(dev) });
    const name = names.get(key) ?? devices.map((d) => names.get(d.key)).find((n) => n !== undefined);
    out.push({ key, role: roleName(m.role) ?? 'viewer', expiresAt: m.expiresAt, devices, name, isYou: key === me || devices.some((d) => d.key === me) });
  }
  return out.sort((a, b) => Role[a.role] - Role[b.role] || (a.name ?? a.key).localeCompare(b.name ?? b.key));
}

export function openInvites(profile: Profile, now = Date.now()): InviteView[] {
  const out: InviteView[] = [];
  for (const [key, i] of engineOf(profile).sync.index.membership.state().invites) {
    if (i.used || i.invite.inviteExpiresAt <= now) continue;
    out.push({ key, role: roleName(i.invite.role) ?? 'viewer', inviteExpiresAt: i.invite.inviteExpiresAt, memberExpiresAt: i.invite.memberExpiresAt });
  }
  return out;
}

/** Owners or the device's own person: stop one device (then rotate, so it reads nothing new). */
export async function revokeDeviceByKey(profile: Profile, deviceKey: string): Promise<void> {
  await revokeDevice(profile, fromHex(deviceKey) as never);
  await profile.rotateKey();
}

export async function removeMemberByKey(profile: Profile, memberKey: string): Promise<void> {
  await profile.removeMember(fromHex(memberKey) as never);
}
