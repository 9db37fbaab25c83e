/**
 * What the browser app needs from the vault, in one place: the session, browser storage
 * (IndexedDB: wrapped device keys, ciphertext envelopes), guest joins, and error text.
 */
import { generateBoxKeyPair, generateSigningKeyPair } from '../crypto/index.ts';
import { acceptInvitation, previewInvitation, type InvitePreview } from './invite.ts';
export { grantsLastingAccess, type InvitePreview } from './invite.ts';
import type { Profile } from './profile.ts';
import type { SessionEnv } from './session.ts';
import { VaultError } from './errors.ts';
import { roleName, type RoleName } from '../protocol/index.ts';

export { VaultSession, type SessionEnv } from './session.ts';
export type { VaultEntry } from './person-vault.ts';
export { indexeddbDeviceStore } from './device-names.ts';
export { indexeddbPersistence, eraseIndexeddbCopies } from '../storage/indexeddb.ts';
export type { DeviceView } from './people.ts';
export { describeError } from './errors.ts';
export { backupFileName } from './backup-session.ts';
export { renameSelf, setNickname, leaveAndForget } from './self.ts';
export type { BackupPhase } from './backup.ts';
import { indexeddbDeviceStore } from './device-names.ts';
import { indexeddbPersistence, eraseIndexeddbCopies } from '../storage/indexeddb.ts';

/** The browser's session environment: IndexedDB for keys and ciphertext, the relay on this origin's host. */
export function browserEnv(relayUrl: string): SessionEnv {
  return { store: indexeddbDeviceStore(), persistence: indexeddbPersistence, erase: eraseIndexeddbCopies, relayUrl };
}

/**
 * Joins from an invite link with throwaway keys held in memory only (a clinician on a shared
 * computer): nothing is stored on the device, and closing the tab ends it. Only for links whose
 * access ends (a live session): a lasting invite is refused before it is used
 * (GUEST_NEEDS_SESSION), since its member would outlive the keys (docs/decisions/0039).
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
    memoryOnly: true,
  });
}

/** What an invite grants, read without using it (the join screen's choice of path). */
export async function previewInvite(env: SessionEnv, link: string): Promise<InvitePreview & { roleName: RoleName }> {
  if (!env.relayUrl) throw new VaultError('RELAY_NOT_CONFIGURED', 'joining needs a connection to the relay');
  const preview = await previewInvitation(link, { relayUrl: env.relayUrl, now: env.now, minReconnectDelayMs: env.minReconnectDelayMs, timeoutMs: env.timeoutMs });
  return { ...preview, roleName: roleName(preview.role) ?? 'viewer' };
}
export * as appLock from './app-lock-session.ts';
