/**
 * Joining from an invite link (docs/decisions/0039). The link is read first without using it
 * (what it grants, whether it still works); then:
 * - a device with a vault accepts into it;
 * - a lasting invite (viewer, editor, owner) on a device with no vault: "Create my vault and
 *   join" (or restore one from its recovery code and join), so the membership is kept on this
 *   device and survives a reload; the recovery code is shown once the profile is in;
 * - a live session's link (it ends): also a memory-only guest session, which keeps nothing.
 * A guest is never offered a lasting invite (the vault refuses it too: GUEST_NEEDS_SESSION).
 */
import type { RoleName } from '../vault/app.ts';
import type { AppState } from './app.svelte.ts';

/** What the join screen says about an invite before it is used. */
export interface InviteSummary {
  readonly role: RoleName;
  /** A live session (its access ends at `accessEndsAt`), not a lasting membership. */
  readonly session: boolean;
  readonly accessEndsAt: number;
  readonly linkExpiresAt: number;
}

export interface RecordNaming {
  /** Whose record it is, as this person's family list will show it. */
  readonly name: string;
  readonly relationship: string;
}

export interface NewPerson {
  readonly displayName: string;
  readonly deviceLabel: string;
}

export class JoinFlow {
  /** Null while the link is being read, or when it was refused (`refused` says why). */
  invite = $state.raw<InviteSummary | null>(null);
  refused = $state<string | null>(null);
  /** Set once a new vault was made here: shown after the join, before going on. */
  recoveryCode = $state<string | null>(null);
  /** The profile joined (into the vault, or as a guest). */
  joined = $state<string | null>(null);
  /** A new vault is being made (or restored) and the invite accepted: one step for the screen. */
  settingUp = $state(false);
  private readonly app: AppState;
  private readonly link: string;

  constructor(app: AppState, link: string) {
    this.app = app;
    this.link = link;
  }

  /** Reads the invite without using it. */
  async check(): Promise<void> {
    this.refused = null;
    const preview = await this.app.previewInvite(this.link);
    if (!preview) {
      this.refused = this.app.error ?? 'This invite could not be read.';
      return;
    }
    this.invite = {
      role: preview.roleName,
      session: preview.memberExpiresAt !== 0,
      accessEndsAt: preview.memberExpiresAt,
      linkExpiresAt: preview.inviteExpiresAt,
    };
  }

  /** A guest session is offered only for a live session's link (it ends; nothing is kept). */
  get offersGuest(): boolean {
    return this.invite?.session === true;
  }

  /** This device already holds a vault: accept into it. */
  async joinIntoVault(r: RecordNaming): Promise<boolean> {
    this.joined = await this.app.join(this.link, { ...r, displayName: this.app.displayName });
    return this.joined !== null;
  }

  /** No vault here: make one (identity, this device, recovery code), then accept into it. */
  async createVaultAndJoin(o: NewPerson & RecordNaming): Promise<boolean> {
    return this.settle(async () => {
      const code = await this.app.createIdentity({ displayName: o.displayName, deviceLabel: o.deviceLabel });
      if (!code) return false;
      this.recoveryCode = code;
      return this.joinIntoVault(o);
    });
  }

  /** No vault here, but the person has one: restore it from the recovery code, then accept. */
  async restoreAndJoin(o: NewPerson & RecordNaming & { code: string }): Promise<boolean> {
    return this.settle(async () => {
      if (!(await this.app.restore({ code: o.code, displayName: o.displayName, deviceLabel: o.deviceLabel }))) return false;
      return this.joinIntoVault(o);
    });
  }

  /** A live session only: throwaway keys in memory; closing or reloading the tab ends it. */
  async joinAsGuest(displayName: string): Promise<boolean> {
    if (!this.offersGuest) return false;
    this.joined = await this.app.join(this.link, { name: '', relationship: '', displayName });
    return this.joined !== null;
  }

  private async settle(steps: () => Promise<boolean>): Promise<boolean> {
    this.settingUp = true;
    try {
      return await steps();
    } finally {
      this.settingUp = false;
    }
  }
}
