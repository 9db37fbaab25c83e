/**
 * A profile's access (document id, epoch keys) as stored in the keyring, and as an access
 * bundle: the fallback for a member's device that was added without a box key (no lockbox).
 */
import { fromBase64Url, hashWithDomain, toBase64Url, type SymmetricKey } from '../lib/crypto/index.ts';
import type { ProfileAccess } from '../lib/vault/profile.ts';
import { CliError } from './errors.ts';

export interface StoredProfile {
  docId: string;
  epoch: number;
  keys: Record<string, string>;
  genesisNonce?: string;
  relay?: string;
  /** The device's store has held this profile's records (an empty store is then damage). */
  hasLocalCopy?: boolean;
}

export function encodeAccess(a: ProfileAccess): StoredProfile {
  return {
    docId: toBase64Url(a.docId),
    epoch: a.epoch,
    keys: Object.fromEntries([...a.epochKeys].map(([e, k]) => [String(e), toBase64Url(k)])),
    ...(a.genesisNonce ? { genesisNonce: toBase64Url(a.genesisNonce) } : {}),
  };
}

/** Throws on any malformed field (callers turn it into their typed error). */
export function decodeAccess(p: StoredProfile): ProfileAccess {
  const docId = fromBase64Url(p.docId);
  const epochKeys = new Map(Object.entries(p.keys).map(([e, k]) => [Number(e), fromBase64Url(k) as SymmetricKey]));
  if (docId.length !== 16 || !Number.isSafeInteger(p.epoch) || p.epoch < 0) throw new Error('shape');
  for (const [e, k] of epochKeys) if (!Number.isSafeInteger(e) || e < 0 || k.length !== 32) throw new Error('shape');
  return { docId, epoch: p.epoch, epochKeys, genesisNonce: p.genesisNonce ? fromBase64Url(p.genesisNonce) : undefined };
}

const BUNDLE_PREFIX = 'b1.';
const CHECK_DOMAIN = 'fhv/cli-bundle-check/v1';
const CHECK_LENGTH = 8;

/**
 * `b1.<base64url(json)>.<check>`: the check (a hash of the body) refuses a bundle damaged or cut
 * in transit. It is not a signature: a bundle is a bearer secret, trusted as far as the channel
 * it came through (prefer member codes and lockboxes). Treat it like a password.
 */
export function exportBundle(access: ProfileAccess): string {
  const { genesisNonce: _creatorOnly, ...shared } = access;
  const body = new TextEncoder().encode(JSON.stringify(encodeAccess(shared)));
  return `${BUNDLE_PREFIX}${toBase64Url(body)}.${toBase64Url(hashWithDomain(CHECK_DOMAIN, body).slice(0, CHECK_LENGTH))}`;
}

export function importBundle(bundle: string): ProfileAccess {
  const bad = () => new CliError('CLI_BAD_BUNDLE', 'that is not a valid access bundle (damaged, cut short or altered)');
  const m = /^b1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(bundle.trim());
  if (!m) throw bad();
  try {
    const body = fromBase64Url(m[1]!);
    const check = toBase64Url(hashWithDomain(CHECK_DOMAIN, body).slice(0, CHECK_LENGTH));
    if (check !== m[2]) throw bad();
    const access = decodeAccess(JSON.parse(new TextDecoder().decode(body)) as StoredProfile);
    if (access.epochKeys.size === 0) throw bad();
    return access;
  } catch {
    throw bad();
  }
}
