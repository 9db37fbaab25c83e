/**
 * A person and their devices (docs/decisions/0009). The person's identity is derived from a
 * 32-byte seed, shown once as a recovery code; each device has its own signing and box keys,
 * certified by the identity. A device opens a profile with its own keys: before the relay
 * accepts a device's token, its certificate must be in the document, so the device's first
 * connection is authenticated with the identity key (every device of the person holds the
 * seed) and the device itself writes the `device` op over it.
 */
import {
  decodeRecoveryCode,
  defaultEd25519Engine,
  encodeRecoveryCode,
  generateBoxKeyPair,
  generateSigningKeyPair,
  secureRandom,
  toBase64Url,
  toHex,
  type BoxKeyPair,
  type Ed25519Engine,
  type RandomSource,
  type SigningKeyPair,
  type SigningPublicKey,
} from '../crypto/index.ts';
import { certifyDevice, createAuthToken, identityFromSeed, type DeviceCert, type Identity } from '../protocol/index.ts';
import { RelayConnection } from '../sync/relay-connection.ts';
import { Profile, type OpenProfileOptions } from './profile.ts';

import { VaultError } from './errors.ts';
import { engineOf } from './engine.ts';
export { VaultError, type VaultErrorCode } from './errors.ts';

export interface Person {
  readonly identity: Identity;
}

export interface NewPerson {
  readonly person: Person;
  /** Shown to the user once; it is the only backup of the identity. */
  readonly recoveryCode: string;
}

export function createPerson(o: { random?: RandomSource } = {}): NewPerson {
  const seed = (o.random ?? secureRandom)(32);
  return { person: { identity: identityFromSeed(seed) }, recoveryCode: encodeRecoveryCode(seed) };
}

/** Re-derives the identity from a recovery code; a bad code throws a VaultError and touches nothing. */
export function restorePerson(code: string): Person {
  const decoded = decodeRecoveryCode(code);
  if (!decoded.ok) throw new VaultError(decoded.code, decoded.message);
  return { identity: identityFromSeed(decoded.value) };
}

export interface Device {
  readonly label: string;
  readonly signing: SigningKeyPair;
  readonly box: BoxKeyPair;
  readonly cert: DeviceCert;
}

export async function enrollDevice(
  person: Person,
  o: { label: string; random?: RandomSource; engine?: Ed25519Engine; now?: () => number },
): Promise<Device> {
  const signing = generateSigningKeyPair(o.random);
  const box = generateBoxKeyPair(o.random);
  const cert = await certifyDevice({
    identity: person.identity.signing,
    device: signing.publicKey,
    deviceBox: box.publicKey,
    issuedAt: (o.now ?? Date.now)(),
    engine: o.engine ?? (await defaultEd25519Engine()),
  });
  return { label: o.label, signing, box, cert };
}

export const deviceId = (device: Device | SigningPublicKey): string => toHex('cert' in device ? device.signing.publicKey : device);

export type OpenAsDeviceOptions = Omit<OpenProfileOptions, 'signer' | 'box'> & {
  readonly person: Person;
  readonly device: Device;
  /** How long to wait for the bootstrap connection (cert publication). */
  readonly timeoutMs?: number;
};

const isCertified = (p: Profile, device: Device): boolean => engineOf(p).sync.index.membership.state().devices.has(deviceId(device));

/**
 * Opens a profile as one of the person's devices: signer and box are the device's keys. If the
 * document does not hold this device's certificate yet, the device writes it itself (a `device`
 * op signed by the device key) and pushes it over a connection authenticated by the identity key.
 */
export async function openAsDevice(o: OpenAsDeviceOptions): Promise<Profile> {
  const engine = o.engine ?? (await defaultEd25519Engine());
  const now = o.now ?? Date.now;
  const { person, device, timeoutMs = 30_000, ...rest } = o;
  const profile = await Profile.open({ ...rest, engine, signer: device.signing, box: device.box, autoConnect: false });
  try {
    if (o.relayUrl) {
      const boot = new RelayConnection({
        url: o.relayUrl,
        name: toBase64Url(o.access.docId),
        envelope: engineOf(profile).envelopeDoc,
        docId: o.access.docId,
        ownKeys: [device.signing.publicKey, person.identity.signing.publicKey],
        engine,
        now,
        minReconnectDelayMs: o.minReconnectDelayMs,
        token: () =>
          createAuthToken({ secretKey: person.identity.signing.secretKey, docId: o.access.docId, expiresAt: now() + 5 * 60_000, engine }),
      });
      try {
        await boot.connect();
        await boot.synced.when((s) => s, timeoutMs);
        await engineOf(profile).sync.drain();
        if (!isCertified(profile, device)) {
          await engineOf(profile).sync.appendMembership({ kind: 'device', cert: device.cert });
          // Acknowledged by the relay: from now on it accepts this device's own token.
          await boot.unsynced.when((n) => n === 0, timeoutMs);
        }
      } finally {
        boot.destroy();
      }
      if (o.autoConnect !== false) await profile.connect();
    } else if (!isCertified(profile, device)) {
      await engineOf(profile).sync.appendMembership({ kind: 'device', cert: device.cert });
    }
    return profile;
  } catch (e) {
    await profile.close();
    throw e;
  }
}

/**
 * Revokes one of the person's devices in a profile (written by another device of the same
 * identity, or by the identity). Callers that own the profile should rotate afterwards.
 */
export async function revokeDevice(profile: Profile, device: Device | SigningPublicKey): Promise<void> {
  const key = 'cert' in device ? device.signing.publicKey : device;
  await engineOf(profile).sync.appendMembership({ kind: 'revoke-device', device: key });
  await profile.flush();
}
