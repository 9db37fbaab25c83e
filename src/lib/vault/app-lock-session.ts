/**
 * The app lock over a running session (docs/decisions/0043): turning it on, off, unlocking and
 * re-confirming, for the app state (state/app-lock.svelte.ts). The key handling is app-lock.ts;
 * the WebAuthn prompts are passkey.ts.
 */
import { signingSeed } from '../crypto/index.ts';
import type { DeviceStore } from '../storage/device-store.ts';
import { disableLock, enablePasskeyLock, lockView, unlockWithPrf, type UnlockedKeys } from './app-lock.ts';
import { VaultError } from './errors.ts';
import type { DeviceSecrets } from './key-store.ts';
import { createPasskeyForLock, passkeyPrf } from './passkey.ts';
import type { VaultSession } from './session.ts';

export { checkPin, enablePinLock, setIdleMinutes, lockView, DEFAULT_IDLE_MINUTES, type UnlockedKeys, type LockView } from './app-lock.ts';
export { passkeysAvailable } from './passkey.ts';

/** The unlocked session's secrets, to re-wrap (held only for the call). */
function secretsOf(session: VaultSession): DeviceSecrets {
  return {
    identitySeed: session.person.identity.seed,
    deviceSigningSeed: signingSeed(session.device.signing.secretKey),
    deviceBoxSecret: session.device.box.secretKey,
  };
}

/** Makes a passkey (with PRF) and puts this device's keys behind it. */
export async function lockWithNewPasskey(store: DeviceStore, session: VaultSession, idleMinutes?: number): Promise<UnlockedKeys> {
  const made = await createPasskeyForLock();
  return enablePasskeyLock(store, secretsOf(session), { ...made, idleMinutes });
}

/** Asks the passkey for its PRF output and opens this device's keys with it. */
export async function unlockWithPasskey(store: DeviceStore): Promise<UnlockedKeys> {
  const stored = await store.load();
  const view = lockView(stored?.lock);
  if (!stored || view?.kind !== 'passkey') throw new VaultError('LOCK_WRONG_KEY', 'This device has no passkey lock');
  return unlockWithPrf(stored, await passkeyPrf(view.credentialId!, view.salt!));
}

/** Turns the lock off (keys back under a new non-extractable device key). */
export function removeLock(store: DeviceStore, session: VaultSession): Promise<UnlockedKeys> {
  return disableLock(store, secretsOf(session));
}
