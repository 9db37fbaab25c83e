/**
 * What the browser app needs from the vault, in one place: the session, browser storage
 * (IndexedDB: wrapped device keys, ciphertext envelopes), guest joins, and error text.
 */
import { generateBoxKeyPair, generateSigningKeyPair } from '../crypto/index.ts';
import { acceptInvitation } from './invite.ts';
import type { Profile } from './profile.ts';
import type { SessionEnv } from './session.ts';
import { VaultError } from './errors.ts';

export { VaultSession, type SessionEnv } from './session.ts';
export type { VaultEntry } from './person-vault.ts';
export { indexeddbDeviceStore } from '../storage/device-store.ts';
export { indexeddbPersistence, eraseIndexeddbCopies } from '../storage/indexeddb.ts';
export type { DeviceView } from './people.ts';
export { describeError } from './errors.ts';
export { backupFileName } from './backup-session.ts';
export type { BackupPhase } from './backup.ts';
import { indexeddbDeviceStore } from '../storage/device-store.ts';
import { indexeddbPersistence, eraseIndexeddbCopies } from '../storage/indexeddb.ts';

/** The browser's session environment: IndexedDB for keys and ciphertext, the relay on this origin's host. */
export function browserEnv(relayUrl: string): SessionEnv {
  return { store: indexeddbDeviceStore(), persistence: indexeddbPersistence, erase: eraseIndexeddbCopies, relayUrl };
}

/**
 * Joins from an invite link with throwaway keys held in memory only (a clinician on a shared
 * computer): nothing is stored on the device, and closing the tab ends it.
 */
export async function joinAsGuest(env: SessionEnv, link: string): Promise<Profile> {
  if (!env.relayUrl) throw new VaultError('RELAY_NOT_CONFIGURED', 'joining needs a connection to the relay');
  return acceptInvitation(link, {
    signer: generateSigningKeyPair(env.random),
    box: generateBoxKeyPair(env.random),
    relayUrl: env.relayUrl,
    engine: env.engine,
    now: env.now,
    minReconnectDelayMs: env.minReconnectDelayMs,
    timeoutMs: env.timeoutMs,
  });
}
export * as appLock from './app-lock-session.ts';
