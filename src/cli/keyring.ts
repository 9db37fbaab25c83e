/**
 * The CLI's device keyring: one JSON file, mode 0600. Interim: keys at rest are not yet wrapped
 * by a device key or recovery code (that arrives with identities and devices); see docs/threat-model.md.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  asSigningSecretKey,
  boxKeyPairFromSecretKey,
  generateBoxKeyPair,
  type BoxKeyPair,
  fromBase64Url,
  generateSigningKeyPair,
  signingPublicKeyOf,
  toBase64Url,
  type SigningKeyPair,
  type SymmetricKey,
} from '../lib/crypto/index.ts';
import type { ProfileAccess } from '../lib/vault/profile.ts';
import { CliError } from './errors.ts';

interface StoredProfile {
  docId: string;
  epoch: number;
  keys: Record<string, string>;
  genesisNonce?: string;
  relay?: string;
}

interface KeyringFile {
  version: 1;
  signingSecretKey: string;
  /** X25519 secret key lockboxes are addressed to (added on first use for older files). */
  boxSecretKey?: string;
  profiles: Record<string, StoredProfile>;
}

export class Keyring {
  readonly dir: string;
  private data: KeyringFile;

  private constructor(dir: string, data: KeyringFile) {
    this.dir = dir;
    this.data = data;
  }

  private static file(dir: string): string {
    return join(dir, 'keyring.json');
  }

  static init(dir: string): Keyring {
    if (existsSync(Keyring.file(dir))) throw new CliError('CLI_EXISTS', `a device identity already exists in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const kp = generateSigningKeyPair();
    const box = generateBoxKeyPair();
    const ring = new Keyring(dir, { version: 1, signingSecretKey: toBase64Url(kp.secretKey), boxSecretKey: toBase64Url(box.secretKey), profiles: {} });
    ring.save();
    return ring;
  }

  static load(dir: string): Keyring {
    const file = Keyring.file(dir);
    if (!existsSync(file)) throw new CliError('CLI_NO_IDENTITY', `no device identity in ${dir}: run "vault init" first`);
    let data: KeyringFile;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as KeyringFile;
    } catch {
      throw new CliError('CLI_BAD_KEYRING', 'the keyring file is not valid JSON');
    }
    if (data.version !== 1) throw new CliError('CLI_BAD_KEYRING', 'unsupported keyring version');
    return new Keyring(dir, data);
  }

  save(): void {
    const file = Keyring.file(this.dir);
    writeFileSync(file, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }

  get signer(): SigningKeyPair {
    const secretKey = asSigningSecretKey(fromBase64Url(this.data.signingSecretKey));
    return { secretKey, publicKey: signingPublicKeyOf(secretKey) };
  }

  get box(): BoxKeyPair {
    if (!this.data.boxSecretKey) {
      this.data.boxSecretKey = toBase64Url(generateBoxKeyPair().secretKey);
      this.save();
    }
    return boxKeyPairFromSecretKey(fromBase64Url(this.data.boxSecretKey));
  }

  profile(alias: string): { access: ProfileAccess; relay: string | undefined } {
    const p = this.data.profiles[alias];
    if (!p) throw new CliError('CLI_UNKNOWN_PROFILE', `no profile named "${alias}" on this device`);
    return { access: decodeAccess(p), relay: p.relay };
  }

  aliases(): string[] {
    return Object.keys(this.data.profiles);
  }

  addProfile(alias: string, access: ProfileAccess, relay: string | undefined): void {
    if (this.data.profiles[alias]) throw new CliError('CLI_EXISTS', `a profile named "${alias}" already exists`);
    this.data.profiles[alias] = { ...encodeAccess(access), relay };
    this.save();
  }

  setRelay(alias: string, relay: string): void {
    this.profile(alias);
    this.data.profiles[alias]!.relay = relay;
    this.save();
  }
}

function encodeAccess(a: ProfileAccess): StoredProfile {
  return {
    docId: toBase64Url(a.docId),
    epoch: a.epoch,
    keys: Object.fromEntries([...a.epochKeys].map(([e, k]) => [String(e), toBase64Url(k)])),
    ...(a.genesisNonce ? { genesisNonce: toBase64Url(a.genesisNonce) } : {}),
  };
}

function decodeAccess(p: StoredProfile): ProfileAccess {
  return {
    docId: fromBase64Url(p.docId),
    epoch: p.epoch,
    epochKeys: new Map(Object.entries(p.keys).map(([e, k]) => [Number(e), fromBase64Url(k) as SymmetricKey])),
    genesisNonce: p.genesisNonce ? fromBase64Url(p.genesisNonce) : undefined,
  };
}

/**
 * An access bundle: how a member's device receives a profile before lockboxes exist
 * (docId, epoch and its key, base64url JSON). Treat it like a password: it opens the profile.
 */
export function exportBundle(access: ProfileAccess): string {
  const { genesisNonce: _creatorOnly, ...shared } = access;
  return toBase64Url(new TextEncoder().encode(JSON.stringify(encodeAccess(shared))));
}

export function importBundle(bundle: string): ProfileAccess {
  try {
    const p = JSON.parse(new TextDecoder().decode(fromBase64Url(bundle))) as StoredProfile;
    const access = decodeAccess(p);
    if (access.docId.length !== 16 || ![...access.epochKeys.values()].every((k) => k.length === 32)) throw new Error('shape');
    return access;
  } catch {
    throw new CliError('CLI_BAD_BUNDLE', 'that is not a valid access bundle');
  }
}
