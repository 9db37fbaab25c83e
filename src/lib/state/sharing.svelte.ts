/**
 * A profile's sharing actions for its owners: invite a relative, start a clinician's live
 * session, remove members, revoke devices, end expired sessions, read the audit trail. Links are
 * only handed out once the membership change has reached the relay. For anyone who is not an
 * owner the vault refuses every one of them (NOT_OWNER) before signing anything; the message
 * is reported like any other failure.
 */
import {
  createInvitation,
  describeError,
  removeMemberByKey,
  revokeDeviceByKey,
  Role,
  startClinicianSession,
  VaultError,
  type AuditTrail,
  type Profile,
  type RoleName,
} from '../vault/app.ts';

export interface SharedLink {
  readonly link: string;
  readonly role: RoleName;
  /** When the link stops working. */
  readonly linkExpiresAt: number;
  /** When the access it grants ends (0 = never). */
  readonly accessEndsAt: number;
}

export class ProfileSharing {
  private readonly profile: Profile;
  private readonly origin: string;
  /** Shows a message to the person (null clears it). */
  private readonly report: (message: string | null) => void;

  constructor(profile: Profile, origin: string, report: (message: string | null) => void) {
    this.profile = profile;
    this.origin = origin;
    this.report = report;
  }

  invite(role: 'editor' | 'viewer' | 'owner'): Promise<SharedLink | null> {
    return this.act(async () => {
      await this.waitForRelay();
      const inv = await createInvitation(this.profile, { origin: this.origin, role: Role[role] });
      return { link: inv.link, role, linkExpiresAt: inv.inviteExpiresAt, accessEndsAt: inv.memberExpiresAt };
    });
  }

  startClinicianSession(minutes: number, canEdit = false): Promise<SharedLink | null> {
    return this.act(async () => {
      await this.waitForRelay();
      const inv = await startClinicianSession(this.profile, { origin: this.origin, minutes, canEdit });
      return { link: inv.link, role: canEdit ? 'editor' : 'clinician', linkExpiresAt: inv.inviteExpiresAt, accessEndsAt: inv.memberExpiresAt };
    });
  }

  /** Ends sessions whose time is up and rotates (the relay already cut them off). */
  async endExpiredSessions(): Promise<number> {
    return (await this.act(() => this.profile.endExpiredAccess())) ?? 0;
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
