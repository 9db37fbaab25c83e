/**
 * How a vault session comes to exist on this device, the work behind VaultSession's static
 * constructors (session.ts): resumed from the device's own store, or enrolled as a new device of
 * a person (new, restored, linked or from a backup). Separate from session.ts because these
 * steps run once, before there is a session; the session holds what they return.
 */
import {
  boxKeyPairFromSecretKey,
  fromBase64Url,
  signingKeyPairFromSeed,
  signingSeed,
  toBase64Url,
  toHex,
} from '../crypto/index.ts';
import { decodeDeviceCert, encodeDeviceCert, identityFromSeed } from '../protocol/index.ts';
import { DEVICE_LABELS_MAP } from '../../../crdt-schemas/system.ts';
import type { RelaySockets } from '../sync/relay-socket.ts';
import type { UnlockedKeys } from './app-lock.ts';
import { engineOf } from './engine.ts';
import { VaultError } from './errors.ts';
import { createDeviceWrappingKey, unwrapSecrets, wrapSecrets } from './key-store.ts';
import { personName, setPersonName } from './names.ts';
import { deviceId, enrollDevice, type Device, type Person } from './person.ts';
import { PersonVault, vaultAccess } from './person-vault.ts';
import { createPlainCacheKey } from './plain-cache.ts';
import type { Profile } from './profile.ts';
import { openAsThisDevice, socketOf, socketsFor, type SessionEnv } from './session-open.ts';

/** What a VaultSession is made of (its constructor's arguments after the env). */
export interface SessionParts {
  readonly sockets: RelaySockets;
  readonly person: Person;
  readonly device: Device;
  readonly vault: PersonVault;
  /** The name this device was set up with. */
  readonly displayName: string;
  readonly cacheKey: CryptoKey | undefined;
}

/**
 * The session's parts from this device's store (its keys unwrapped, its vault opened from the
 * store, the relay in the background); undefined where nobody is set up here.
 */
export async function resumeOnDevice(env: SessionEnv, unlocked?: UnlockedKeys): Promise<SessionParts | undefined> {
  const stored = await env.store.load();
  if (!stored) return undefined;
  const wrappingKey = unlocked?.wrappingKey ?? stored.wrappingKey;
  if (!wrappingKey) throw new VaultError('APP_LOCKED', 'This device is locked: unlock it first.');
  const secrets = await unwrapSecrets(stored.wrapped, wrappingKey);
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
  let cacheKey = unlocked?.cacheKey ?? stored.cacheKey;
  if (!cacheKey) {
    // A device set up before caches existed: give it its cache key now.
    cacheKey = await createPlainCacheKey();
    await env.store.save({ ...stored, cacheKey });
  }
  const sockets = socketsFor(env);
  const profile = await openAsThisDevice(env, person, device, vaultAccess(person), { waitForRelay: false, socket: socketOf(env, sockets), cacheKey }).catch((e: unknown) => {
    sockets.destroy();
    throw e;
  });
  return { sockets, person, device, vault: PersonVault.attach(person, device, profile), displayName: stored.displayName, cacheKey };
}

/**
 * Enrolls this device as a new device of `person` and opens their family vault, from the relay
 * (`fromRelay`) or from this device's store; VAULT_NOT_FOUND if it has no genesis. Then keeps
 * the device's keys, wrapped, in its store.
 */
export async function enrollOnDevice(
  env: SessionEnv,
  person: Person,
  o: { displayName: string; deviceLabel: string },
  fromRelay = false,
  beforeCertify?: (vault: Profile) => void,
): Promise<SessionParts> {
  const device = await enrollDevice(person, { label: o.deviceLabel, random: env.random, engine: env.engine, now: env.now });
  // Made first so the vault keeps its cache from this session on (saved with the keys below).
  const cacheKey = await createPlainCacheKey();
  const sockets = socketsFor(env);
  const profile = await openAsThisDevice(env, person, device, vaultAccess(person), { waitForRelay: fromRelay, beforeCertify, socket: socketOf(env, sockets), cacheKey }).catch((e: unknown) => {
    sockets.destroy();
    throw e;
  });
  if (!engineOf(profile).sync.index.membership.hasGenesis) {
    await profile.close();
    sockets.destroy();
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
  // The person's name, for all their devices (decision 0038), unless one of them set it already.
  const identity = toHex(person.identity.signing.publicKey);
  if (o.displayName.trim() && !personName(profile, identity)) setPersonName(profile, identity, o.displayName.slice(0, 64));
  await env.store.save({
    wrappingKey,
    cacheKey,
    wrapped,
    cert: toBase64Url(encodeDeviceCert(device.cert)),
    label: device.label,
    displayName: o.displayName.trim().slice(0, 64),
    createdAt: (env.now ?? Date.now)(),
  });
  return { sockets, person, device, vault: PersonVault.attach(person, device, profile), displayName: o.displayName.trim().slice(0, 64), cacheKey };
}
