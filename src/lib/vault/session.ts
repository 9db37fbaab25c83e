/**
 * One person on one device, as the app sees it: their identity and device keys (wrapped at rest),
 * their family vault (the list of profiles they can open, with keys) and the profiles they open.
 *
 * Offline first: a device that has been set up opens everything from its own encrypted store
 * and connects in the background. Connections authenticate as the person's identity while
 * records are signed by the device key (docs/decisions/0013), so a device never waits for its
 * certificate to reach the relay before it can push that certificate.
 */
import { fromHex, type SigningPublicKey, defaultEd25519Engine } from '../crypto/index.ts';
import { roleName } from '../protocol/index.ts';
import { VaultError } from './errors.ts';
import { acceptInvitation } from './invite.ts';
import { createPerson, restorePerson, revokeDevice, type Person } from './person.ts';
import { vaultAccess, type VaultEntry } from './person-vault.ts';
import { createDeviceLink, readDeviceLink, type LinkRecord } from './device-link.ts';
import { Profile, type ProfileAccess } from './profile.ts';
import type { UnlockedKeys } from './app-lock.ts';
import { engineOf } from './engine.ts';
import { accessWhenKnown, openAsThisDevice, socketOf, withPersistence } from './session-open.ts';
import { DEVICE_LINKS_MAP } from '../../../crdt-schemas/system.ts';
import { makeAppBackup, restoreAppBackup } from './backup-session.ts';
import type { BackupProgress } from './backup.ts';
import type { Persistence } from '../storage/types.ts';

export type { SessionEnv } from './session-open.ts';
import type { SessionEnv } from './session-open.ts';
import { confirmErasure, eraseProfile, type ConfirmedErasure } from './erase.ts';
import { probeErasures, sweepOnConnect } from './erase-sweep.ts';
import { enrollOnDevice, resumeOnDevice, type SessionParts } from './session-setup.ts';
import { VaultSessionView } from './session-view.ts';

export class VaultSession extends VaultSessionView {
  private readonly open = new Map<string, Promise<Profile>>();
  /** Erased profiles being dropped from this device (decision 0035). */
  private readonly dropping = new Map<string, Promise<ConfirmedErasure>>();

  private constructor(env: SessionEnv, p: SessionParts) {
    super(env, p.sockets, p.person, p.device, p.vault, p.displayName, p.cacheKey);
  }

  /**
   * The person already set up on this device, or undefined (show onboarding). A device behind a
   * passkey lock needs the keys unlocking gave back (vault/app-lock.ts), else APP_LOCKED.
   */
  static async resume(env: SessionEnv, unlocked?: UnlockedKeys): Promise<VaultSession | undefined> {
    const parts = await resumeOnDevice(env, unlocked);
    return parts && new VaultSession(env, parts);
  }

  /** A new person: identity, this device, an empty family vault. Show the recovery code once. */
  static async create(given: SessionEnv, o: { displayName: string; deviceLabel: string }): Promise<{ session: VaultSession; recoveryCode: string }> {
    const env = withPersistence(given);
    const { person, recoveryCode } = createPerson({ random: env.random });
    const access = vaultAccess(person);
    const genesis = await Profile.create({
      signer: person.identity.signing,
      box: person.identity.box,
      genesisNonce: access.genesisNonce,
      epochKey: access.epochKeys.get(0),
      persistence: env.persistence,
      engine: env.engine,
      random: env.random,
      now: env.now,
    });
    await genesis.close();
    const session = await VaultSession.enroll(env, person, o);
    return { session, recoveryCode };
  }

  /**
   * A new device from a one-time link shown by another device of the person (QR): the link
   * carries the identity, sealed under a secret in the link itself (docs/decisions/0009). Single
   * use is enforced by the person's devices: a link already used by another device is refused and
   * this device keeps nothing.
   */
  static async joinWithLink(env: SessionEnv, url: string, o: { displayName: string; deviceLabel: string }): Promise<VaultSession> {
    const link = readDeviceLink(url, (env.now ?? Date.now)()); // throws before any storage or connection
    let record: LinkRecord | undefined;
    // Checked once the vault is in, before this device certifies itself or stores anything.
    const unused = (vault: Profile) => {
      record = vault.systemMap(DEVICE_LINKS_MAP).get(link.linkId);
      if (!record || record.usedBy !== null) throw new VaultError('LINK_USED', 'this device link was already used or withdrawn; make a new one');
    };
    const session = await VaultSession.enroll(env, link.person, o, true, unused);
    session.vault.profile.systemMap(DEVICE_LINKS_MAP).set(link.linkId, { expiresAt: record!.expiresAt, usedBy: session.deviceId });
    return session;
  }

  /** An existing device: a one-time link (for a QR code) that adds a new device of this person. */
  async createDeviceLink(origin: string): Promise<{ url: string; linkId: string; expiresAt: number }> {
    if (!this.env.relayUrl) throw new VaultError('RELAY_NOT_CONFIGURED', 'linking a device needs the relay');
    return createDeviceLink(this.vault, { origin, relayUrl: this.env.relayUrl, now: this.env.now, random: this.env.random });
  }

  /** Restores a person from their recovery code on a new device (needs the relay once). */
  static async restore(env: SessionEnv, o: { code: string; displayName: string; deviceLabel: string }): Promise<VaultSession> {
    const person = restorePerson(o.code);
    return VaultSession.enroll(env, person, o, true);
  }

  /**
   * A fresh install from a backup file and the recovery code (docs/decisions/0033): verified,
   * stored, then this install is enrolled as a new device of the identity. Refused where this
   * device already holds a person (BACKUP_VAULT_EXISTS): leave that one first.
   */
  static async restoreFromBackup(given: SessionEnv, o: { file: Uint8Array; code: string; displayName?: string; deviceLabel: string; progress?: BackupProgress }): Promise<VaultSession> {
    if (await given.store.load()) throw new VaultError('BACKUP_VAULT_EXISTS', 'this device already holds a vault: nothing was restored');
    const env = withPersistence(given);
    const person = restorePerson(o.code);
    const restored = await restoreAppBackup(env as SessionEnv & { persistence: Persistence }, person, o.file, o.progress);
    return VaultSession.enroll(env, person, { displayName: o.displayName ?? restored.displayName ?? '', deviceLabel: o.deviceLabel });
  }

  /** One encrypted archive of the vault and every profile in it, as this device holds them. */
  backup(o: { progress?: BackupProgress } = {}): Promise<Uint8Array> {
    return makeAppBackup(this, { now: this.env.now, random: this.env.random, progress: o.progress });
  }

  /** This device enrolled as a new device of `person` (session-setup.ts `enrollOnDevice`). */
  private static async enroll(env: SessionEnv, person: Person, o: { displayName: string; deviceLabel: string }, fromRelay = false, beforeCertify?: (vault: Profile) => void): Promise<VaultSession> {
    return new VaultSession(env, await enrollOnDevice(env, person, o, fromRelay, beforeCertify));
  }

  /** A new family member's profile, owned by this person; works offline (pushed on reconnect). */
  async createProfile(o: { name: string; relationship: string }): Promise<VaultEntry> {
    const created = await Profile.create({
      signer: this.person.identity.signing,
      box: this.person.identity.box,
      persistence: this.env.persistence,
      engine: this.env.engine,
      random: this.env.random,
      now: this.env.now,
    });
    const access = created.access;
    await created.close();
    const entry = await this.vault.addProfile({ name: o.name.trim(), relationship: o.relationship.trim(), access, role: 'owner' });
    return entry;
  }

  /** Opens a profile from the vault as this device (cached: one Profile per document). */
  openProfile(docId: string): Promise<Profile> {
    let p = this.open.get(docId);
    if (!p) {
      p = accessWhenKnown(this.vault, docId).then((access) =>
        openAsThisDevice(this.env, this.person, this.device, access, { waitForRelay: false, socket: socketOf(this.env, this.sockets), cacheKey: this.cacheKey }),
      );
      p.catch(() => this.open.delete(docId));
      // A cache that did not match its verified records: the next open rebuilds from them.
      void p.then((profile) => profile.whenVerified()).then((r) => {
        if (r === 'mismatch') this.open.delete(docId);
      }, () => undefined);
      this.open.set(docId, p);
    }
    return p;
  }

  /** Accepts an invite link as this person and keeps the profile in their vault. */
  async acceptInvitation(link: string, o: { name: string; relationship: string }): Promise<VaultEntry> {
    if (!this.env.relayUrl) throw new VaultError('RELAY_NOT_CONFIGURED', 'joining needs a connection to the relay');
    const joined = await acceptInvitation(link, {
      signer: this.person.identity.signing,
      box: this.person.identity.box,
      relayUrl: this.env.relayUrl,
      engine: this.env.engine,
      now: this.env.now,
      minReconnectDelayMs: this.env.minReconnectDelayMs,
      timeoutMs: this.env.timeoutMs,
      // The join's catch-up and its own audit records go to this device's store, so the profile
      // is here at once (offline right after joining, too) and a later open knows its own chain.
      persistence: this.env.persistence,
    });
    const role = roleName(joined.role) ?? 'viewer';
    const access: ProfileAccess = { docId: joined.access.docId, epoch: engineOf(joined).sync.currentEpoch, epochKeys: new Map(engineOf(joined).sync.keys.entries()) };
    await joined.close();
    return this.vault.addProfile({ name: o.name.trim(), relationship: o.relationship.trim(), access, role });
  }

  /**
   * Owners: deletes a profile everywhere (decision 0035) once `typedName` matches its name in
   * the vault, then drops it here like any device that learns of it.
   */
  async eraseProfileEverywhere(docId: string, typedName: string): Promise<ConfirmedErasure> {
    const entry = this.profiles().find((p) => p.docId === docId);
    if (!entry) throw new VaultError('PROFILE_UNKNOWN', 'this profile is not in the vault');
    await eraseProfile(await this.openProfile(docId), { expectedName: entry.name, typedName, timeoutMs: this.env.timeoutMs });
    return this.dropErasedProfile(docId);
  }

  /**
   * The relay refused a profile as erased (PROFILE_ERASED) or its erase order arrived: verify the
   * owner's order against this copy (`confirmErasure`, else ERASE_UNCONFIRMED and nothing
   * changes), then delete this device's copy and cache, its entry and keys in the person's vault,
   * and note it in the vault's audit trail.
   */
  dropErasedProfile(docId: string, tombstone?: Uint8Array): Promise<ConfirmedErasure> {
    // Once per profile: the owner's own erase and the relay's refusal of it both lead here.
    let dropping = this.dropping.get(docId);
    if (!dropping) {
      dropping = this.drop(docId, tombstone);
      this.dropping.set(docId, dropping);
      dropping.catch(() => this.dropping.delete(docId));
    }
    return dropping;
  }

  private async drop(docId: string, tombstone?: Uint8Array): Promise<ConfirmedErasure> {
    const profile = await this.openProfile(docId);
    const order = await confirmErasure(profile, { timeoutMs: this.env.timeoutMs, tombstone });
    await this.vault.profile.audit('erase', fromHex(order.by), `profile ${docId} erased at ${order.erasedAt}`);
    await this.forgetProfile(docId);
    return order;
  }

  /**
   * Drops a profile from this device and the person's vault: its copy, cache and keys (left, or
   * access ended; decision 0038). Nothing is sent to the profile itself.
   */
  async forgetProfile(docId: string): Promise<void> {
    const open = this.open.get(docId);
    this.open.delete(docId);
    await (await open?.catch(() => undefined))?.close();
    await this.env.erase?.([docId]);
    await this.vault.removeProfile(docId);
  }

  /**
   * Learns of erasures proactively (decision 0035, amended 2026-12-02): each time the family
   * vault's connection comes up (start, reconnect), asks the relay about every profile held here
   * and drops those whose owner-signed order verifies against this copy (`dropErasedProfile`),
   * even if never opened again. Returns the stop.
   */
  watchErasures(o: { minIntervalMs?: number; onDropped?: (docId: string) => void } = {}): () => void {
    const relayUrl = this.env.relayUrl;
    if (!relayUrl) return () => undefined;
    return sweepOnConnect(this.vault.profile.status, () => this.sweepErased(relayUrl, o.onDropped), { now: this.env.now, minIntervalMs: o.minIntervalMs });
  }

  private async sweepErased(relayUrl: string, onDropped?: (docId: string) => void): Promise<void> {
    const engine = this.env.engine ?? (await defaultEd25519Engine());
    const probes = await probeErasures(
      this.profiles().map((p) => p.docId),
      { relayUrl, signer: this.person.identity.signing, engine, now: this.env.now, timeoutMs: this.env.timeoutMs },
    );
    for (const probe of probes) {
      if (!probe.erased) continue;
      // ERASE_UNCONFIRMED (an order that does not verify here): kept, as on a refusal.
      const dropped = await this.dropErasedProfile(probe.docId, probe.record).then(() => true, () => false);
      if (dropped) onDropped?.(probe.docId);
    }
  }

  /**
   * Stops one of this person's other devices: revoked in the vault and in every profile they own
   * (then rotated there, so it reads nothing new). Profiles shared with them by others are the
   * owners' to rotate; the revocation itself is recorded there too.
   */
  async revokeDevice(key: string): Promise<void> {
    if (key === this.deviceId) throw new VaultError('DEVICE_REVOKE_SELF', 'this device cannot revoke itself; use "Leave this device"');
    await revokeDevice(this.vault.profile, fromHex(key) as SigningPublicKey);
    for (const entry of this.profiles()) {
      const profile = await this.openProfile(entry.docId);
      if (!engineOf(profile).sync.index.membership.state().devices.has(key)) continue;
      await revokeDevice(profile, fromHex(key) as SigningPublicKey);
      if (entry.role === 'owner') await profile.rotateKey();
    }
  }

  /** Removes this device's keys and encrypted copies (the vault stays on the person's other devices and the relay). */
  async forgetDevice(): Promise<void> {
    const names = [this.vault.profile.name, ...this.profiles().map((p) => p.docId)];
    await this.close();
    await this.env.store.clear();
    await this.env.erase?.(names);
  }

  /** The network is back (the browser's "online" event): every profile's socket tries now. */
  reconnectNow(): void {
    this.sockets.reconnectNow();
    // Also a profile waiting out a refusal's back-off on a socket that stayed up.
    this.vault.profile.reconnectNow();
    for (const p of this.open.values()) void p.then((profile) => profile.reconnectNow(), () => undefined);
  }

  /** The network is gone ("offline" event): the sockets are dead even if they have not noticed. */
  networkLost(): void {
    this.sockets.networkLost();
    // The family list's status shows offline at once too (the open profiles hear the browser's
    // event from their own screens; a call here would land after a quick reconnectNow).
    this.vault.profile.networkLost();
  }

  async close(): Promise<void> {
    const opened = [...this.open.values()];
    this.open.clear();
    for (const p of opened) await (await p.catch(() => undefined))?.close();
    await this.vault.close();
    this.sockets.destroy();
  }
}
