/**
 * The app lock (docs/decisions/0043): what stands between a device left on a table and its keys.
 *
 * A passkey lock is a key lock. A random 32-byte lock secret is sealed (AES-GCM) under a key
 * derived (HKDF-SHA-256) from the passkey's WebAuthn PRF output; from the lock secret come the
 * key that wraps the identity and device seeds and the key of the plain-state caches (decision
 * 0020). The store then keeps neither of those keys: only the authenticator, with the person's
 * verification, gives back the PRF output that opens them.
 *
 * A PIN lock is a screen lock only. Its keys stay under the non-extractable device key, as
 * without a lock; the PIN is checked against an HMAC under a non-extractable key. A 6-digit PIN
 * has a million values: as the only thing wrapping keys it would fall to an offline guess in
 * seconds, so it never wraps them.
 *
 * Pure over an injected store, WebCrypto and clock; the WebAuthn calls are vault/passkey.ts.
 */
import { fromBase64Url, secureRandom, toBase64Url, utf8, type RandomSource } from '../crypto/index.ts';
import type { DeviceStore, StoredDevice } from '../storage/device-store.ts';
import type { LockRecord, PasskeyLockRecord, PinLockRecord, SealedBytes } from '../storage/lock-record.ts';
import { createPlainCacheKey } from './plain-cache.ts';
import { VaultError } from './errors.ts';
import { createDeviceWrappingKey, wrapSecrets, type DeviceSecrets } from './key-store.ts';

export type { LockRecord } from '../storage/lock-record.ts';

export const DEFAULT_IDLE_MINUTES = 5;
export const IDLE_MINUTES_RANGE = [1, 240] as const;
/** Wrong PINs in a row before tries pause; each further wrong PIN doubles the pause. */
export const PIN_FREE_TRIES = 5;
export const PIN_PAUSE_MS = 30_000;

/** What unlocking gives back: the keys the stored record no longer holds. */
export interface UnlockedKeys {
  readonly wrappingKey: CryptoKey;
  readonly cacheKey: CryptoKey;
}

export interface LockEnv {
  readonly subtle?: SubtleCrypto;
  readonly random?: RandomSource;
  readonly now?: () => number;
}

const SEAL_AAD = utf8('fhv/app-lock/secret/v1');
const PIN_PATTERN = /^\d{6,12}$/;

const subtleOf = (o: LockEnv) => o.subtle ?? globalThis.crypto.subtle;

async function hkdfAesKey(ikm: Uint8Array, info: string, subtle: SubtleCrypto): Promise<CryptoKey> {
  const base = await subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32) as BufferSource, info: utf8(info) as BufferSource },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function checkPrf(prf: Uint8Array): void {
  if (prf.length < 32) throw new VaultError('LOCK_NO_PRF', 'This passkey did not give the key this app needs');
}

/** Seals a fresh lock secret under the PRF output; the secret is returned for one use and then zeroed by the caller. */
export async function sealLockSecret(prf: Uint8Array, o: LockEnv = {}): Promise<{ secret: Uint8Array; sealed: SealedBytes }> {
  checkPrf(prf);
  const random = o.random ?? secureRandom;
  const secret = random(32);
  const iv = random(12);
  const kek = await hkdfAesKey(prf, 'fhv/app-lock/kek/v1', subtleOf(o));
  const ct = new Uint8Array(await subtleOf(o).encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: SEAL_AAD as BufferSource }, kek, secret as BufferSource));
  return { secret, sealed: { iv: toBase64Url(iv), ct: toBase64Url(ct) } };
}

/** Opens the lock secret with the PRF output; anything else fails with LOCK_WRONG_KEY. */
export async function openLockSecret(prf: Uint8Array, sealed: SealedBytes, o: LockEnv = {}): Promise<Uint8Array> {
  checkPrf(prf);
  const kek = await hkdfAesKey(prf, 'fhv/app-lock/kek/v1', subtleOf(o));
  try {
    const plain = await subtleOf(o).decrypt({ name: 'AES-GCM', iv: fromBase64Url(sealed.iv) as BufferSource, additionalData: SEAL_AAD as BufferSource }, kek, fromBase64Url(sealed.ct) as BufferSource);
    return new Uint8Array(plain);
  } catch {
    throw new VaultError('LOCK_WRONG_KEY', 'This passkey does not unlock this device');
  }
}

/** The wrapping and cache keys of a lock secret (non-extractable); zeroes the secret. */
export async function keysFromLockSecret(secret: Uint8Array, o: LockEnv = {}): Promise<UnlockedKeys> {
  try {
    return {
      wrappingKey: await hkdfAesKey(secret, 'fhv/app-lock/wrap/v1', subtleOf(o)),
      cacheKey: await hkdfAesKey(secret, 'fhv/app-lock/cache/v1', subtleOf(o)),
    };
  } finally {
    secret.fill(0);
  }
}

async function loadStored(store: DeviceStore): Promise<StoredDevice> {
  const stored = await store.load();
  if (!stored) throw new VaultError('SESSION_NO_IDENTITY', 'This device holds no identity');
  return stored;
}

function checkIdle(minutes: number): number {
  if (!Number.isInteger(minutes) || minutes < IDLE_MINUTES_RANGE[0] || minutes > IDLE_MINUTES_RANGE[1]) {
    throw new VaultError('LOCK_SETTING_INVALID', `The idle time must be ${IDLE_MINUTES_RANGE[0]} to ${IDLE_MINUTES_RANGE[1]} minutes`);
  }
  return minutes;
}

/**
 * Puts this device's keys behind a passkey: they are re-wrapped under keys from a new lock
 * secret sealed under the PRF output, and the stored wrapping and cache keys are dropped (the
 * caches written under the old key become unreadable and are rebuilt from verified records).
 * `secrets` are the unlocked session's. Returns the keys for the session to go on with.
 */
export async function enablePasskeyLock(
  store: DeviceStore,
  secrets: DeviceSecrets,
  p: { prf: Uint8Array; credentialId: Uint8Array; salt: Uint8Array; idleMinutes?: number },
  o: LockEnv = {},
): Promise<UnlockedKeys> {
  const stored = await loadStored(store);
  const { secret, sealed } = await sealLockSecret(p.prf, o);
  const keys = await keysFromLockSecret(secret, o);
  const wrapped = await wrapSecrets(secrets, keys.wrappingKey, { random: o.random, subtle: o.subtle });
  const lock: PasskeyLockRecord = {
    v: 1,
    kind: 'passkey',
    credentialId: toBase64Url(p.credentialId),
    salt: toBase64Url(p.salt),
    sealed,
    idleMinutes: checkIdle(p.idleMinutes ?? stored.lock?.idleMinutes ?? DEFAULT_IDLE_MINUTES),
  };
  const { wrappingKey: _w, cacheKey: _c, ...rest } = stored;
  await store.save({ ...rest, wrapped, lock });
  return keys;
}

/** The keys a passkey lock holds, from the PRF output of its credential (LOCK_WRONG_KEY otherwise). */
export async function unlockWithPrf(stored: StoredDevice, prf: Uint8Array, o: LockEnv = {}): Promise<UnlockedKeys> {
  if (stored.lock?.kind !== 'passkey') throw new VaultError('LOCK_WRONG_KEY', 'This device has no passkey lock');
  return keysFromLockSecret(await openLockSecret(prf, stored.lock.sealed, o), o);
}

async function pinTag(pinKey: CryptoKey, salt: Uint8Array, pin: string, subtle: SubtleCrypto): Promise<Uint8Array> {
  const data = new Uint8Array([...salt, ...utf8(pin)]);
  return new Uint8Array(await subtle.sign('HMAC', pinKey, data as BufferSource));
}

/** Sets a PIN screen lock (the keys stay as they are: under the non-extractable device key). */
export async function enablePinLock(store: DeviceStore, pin: string, o: LockEnv & { idleMinutes?: number } = {}): Promise<void> {
  if (!PIN_PATTERN.test(pin)) throw new VaultError('LOCK_SETTING_INVALID', 'A PIN is 6 to 12 digits');
  const stored = await loadStored(store);
  // A PIN alone never wraps keys: turn a passkey lock off first (disableLock), which restores the device key.
  if (!stored.wrappingKey) throw new VaultError('APP_LOCKED', 'Turn the passkey lock off before setting a PIN');
  const subtle = subtleOf(o);
  const pinKey = (await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign', 'verify'])) as CryptoKey;
  const salt = (o.random ?? secureRandom)(16);
  const lock: PinLockRecord = {
    v: 1,
    kind: 'pin',
    pinKey,
    salt: toBase64Url(salt),
    tag: toBase64Url(await pinTag(pinKey, salt, pin, subtle)),
    idleMinutes: checkIdle(o.idleMinutes ?? stored.lock?.idleMinutes ?? DEFAULT_IDLE_MINUTES),
    failures: 0,
    pausedUntil: 0,
  };
  await store.save({ ...stored, lock });
}

/**
 * Checks a PIN: right resets the count; wrong counts, and from the fifth wrong PIN in a row the
 * next try waits (30 s, doubling). The count is stored, so a reload does not reset it.
 */
export async function checkPin(store: DeviceStore, pin: string, o: LockEnv = {}): Promise<void> {
  const stored = await loadStored(store);
  const lock = stored.lock;
  if (lock?.kind !== 'pin') throw new VaultError('LOCK_WRONG_PIN', 'This device has no PIN');
  const now = (o.now ?? Date.now)();
  if (now < lock.pausedUntil) throw new VaultError('LOCK_PIN_PAUSED', 'Too many wrong PINs: wait a little, then try again');
  const subtle = subtleOf(o);
  const data = new Uint8Array([...fromBase64Url(lock.salt), ...utf8(pin)]);
  const right = await subtle.verify('HMAC', lock.pinKey, fromBase64Url(lock.tag) as BufferSource, data as BufferSource);
  if (right) {
    if (lock.failures) await store.save({ ...stored, lock: { ...lock, failures: 0, pausedUntil: 0 } });
    return;
  }
  const failures = lock.failures + 1;
  const pausedUntil = failures >= PIN_FREE_TRIES ? now + PIN_PAUSE_MS * 2 ** (failures - PIN_FREE_TRIES) : 0;
  await store.save({ ...stored, lock: { ...lock, failures, pausedUntil } });
  throw new VaultError('LOCK_WRONG_PIN', 'That PIN is not right');
}

/**
 * Turns the lock off: the keys go back under a new non-extractable device key (and a new cache
 * key). `secrets` are the unlocked session's.
 */
export async function disableLock(store: DeviceStore, secrets: DeviceSecrets, o: LockEnv = {}): Promise<UnlockedKeys> {
  const stored = await loadStored(store);
  if (stored.lock?.kind === 'pin' && stored.wrappingKey && stored.cacheKey) {
    const { lock: _l, ...rest } = stored;
    await store.save(rest);
    return { wrappingKey: stored.wrappingKey, cacheKey: stored.cacheKey };
  }
  const wrappingKey = await createDeviceWrappingKey(subtleOf(o));
  const cacheKey = await createPlainCacheKey(subtleOf(o));
  const wrapped = await wrapSecrets(secrets, wrappingKey, { random: o.random, subtle: o.subtle });
  const { lock: _l, ...rest } = stored;
  await store.save({ ...rest, wrappingKey, cacheKey, wrapped });
  return { wrappingKey, cacheKey };
}

/** Sets the idle time after which the app locks. */
export async function setIdleMinutes(store: DeviceStore, minutes: number): Promise<void> {
  const stored = await loadStored(store);
  if (!stored.lock) throw new VaultError('LOCK_SETTING_INVALID', 'There is no app lock to time');
  await store.save({ ...stored, lock: { ...stored.lock, idleMinutes: checkIdle(minutes) } as LockRecord });
}

/** The public part of a lock, for the lock screen and settings (no key, no tag). */
export interface LockView {
  readonly kind: 'passkey' | 'pin';
  readonly idleMinutes: number;
  readonly credentialId?: Uint8Array;
  readonly salt?: Uint8Array;
  readonly pausedUntil: number;
}

export function lockView(lock: LockRecord | undefined): LockView | undefined {
  if (!lock) return undefined;
  return lock.kind === 'passkey'
    ? { kind: 'passkey', idleMinutes: lock.idleMinutes, credentialId: fromBase64Url(lock.credentialId), salt: fromBase64Url(lock.salt), pausedUntil: 0 }
    : { kind: 'pin', idleMinutes: lock.idleMinutes, pausedUntil: lock.pausedUntil };
}
