/**
 * The CLI's device keyring: one JSON file, mode 0600, format version 2. The public keys are in
 * the clear (so `whoami` needs no passphrase); every secret (signing and box secret keys, each
 * profile's epoch keys) is sealed under the passphrase (src/lib/crypto/passphrase.ts, decision 0018).
 * Version 1 files (secrets in plain base64) are read once and rewritten as version 2.
 *
 * Writes go to a temporary file and are renamed into place, so a crash mid-write leaves the old
 * keyring, never half a file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  asSigningSecretKey,
  boxKeyPairFromSecretKey,
  bytesEqual,
  fromBase64Url,
  fromHex,
  generateBoxKeyPair,
  generateSigningKeyPair,
  signingPublicKeyOf,
  toBase64Url,
  toHex,
  type BoxKeyPair,
  type SigningKeyPair,
} from '../lib/crypto/index.ts';
import { newPassphraseKey, sealWithPassphraseKey, unwrapSecret, type PassphraseKey } from '../lib/crypto/passphrase.ts';
import type { ProfileAccess } from '../lib/vault/profile.ts';
import { decodeAccess, encodeAccess, type StoredProfile } from './access.ts';
import { CliError } from './errors.ts';
import type { KdfPolicy } from './passphrase-input.ts';

interface Secrets {
  signingSecretKey: string;
  boxSecretKey: string;
  profiles: Record<string, StoredProfile>;
}

interface KeyringFileV2 {
  version: 2;
  signingPublicKey: string;
  boxPublicKey: string;
  secrets: unknown;
}

interface KeyringFileV1 {
  version: 1;
  signingSecretKey: string;
  boxSecretKey?: string;
  profiles: Record<string, StoredProfile>;
}

export const keyringFile = (dir: string): string => join(dir, 'keyring.json');

/** The public half, readable without the passphrase. */
export interface PublicIdentity {
  readonly signingPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
}

function readFile(dir: string): KeyringFileV1 | KeyringFileV2 {
  const file = keyringFile(dir);
  if (!existsSync(file)) throw new CliError('CLI_NO_IDENTITY', `no device identity in ${dir}: run "vault init" first`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError('CLI_BAD_KEYRING', 'the keyring file is damaged (not JSON)');
  }
  const v = (data as { version?: unknown } | null)?.version;
  if (v === 2 && typeof (data as KeyringFileV2).signingPublicKey === 'string' && typeof (data as KeyringFileV2).boxPublicKey === 'string') return data as KeyringFileV2;
  if (v === 1 && typeof (data as KeyringFileV1).signingSecretKey === 'string') return data as KeyringFileV1;
  throw new CliError('CLI_BAD_KEYRING', 'the keyring file is damaged or of an unknown version');
}

export function readPublicIdentity(dir: string): PublicIdentity {
  const data = readFile(dir);
  try {
    if (data.version === 2) return { signingPublicKey: fromHex(data.signingPublicKey), boxPublicKey: fromHex(data.boxPublicKey) };
  } catch {
    throw new CliError('CLI_BAD_KEYRING', 'the keyring file is damaged (public keys)');
  }
  throw new CliError('CLI_BAD_KEYRING', 'this keyring is in the old unencrypted format: run any other command once to seal it');
}

export class Keyring {
  readonly dir: string;
  private secrets: Secrets;
  private readonly wrapping: PassphraseKey;

  private constructor(dir: string, secrets: Secrets, wrapping: PassphraseKey) {
    this.dir = dir;
    this.secrets = secrets;
    this.wrapping = wrapping;
  }

  static init(dir: string, passphrase: string, kdf: KdfPolicy): Keyring {
    if (existsSync(keyringFile(dir))) throw new CliError('CLI_EXISTS', `a device identity already exists in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ring = new Keyring(
      dir,
      { signingSecretKey: toBase64Url(generateSigningKeyPair().secretKey), boxSecretKey: toBase64Url(generateBoxKeyPair().secretKey), profiles: {} },
      newPassphraseKey(passphrase, { params: kdf.params }),
    );
    ring.save();
    return ring;
  }

  /** A keyring brought back from a backup (src/cli/commands/backup.ts): given keys and profiles, sealed under a new passphrase. */
  static restore(dir: string, passphrase: string, kdf: KdfPolicy, o: { signing: SigningKeyPair; box: BoxKeyPair; profiles: Record<string, StoredProfile> }): Keyring {
    if (existsSync(keyringFile(dir))) throw new CliError('CLI_EXISTS', `a device identity already exists in ${dir}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ring = new Keyring(
      dir,
      { signingSecretKey: toBase64Url(o.signing.secretKey), boxSecretKey: toBase64Url(o.box.secretKey), profiles: o.profiles },
      newPassphraseKey(passphrase, { params: kdf.params }),
    );
    ring.checkKeys();
    ring.save();
    return ring;
  }

  static load(dir: string, passphrase: string, kdf: KdfPolicy): Keyring {
    const data = readFile(dir);
    if (data.version === 1) {
      // Old plaintext format: seal it now under the passphrase, with a box key if it had none.
      const ring = new Keyring(
        dir,
        { signingSecretKey: data.signingSecretKey, boxSecretKey: data.boxSecretKey ?? toBase64Url(generateBoxKeyPair().secretKey), profiles: data.profiles ?? {} },
        newPassphraseKey(passphrase, { params: kdf.params }),
      );
      ring.checkKeys();
      ring.save();
      return ring;
    }
    const opened = unwrapSecret(data.secrets, passphrase, kdf.limits);
    if (!opened.ok) {
      if (opened.code === 'PASSPHRASE_WRONG') throw new CliError('CLI_BAD_PASSPHRASE', 'wrong passphrase, or the keyring file was altered');
      throw new CliError('CLI_BAD_KEYRING', `the keyring's sealed part is unusable: ${opened.message}`);
    }
    let secrets: Secrets;
    try {
      secrets = JSON.parse(new TextDecoder().decode(opened.value.plaintext)) as Secrets;
    } catch {
      throw new CliError('CLI_BAD_KEYRING', 'the keyring file is damaged (sealed content)');
    }
    const ring = new Keyring(dir, secrets, opened.value.key);
    ring.checkKeys(data);
    return ring;
  }

  /** The secret keys must decode and match the public keys in the clear (an edited public half is refused). */
  private checkKeys(pub?: KeyringFileV2): void {
    try {
      const signer = this.signer;
      const box = this.box;
      if (typeof this.secrets.profiles !== 'object' || this.secrets.profiles === null) throw new Error('profiles');
      if (pub && (!bytesEqual(fromHex(pub.signingPublicKey), signer.publicKey) || !bytesEqual(fromHex(pub.boxPublicKey), box.publicKey))) throw new Error('mismatch');
    } catch {
      throw new CliError('CLI_BAD_KEYRING', 'the keyring file is damaged (keys do not match)');
    }
  }

  save(): void {
    const file = keyringFile(this.dir);
    const body: KeyringFileV2 = {
      version: 2,
      signingPublicKey: toHex(this.signer.publicKey),
      boxPublicKey: toHex(this.box.publicKey),
      secrets: sealWithPassphraseKey(this.wrapping, new TextEncoder().encode(JSON.stringify(this.secrets))),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(body, null, 2), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }

  get signer(): SigningKeyPair {
    const secretKey = asSigningSecretKey(fromBase64Url(this.secrets.signingSecretKey));
    return { secretKey, publicKey: signingPublicKeyOf(secretKey) };
  }

  get box(): BoxKeyPair {
    return boxKeyPairFromSecretKey(fromBase64Url(this.secrets.boxSecretKey));
  }

  profile(alias: string): { access: ProfileAccess; relay: string | undefined; hasLocalCopy: boolean } {
    const p = Object.hasOwn(this.secrets.profiles, alias) ? this.secrets.profiles[alias] : undefined;
    if (!p) throw new CliError('CLI_UNKNOWN_PROFILE', `no profile named "${alias}" on this device`);
    try {
      return { access: decodeAccess(p), relay: p.relay, hasLocalCopy: p.hasLocalCopy === true };
    } catch {
      throw new CliError('CLI_BAD_KEYRING', `the keyring entry for "${alias}" is damaged`);
    }
  }

  aliases(): string[] {
    return Object.keys(this.secrets.profiles);
  }

  addProfile(alias: string, access: ProfileAccess, o: { relay?: string; hasLocalCopy: boolean }): void {
    if (Object.hasOwn(this.secrets.profiles, alias)) throw new CliError('CLI_EXISTS', `a profile named "${alias}" already exists`);
    this.secrets.profiles[alias] = { ...encodeAccess(access), relay: o.relay, hasLocalCopy: o.hasLocalCopy };
    this.save();
  }

  /** Forgets a profile and its keys (an erased profile, src/cli/commands/erase.ts). */
  removeProfile(alias: string): void {
    delete this.secrets.profiles[alias];
    this.save();
  }

  /**
   * After a sync: the relay that worked, the keys this device now holds (lockboxes deliver new
   * epochs), and that the store has a copy (an empty store later means damage, not a new profile).
   */
  updateProfile(alias: string, access: ProfileAccess, o: { relay?: string; hasLocalCopy: boolean }): void {
    const old = this.profile(alias);
    this.secrets.profiles[alias] = {
      ...encodeAccess({ ...access, genesisNonce: access.genesisNonce ?? old.access.genesisNonce }),
      relay: o.relay ?? old.relay,
      hasLocalCopy: o.hasLocalCopy || old.hasLocalCopy,
    };
    this.save();
  }
}
