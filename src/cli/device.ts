/**
 * Opening this device (lock, passphrase, keyring) and one of its profiles (the local store),
 * with the checks that turn damage and missing access into typed errors instead of an empty
 * success: a store that lost what the keyring says it held, a device without the current key.
 */
import { join } from 'node:path';
import { sqlitePersistence, type NodePersistence } from '../lib/vault/node.ts';
import { Profile } from '../lib/vault/profile.ts';
import type { CliArgs } from './args.ts';
import { CliError } from './errors.ts';
import { Keyring } from './keyring.ts';
import { lockDir, type DirLock } from './lock.ts';
import { kdfPolicy, readPassphrase, type KdfPolicy } from './passphrase-input.ts';
import { accessNow, canRead, hasGenesis, holdsCurrentKey } from './profile-views.ts';

export interface OpenDevice {
  readonly dir: string;
  readonly ring: Keyring;
  readonly kdf: KdfPolicy;
  readonly lock: DirLock;
}

/** Takes the directory lock first, then asks for the passphrase (a locked dir fails without a prompt). */
export async function openDevice(a: CliArgs): Promise<OpenDevice> {
  const lock = lockDir(a.dir);
  const kdf = kdfPolicy(process.env);
  const passphrase = await readPassphrase(process.env, 'Keyring passphrase: ');
  return { dir: a.dir, ring: Keyring.load(a.dir, passphrase, kdf), kdf, lock };
}

export function openStore(dir: string): NodePersistence {
  try {
    return sqlitePersistence(join(dir, 'store'));
  } catch {
    throw new CliError('CLI_DAMAGED_STORE', `the local store in ${dir} is unreadable (not a database, or damaged)`);
  }
}

export interface OpenProfile {
  readonly profile: Profile;
  readonly store: NodePersistence;
  close(): Promise<void>;
}

export async function openProfile(dev: OpenDevice, alias: string, o: { relayUrl?: string } = {}): Promise<OpenProfile> {
  const { access, hasLocalCopy } = dev.ring.profile(alias);
  const store = openStore(dev.dir);
  let profile: Profile;
  try {
    profile = await Profile.open({ signer: dev.ring.signer, box: dev.ring.box, access, persistence: store.persistence, relayUrl: o.relayUrl, autoConnect: false });
  } catch (e) {
    store.close();
    if (e instanceof CliError) throw e;
    throw new CliError('CLI_DAMAGED_STORE', `the local copy of "${alias}" could not be loaded (${(e as Error).name})`);
  }
  // The keyring says this store held the profile (created, joined or synced here): an empty
  // envelope now is a truncated or replaced store, not a new profile.
  if (hasLocalCopy && !hasGenesis(profile)) {
    await closeQuietly(profile, store);
    throw new CliError('CLI_DAMAGED_STORE', `the local copy of "${alias}" is missing or damaged; restore ${join(dev.dir, 'store')} from a backup, or sync it again from the relay after moving it aside`);
  }
  return {
    profile,
    store,
    close: async () => {
      // Keys that arrived or were made in this session (lockboxes, rotations) go to the keyring,
      // so bundles and later sessions have them too; and a profile now in the store is marked.
      const now = accessNow(profile);
      const before = dev.ring.profile(alias);
      if (now.epochKeys.size !== before.access.epochKeys.size || now.epoch !== before.access.epoch || (hasGenesis(profile) && !before.hasLocalCopy)) {
        dev.ring.updateProfile(alias, now, { hasLocalCopy: hasGenesis(profile) });
      }
      await closeQuietly(profile, store);
    },
  };
}

async function closeQuietly(profile: Profile, store: NodePersistence): Promise<void> {
  await profile.close();
  store.close();
}

/**
 * Reads need the profile's records and the key they are sealed under. A device that cannot read
 * is told so (CLI_NO_KEY), never shown an empty profile with exit 0.
 */
export function requireReadable(p: Profile): void {
  const r = canRead(p);
  if (r === 'not-synced') throw new CliError('CLI_NO_KEY', 'nothing of this profile is on this device yet: run "vault sync" first');
  if (r === 'not-member') throw new CliError('CLI_NOT_ALLOWED', 'this device is not (or no longer) a member of this profile');
  if (r === 'no-key') {
    throw new CliError(
      'CLI_NO_KEY',
      'this device holds no key for the profile\'s current epoch (the key changed and no lockbox reached it): ask an owner to add it again with its member code from "vault whoami", then sync',
    );
  }
}

/** Writes: readable, and a role that may write; checked before anything changes. */
export function requireWriter(p: Profile): void {
  requireReadable(p);
  if (!p.canWrite) throw new CliError('CLI_NOT_ALLOWED', 'your role in this profile is read-only: nothing was changed');
  // Sealing needs the current key; without it edits would queue for ever (issue 10's spinning `set`).
  if (!holdsCurrentKey(p)) throw new CliError('CLI_NO_KEY', 'this device holds no key for the profile\'s current epoch: nothing was changed');
}

export function requireOwner(p: Profile, action: string): void {
  requireReadable(p);
  if (!p.isOwner) throw new CliError('CLI_NOT_ALLOWED', `only an owner of this profile can ${action}: nothing was changed`);
}
