/**
 * How a vault session opens documents as its device: local store first, relay in the background
 * over the session's shared socket (docs/decisions/0024), the device's certificate written once
 * the document's genesis is there.
 */
import { defaultEd25519Engine, type Ed25519Engine, type RandomSource } from '../crypto/index.ts';
import { memoryPersistence } from '../storage/memory.ts';
import { RelaySockets, type RelaySocket } from '../sync/relay-socket.ts';
import { VaultError } from './errors.ts';
import { deviceId, type Device, type Person } from './person.ts';
import { Profile, type ProfileAccess } from './profile.ts';
import { engineOf } from './engine.ts';
import type { DeviceStore } from '../storage/device-store.ts';
import type { PersonVault } from './person-vault.ts';
import type { Persistence } from '../storage/types.ts';

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

/** A session's sockets: one per relay URL, shared by its vault and every profile it opens. */
export function socketsFor(env: SessionEnv): RelaySockets {
  return new RelaySockets({ minReconnectDelayMs: env.minReconnectDelayMs });
}

/** The session's socket to its relay (none without one: everything stays local). */
export function socketOf(env: SessionEnv, sockets: RelaySockets): RelaySocket | undefined {
  return env.relayUrl ? sockets.for(env.relayUrl) : undefined;
}

/** Creating a document writes its genesis, closes it and reopens it as the device: that needs a store. */
export function withPersistence(env: SessionEnv): SessionEnv {
  return env.persistence ? env : { ...env, persistence: memoryPersistence() };
}

/**
 * Opens a document as this device: local store first, relay in the background. A device not yet
 * certified in the document writes its own certificate (the identity-authenticated connection
 * carries it to the relay).
 */
export async function openAsThisDevice(
  env: SessionEnv,
  person: Person,
  device: Device,
  access: ProfileAccess,
  o: { waitForRelay: boolean; beforeCertify?: (profile: Profile) => void; socket?: RelaySocket; cacheKey?: CryptoKey },
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
    relaySocket: o.socket,
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

/**
 * A profile's keys from the person's vault. The vault may have opened from its cache (decision
 * 0020), written before a profile was added just now (a reload right after adding or joining):
 * an unknown profile is looked up again once the vault's stored records are verified, and only
 * then refused (PROFILE_UNKNOWN, as a rejected promise, never thrown at the caller).
 */
export async function accessWhenKnown(vault: PersonVault, docId: string): Promise<ProfileAccess> {
  try {
    return vault.accessFor(docId);
  } catch (e) {
    if (!(e instanceof VaultError) || e.code !== 'PROFILE_UNKNOWN') throw e;
    await vault.profile.whenVerified();
    return vault.accessFor(docId);
  }
}
