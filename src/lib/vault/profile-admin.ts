/**
 * The owner's operations on a profile (who has access, its key, its erasure) and its audit chain
 * (profile.ts `Profile` extends this). Each waits for the verified state first, checks the owner
 * before anything is sealed, then writes, in that order. Separate from the facade's wiring so the
 * operations that change who may read the record are read in one place.
 */
import type { SigningPublicKey } from '../crypto/index.ts';
import type { AuditKindName, MemberEntry } from '../protocol/index.ts';
import { grant, removeExpired, revoke, rotate } from '../sync/admin.ts';
import { readAuditTrail, recordAudit, type AuditTrail } from './audit-trail.ts';
import { ProfileView } from './profile-view.ts';

export abstract class ProfileAdmin extends ProfileView {
  /** Seals pending local edits, and if connected waits until the relay acknowledged them (profile.ts). */
  abstract flush(timeoutMs?: number): Promise<void>;

  /** Owners: add or change a member (clinicians get a fresh epoch without history by default). */
  async addMember(member: MemberEntry, o: { history?: boolean } = {}): Promise<void> {
    await this.cache.verifiedFirst();
    this.requireOwner('add people or change their role');
    await grant(this.sync, member, o);
    await this.audit('grant', member.publicKey, `role ${member.role}`);
  }

  /** Owners: remove a member and rotate the key; their connections are closed by the relay. */
  async removeMember(publicKey: SigningPublicKey): Promise<void> {
    await this.cache.verifiedFirst();
    this.requireOwner('remove people');
    await revoke(this.sync, publicKey);
    await this.audit('revoke', publicKey);
    await this.audit('rotate', undefined, `epoch ${this.sync.currentEpoch}`);
  }

  /** Owners: end every session or membership whose time is up (relay already cut them off), and rotate. */
  async endExpiredAccess(): Promise<number> {
    await this.cache.verifiedFirst();
    this.requireOwner('end sessions');
    const ended = await removeExpired(this.sync);
    if (ended > 0) await this.audit('session-end', undefined, `${ended} ended; epoch ${this.sync.currentEpoch}`);
    return ended;
  }

  /** Owners: a new epoch key for everyone current (lockboxes) and a snapshot under it. */
  async rotateKey(): Promise<number> {
    await this.cache.verifiedFirst();
    this.requireOwner('change the profile key');
    const epoch = await rotate(this.sync);
    await this.audit('rotate', undefined, `epoch ${epoch}`);
    return epoch;
  }

  /**
   * Owners: orders the profile deleted everywhere (decision 0035). The erase record is sealed
   * like any owner record and resolves once the relay stored it; the relay then drops the
   * profile and refuses it for good (PROFILE_ERASED). The caller drops this device's copy.
   */
  async eraseEverywhere(timeoutMs = 30_000): Promise<{ erasedAt: number; record: string }> {
    await this.cache.verifiedFirst();
    this.requireOwner('delete this profile everywhere');
    const erasedAt = this.ctx.now();
    const record = await this.sync.appendErase(erasedAt);
    await this.flush(timeoutMs);
    return { erasedAt, record };
  }

  /** Appends an event to this device's signed audit chain in the profile. */
  async audit(kind: AuditKindName, subject?: Uint8Array, detail?: string): Promise<void> {
    await this.cache.verifiedFirst();
    await recordAudit(this.sync, { signer: this.ctx.signer, engine: this.ctx.engine, kind, subject, detail, now: this.ctx.now() });
  }

  /** The verified audit trail (every device's chain checked). */
  async auditTrail(): Promise<AuditTrail> {
    await this.cache.verifiedFirst();
    return readAuditTrail(this.sync, this.ctx.engine);
  }

  /** The decrypted record for export; the export itself is audited. */
  async exportJSON(): Promise<Record<string, unknown>> {
    this.requireMayExport();
    await this.cache.verifiedFirst();
    await this.audit('export');
    return this.toJSON();
  }
}
