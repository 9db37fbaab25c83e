/**
 * Linking a new device with a one-time link (docs/decisions/0009). Everything sits in the URL
 * fragment, which browsers never send to a server; the relay needs no change.
 *   url     = <origin>/#/link/<base64url(payload)>
 *   payload = version(1) ‖ secret(32) ‖ nonce(24) ‖ secretbox_K(expiresAt(u64 ms) ‖ seed(32) ‖ relayUrl)
 *   K       = H("fhv/link-key/v1", secret)      linkId = base64url(H("fhv/link-id/v1", secret)[0..16))
 * The creating device registers linkId in the vault; the joining device marks it used with its
 * device id. Expiry and single use are enforced by the person's own devices, not by the relay.
 */
import {
  concatBytes,
  fromBase64Url,
  fromUtf8,
  hashWithDomain,
  secretboxOpen,
  secretboxSeal,
  secureRandom,
  SECRETBOX_NONCE_LENGTH,
  toBase64Url,
  utf8,
  type Ed25519Engine,
  type RandomSource,
  type SymmetricKey,
} from '../crypto/index.ts';
import { identityFromSeed } from '../protocol/index.ts';
import type { Persistence } from '../storage/types.ts';
import { deviceId, enrollDevice, VaultError, type Device, type Person } from './person.ts';
import { PersonVault } from './person-vault.ts';
import { DEVICE_LINKS_MAP, type LinkRecord } from '../../../crdt-schemas/system.ts';

const VERSION = 1;
const SECRET_LENGTH = 32;
const LINK_PREFIX = '#/link/';
export const DEFAULT_LINK_TTL_MS = 10 * 60_000;

export type { LinkRecord } from '../../../crdt-schemas/system.ts';

const linkKey = (secret: Uint8Array) => hashWithDomain('fhv/link-key/v1', secret) as Uint8Array as SymmetricKey;
const linkIdOf = (secret: Uint8Array) => toBase64Url(hashWithDomain('fhv/link-id/v1', secret).slice(0, 16));

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** Existing device: makes a link for a new device and registers it (unused) in the vault. */
export async function createDeviceLink(
  vault: PersonVault,
  o: { origin: string; relayUrl: string; ttlMs?: number; now?: () => number; random?: RandomSource },
): Promise<{ url: string; linkId: string; expiresAt: number }> {
  const random = o.random ?? secureRandom;
  const expiresAt = (o.now ?? Date.now)() + (o.ttlMs ?? DEFAULT_LINK_TTL_MS);
  const secret = random(SECRET_LENGTH);
  const nonce = random(SECRETBOX_NONCE_LENGTH);
  const plaintext = concatBytes(u64(expiresAt), vault.person.identity.seed, utf8(o.relayUrl));
  const payload = concatBytes(Uint8Array.of(VERSION), secret, nonce, secretboxSeal(plaintext, nonce, linkKey(secret)));
  const linkId = linkIdOf(secret);
  vault.profile.systemMap(DEVICE_LINKS_MAP).set(linkId, { expiresAt, usedBy: null });
  await vault.flush();
  return { url: `${o.origin.replace(/\/+$/, '')}/${LINK_PREFIX}${toBase64Url(payload)}`, linkId, expiresAt };
}

export interface DecodedLink {
  readonly person: Person;
  readonly relayUrl: string;
  readonly linkId: string;
  readonly expiresAt: number;
}

/** Decodes and checks a link without touching storage or the network. */
export function readDeviceLink(url: string, now: number = Date.now()): DecodedLink {
  const at = url.indexOf(LINK_PREFIX);
  let payload: Uint8Array;
  try {
    if (at < 0) throw new Error();
    payload = fromBase64Url(url.slice(at + LINK_PREFIX.length));
  } catch {
    throw new VaultError('LINK_MALFORMED', 'this is not a device link');
  }
  const head = 1 + SECRET_LENGTH + SECRETBOX_NONCE_LENGTH;
  if (payload.length < head || payload[0] !== VERSION) throw new VaultError('LINK_MALFORMED', 'this is not a device link');
  const secret = payload.subarray(1, 1 + SECRET_LENGTH);
  const nonce = payload.subarray(1 + SECRET_LENGTH, head);
  const plain = secretboxOpen(payload.subarray(head), nonce, linkKey(secret));
  if (!plain || plain.length < 8 + 32) throw new VaultError('LINK_MALFORMED', 'the device link is damaged');
  const expiresAt = Number(new DataView(plain.buffer, plain.byteOffset).getBigUint64(0));
  if (now >= expiresAt) throw new VaultError('LINK_EXPIRED', 'this device link has expired; make a new one');
  return {
    person: { identity: identityFromSeed(plain.slice(8, 40)) },
    relayUrl: fromUtf8(plain.subarray(40)),
    linkId: linkIdOf(secret),
    expiresAt,
  };
}

/** New device: redeems a link, enrolls its own device keys and opens the vault. */
export async function joinWithLink(
  url: string,
  o: {
    label: string;
    persistence?: Persistence;
    now?: () => number;
    random?: RandomSource;
    engine?: Ed25519Engine;
    minReconnectDelayMs?: number;
  },
): Promise<{ person: Person; device: Device; vault: PersonVault }> {
  const now = o.now ?? Date.now;
  const link = readDeviceLink(url, now()); // throws before any storage or connection
  const device = await enrollDevice(link.person, { label: o.label, random: o.random, engine: o.engine, now });
  const vault = await PersonVault.open({
    person: link.person,
    device,
    relayUrl: link.relayUrl,
    persistence: o.persistence,
    now,
    random: o.random,
    minReconnectDelayMs: o.minReconnectDelayMs,
  });
  const record = vault.profile.systemMap(DEVICE_LINKS_MAP).get(link.linkId);
  const me = deviceId(device);
  if (!record || (record.usedBy !== null && record.usedBy !== me)) {
    await vault.close();
    throw new VaultError('LINK_USED', 'this device link was already used or withdrawn');
  }
  vault.profile.systemMap(DEVICE_LINKS_MAP).set(link.linkId, { expiresAt: record.expiresAt, usedBy: me });
  await vault.flush();
  return { person: link.person, device, vault };
}

/** Existing device: whether and by which device a link was used. */
export function linkStatus(vault: PersonVault, linkId: string): LinkRecord | undefined {
  return vault.profile.systemMap(DEVICE_LINKS_MAP).get(linkId);
}
