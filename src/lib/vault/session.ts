/**
 * One person on one device, as the app sees it: their identity and device keys (wrapped at rest),
 * their family vault (the list of profiles they can open, with keys) and the profiles they open.
 *
 * Offline first: a device that has been set up opens everything from its own encrypted store
 * and connects in the background. Connections authenticate as the person's identity while
 * records are signed by the device key (docs/decisions/0013), so a device never waits for its
 * certificate to reach the relay before it can push that certificate.
 */
import {
  boxKeyPairFromSecretKey,
  defaultEd25519Engine,
  encodeRecoveryCode,
  fromBase64Url,
  fromHex,
  toHex,
  type SigningPublicKey,
  signingKeyPairFromSeed,
  signingSeed,
  toBase64Url,
  type Ed25519Engine,
  type RandomSource,
} from '../crypto/index.ts';
import { decodeDeviceCert, encodeDeviceCert, identityFromSeed, roleName } from '../protocol/index.ts';
import type { DeviceStore } from '../storage/device-store.ts';
import type { Persistence } from '../storage/types.ts';
import { memoryPersistence } from '../storage/memory.ts';
import { VaultError } from './errors.ts';
import { acceptInvitation } from './invite.ts';
import { createDeviceWrappingKey, unwrapSecrets, wrapSecrets } from './key-store.ts';
import { createPerson, deviceId, enrollDevice, restorePerson, revokeDevice, type Device, type Person } from './person.ts';
import { membersOf, type DeviceView } from './people.ts';
import { LINK_SECTION, PersonVault, vaultAccess, type VaultEntry } from './person-vault.ts';
import { createDeviceLink, linkStatus, readDeviceLink, type LinkRecord } from './device-link.ts';
import { Profile, type JsonValue, type ProfileAccess } from './profile.ts';
import { createPlainCacheKey } from './plain-cache.ts';
import { engineOf } from './engine.ts';
import { DEVICE_LABELS_MAP, DEVICE_LINKS_MAP } from '../../../crdt-schemas/system.ts';

export interface SessionEnv {
  readonly store: DeviceStore;
  readonly relayUrl?: string;
  readonly persistence?: Persistence;
  readonly engine?: Ed25519Engine;
  readonly random?: RandomSource;
  readonly now?: () => number;
  /** How long a restore waits for the relay. */
  readonly timeoutMs?: number;
  /** Deletes this device's encrypted copies of the named documents (browser: IndexedDB databases). */
  readonly erase?: (names: readonly string[]) => Promise<void>;
  readonly minReconnectDelayMs?: number;
}



export class VaultSession {
  readonly person: Person;
  readonly device: Device;
  readonly vault: PersonVault;
  readonly displayName: string;
  private readonly env: SessionEnv;
  private readonly open = new Map<string, Promise<Profile>>();
  /** This device's plain-state cache key (docs/decisions/0020). */
  private readonly cacheKey: CryptoKey | undefined;

  private constructor(env: SessionEnv, person: Person, device: Device, vault: PersonVault, displayName: string, cacheKey: CryptoKey | undefined) {
    this.env = withPersistence(env);
    this.cacheKey = cacheKey;
    this.person = person;
    this.device = device;
    this.vault = vault;
    this.displayName = displayName;
  }

  /** The person already set up on this device, or undefined (show onboarding). */
  static async resume(env: SessionEnv): Promise<VaultSession | undefined> {
    const stored = await env.store.load();
    if (!stored) return undefined;
    const secrets = await unwrapSecrets(stored.wrapped, stored.wrappingKey);
    if (!secrets.identitySeed) throw new VaultError('SESSION_NO_IDENTITY', 'this device holds no identity');
    const person: Person = { identity: identityFromSeed(secrets.identitySeed) };
    const cert = decodeDeviceCert(fromBase64Url(stored.cert));
    if (!cert.ok) throw new VaultError('KEYSTORE_BAD_CERT', 'the stored device certificate is damaged');
    const device: Device = {
      label: stored.label,
      signing: signingKeyPairFromSeed(secrets.deviceSigningSeed),
      box: boxKeyPairFromSecretKey(secrets.deviceBoxSecret),
      cert: cert.value,
    };
    let cacheKey = stored.cacheKey;
    if (!cacheKey) {
      // A device set up before caches existed: give it its cache key now.
      cacheKey = await createPlainCacheKey();
      await env.store.save({ ...stored, cacheKey });
    }
    const profile = await openAsThisDevice(env, person, device, vaultAccess(person), { waitForRelay: false, cacheKey });
    return new VaultSession(env, person, device, PersonVault.attach(person, device, profile), stored.displayName, cacheKey);
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

  /** Which device used a link (label), or null while unused. */
  deviceLinkUsedBy(linkId: string): string | null {
    const used = linkStatus(this.vault, linkId)?.usedBy;
    if (!used) return null;
    return this.devices().find((d) => d.key === used)?.label ?? 'a new device';
  }

  /** Restores a person from their recovery code on a new device (needs the relay once). */
  static async restore(env: SessionEnv, o: { code: string; displayName: string; deviceLabel: string }): Promise<VaultSession> {
    const person = restorePerson(o.code);
    return VaultSession.enroll(env, person, o, true);
  }

  private static async enroll(
    env: SessionEnv,
    person: Person,
    o: { displayName: string; deviceLabel: string },
    fromRelay = false,
    beforeCertify?: (vault: Profile) => void,
  ): Promise<VaultSession> {
    const device = await enrollDevice(person, { label: o.deviceLabel, random: env.random, engine: env.engine, now: env.now });
    // Made first so the vault keeps its cache from this session on (saved with the keys below).
    const cacheKey = await createPlainCacheKey();
    const profile = await openAsThisDevice(env, person, device, vaultAccess(person), { waitForRelay: fromRelay, beforeCertify, cacheKey });
    if (!engineOf(profile).sync.index.membership.hasGenesis) {
      await profile.close();
      throw new VaultError('VAULT_NOT_FOUND', 'no vault was found for this recovery code');
    }
    const wrappingKey = await createDeviceWrappingKey();
    const wrapped = await wrapSecrets(
      { identitySeed: person.identity.seed, deviceSigningSeed: signingSeed(device.signing.secretKey), deviceBoxSecret: device.box.secretKey },
      wrappingKey,
      { random: env.random },
    );
    // Other devices of the person show this one by its label, not a key.
    const label = device.label.trim().slice(0, 40);
    if (label) profile.systemMap(DEVICE_LABELS_MAP).set(deviceId(device), label);
    await env.store.save({
      wrappingKey,
      cacheKey,
      wrapped,
      cert: toBase64Url(encodeDeviceCert(device.cert)),
      label: device.label,
      displayName: o.displayName.trim().slice(0, 64),
      createdAt: (env.now ?? Date.now)(),
    });
    return new VaultSession(env, person, device, PersonVault.attach(person, device, profile), o.displayName.trim().slice(0, 64), cacheKey);
  }

  get deviceId(): string {
    return deviceId(this.device);
  }

  profiles(): VaultEntry[] {
    return this.vault.listProfiles();
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
      const access = this.vault.accessFor(docId);
      p = openAsThisDevice(this.env, this.person, this.device, access, { waitForRelay: false, cacheKey: this.cacheKey });
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
    });
    const role = roleName(joined.role) ?? 'viewer';
    const access: ProfileAccess = { docId: joined.access.docId, epoch: engineOf(joined).sync.currentEpoch, epochKeys: new Map(engineOf(joined).sync.keys.entries()) };
    await joined.close();
    return this.vault.addProfile({ name: o.name.trim(), relationship: o.relationship.trim(), access, role });
  }

  /** Another of the person's devices revoked this one (the app then removes its keys and copies). */
  get revoked(): boolean {
    return engineOf(this.vault.profile).sync.index.membership.state().revokedDevices.has(this.deviceId);
  }

  /** Calls back once if this device is revoked while open (or already is). */
  onRevoked(fn: () => void): () => void {
    let fired = false;
    return engineOf(this.vault.profile).sync.applied.subscribe(() => {
      if (fired || !this.revoked) return;
      fired = true;
      queueMicrotask(fn);
    });
  }

  /** The recovery code again (for the person's eyes only; it is the identity). */
  recoveryCode(): string {
    return encodeRecoveryCode(this.person.identity.seed);
  }

  /** This person's devices, as certified in their vault, with the labels they gave themselves. */
  devices(): Array<DeviceView & { label: string | undefined }> {
    const me = toHex(this.person.identity.signing.publicKey);
    const label = (key: string) => this.vault.profile.systemMap(DEVICE_LABELS_MAP).get(key);
    return (membersOf(this.vault.profile).find((m) => m.key === me)?.devices ?? []).map((d) => ({ ...d, label: label(d.key) }));
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

  async close(): Promise<void> {
    const opened = [...this.open.values()];
    this.open.clear();
    for (const p of opened) await (await p.catch(() => undefined))?.close();
    await this.vault.close();
  }
}

/** Creating a document writes its genesis, closes it and reopens it as the device: that needs a store. */
function withPersistence(env: SessionEnv): SessionEnv {
  return env.persistence ? env : { ...env, persistence: memoryPersistence() };
}

/**
 * Opens a document as this device: local store first, relay in the background. A device not yet
 * certified in the document writes its own certificate (the identity-authenticated connection
 * carries it to the relay).
 */
async function openAsThisDevice(
  env: SessionEnv,
  person: Person,
  device: Device,
  access: ProfileAccess,
  o: { waitForRelay: boolean; beforeCertify?: (profile: Profile) => void; cacheKey?: CryptoKey },
): Promise<Profile> {
  const engine = env.engine ?? (await defaultEd25519Engine());
  const profile = await Profile.open({
    access,
    signer: device.signing,
    box: device.box,
    alsoRecipient: { publicKey: person.identity.signing.publicKey, box: person.identity.box },
    authSigner: person.identity.signing,
    relayUrl: env.relayUrl,
    persistence: env.persistence,
    engine,
    random: env.random,
    now: env.now,
    minReconnectDelayMs: env.minReconnectDelayMs,
    autoConnect: false,
    plainCache: o.cacheKey ? { key: o.cacheKey, random: env.random } : undefined,
  });
  if (env.relayUrl) {
    void profile.connect().catch(() => undefined);
    if (o.waitForRelay) {
      const synced = await profile.status.when((s) => s.synced, env.timeoutMs ?? 20_000).catch(() => undefined);
      if (!synced) {
        await profile.close();
        throw new VaultError('RELAY_UNREACHABLE', 'the relay could not be reached to restore this vault');
      }
      await engineOf(profile).sync.drain();
    }
  }
  try {
    o.beforeCertify?.(profile);
  } catch (e) {
    await profile.close();
    throw e;
  }
  await ensureCertified(profile, device);
  return profile;
}

/**
 * Writes this device's certificate into the document: at once if it has its genesis, else as
 * soon as the genesis arrives from the relay (a vault or profile first opened on this device).
 */
async function ensureCertified(profile: Profile, device: Device): Promise<void> {
  const membership = () => engineOf(profile).sync.index.membership;
  const certify = () =>
    membership().state().devices.has(deviceId(device)) ? Promise.resolve() : engineOf(profile).sync.appendMembership({ kind: 'device', cert: device.cert }).then(() => undefined);
  if (membership().hasGenesis) return certify();
  let started = false;
  const stop = engineOf(profile).sync.applied.subscribe(() => {
    if (started || !membership().hasGenesis) return;
    started = true;
    queueMicrotask(() => stop());
    // A profile closed meanwhile refuses the write: nothing to certify then.
    certify().catch(() => undefined);
  });
}
