/**
 * A profile's sharing actions for its owners: invite a relative, start a clinician's live
 * session, remove members, revoke devices, read the audit trail (sessions that end are closed by
 * the vault's expiry sweep on an owner device, not by a screen's timer). Links are
 * only handed out once the membership change has reached the relay. For anyone who is not an
 * owner the vault refuses every one of them (NOT_OWNER) before signing anything; the message
 * is reported like any other failure.
 */
import {
  createInvitation,
  describeError,
  inviteState,
  memberSafetyCodes,
  personSafetyCode,
  removeMemberByKey,
  revokeDeviceByKey,
  Role,
  startClinicianSession,
  VaultError,
  type AuditTrail,
  type InviteState,
  type Profile,
  type RoleName,
} from '../vault/app.ts';
import { Subscribed } from './subscribed.svelte.ts';

export interface SharedLink {
  readonly link: string;
  readonly role: RoleName;
  /** When the link stops working. */
  readonly linkExpiresAt: number;
  /** When the access it grants ends (0 = never). */
  readonly accessEndsAt: number;
  /** The invite key (hex): `inviteState` follows it (a used link loses its QR). */
  readonly inviteKey: string;
}

export class ProfileSharing {
  private readonly profile: Profile;
  private readonly origin: string;
  /** Shows a message to the person (null clears it). */
  private readonly report: (message: string | null) => void;

  private readonly membership: Subscribed<null>;

  constructor(profile: Profile, origin: string, report: (message: string | null) => void) {
    this.profile = profile;
    this.origin = origin;
    this.report = report;
    this.membership = new Subscribed((n) => profile.watch(n), () => null);
  }

  /** Where a link handed out here stands: open, used (by whoever accepted it), expired (reactive). */
  inviteState(link: Pick<SharedLink, 'inviteKey'>, now = Date.now()): InviteState {
    this.membership.read();
    return inviteState(this.profile, link.inviteKey, now);
  }

  /** Each member's safety code (member identity hex → code), from the verified membership (reactive). */
  get safetyCodes(): Map<string, string> {
    this.membership.read();
    return memberSafetyCodes(this.profile);
  }

  invite(role: 'editor' | 'viewer' | 'owner'): Promise<SharedLink | null> {
    return this.act(async () => {
      await this.waitForRelay();
      const inv = await createInvitation(this.profile, { origin: this.origin, role: Role[role] });
      return { link: inv.link, role, linkExpiresAt: inv.inviteExpiresAt, accessEndsAt: inv.memberExpiresAt, inviteKey: inv.inviteKey };
    });
  }

  startClinicianSession(minutes: number, canEdit = false): Promise<SharedLink | null> {
    return this.act(async () => {
      await this.waitForRelay();
      const inv = await startClinicianSession(this.profile, { origin: this.origin, minutes, canEdit });
      return { link: inv.link, role: canEdit ? 'editor' : 'clinician', linkExpiresAt: inv.inviteExpiresAt, accessEndsAt: inv.memberExpiresAt, inviteKey: inv.inviteKey };
    });
  }

  async removeMember(key: string): Promise<boolean> {
    return (await this.act(() => removeMemberByKey(this.profile, key))) !== null;
  }

  async revokeDevice(key: string): Promise<boolean> {
    return (await this.act(() => revokeDeviceByKey(this.profile, key))) !== null;
  }

  auditTrail(): Promise<AuditTrail> {
    return this.profile.auditTrail();
  }

  /** Sharing writes membership: it must reach the relay before a link is handed out. */
  private async waitForRelay(): Promise<void> {
    await this.profile.status.when((s) => s.synced, 15_000).catch(() => {
      throw new VaultError('RELAY_UNREACHABLE', 'sharing needs a connection to the relay; try again when online');
    });
  }

  private async act<T>(action: () => Promise<T>): Promise<T | null> {
    this.report(null);
    try {
      return await action();
    } catch (e) {
      this.report(describeError(e));
      return null;
    }
  }
}

/** Members whose access has not ended by `now` (a session that ended is gone from the list, not a ghost). */
export function currentMembers<M extends { readonly expiresAt: number }>(members: readonly M[], now: number): M[] {
  return members.filter((m) => m.expiresAt === 0 || m.expiresAt > now);
}

/** The next moment a member's access ends after `now` (undefined: none), so a list can re-read then. */
export function nextEnding(members: readonly { readonly expiresAt: number }[], now: number): number | undefined {
  let next: number | undefined;
  for (const m of members) if (m.expiresAt > now && (next === undefined || m.expiresAt < next)) next = m.expiresAt;
  return next;
}

/** The person's own safety code, from the keys on this device (undefined for a guest). */
export function ownSafetyCode(session: { readonly person: Parameters<typeof personSafetyCode>[0] } | undefined): string | undefined {
  return session ? personSafetyCode(session.person) : undefined;
}
