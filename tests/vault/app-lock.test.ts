/**
 * The app lock's key handling (docs/decisions/0043): a passkey's PRF output is the only way back
 * to the keys it locks; a PIN never wraps keys; a locked device's session does not open without
 * unlocking, and opens the same identity and records with it.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, toBase64Url } from '../../src/lib/crypto/index.ts';
import { memoryDeviceStore, type DeviceStore } from '../../src/lib/storage/device-store.ts';
import {
  checkPin,
  disableLock,
  enablePasskeyLock,
  enablePinLock,
  keysFromLockSecret,
  openLockSecret,
  PIN_FREE_TRIES,
  PIN_PAUSE_MS,
  sealLockSecret,
  setIdleMinutes,
  unlockWithPrf,
} from '../../src/lib/vault/app-lock.ts';
import { createDeviceWrappingKey, unwrapSecrets, wrapSecrets } from '../../src/lib/vault/key-store.ts';
import { VaultSession } from '../../src/lib/vault/session.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';

const rnd = seededRandom(43);
const secrets = { identitySeed: rnd(32), deviceSigningSeed: rnd(32), deviceBoxSecret: rnd(32) };
const prf = rnd(32);
const otherPrf = rnd(32);

/** A store holding these secrets the way a fresh device does (no lock). */
async function deviceStore(): Promise<DeviceStore> {
  const store = memoryDeviceStore();
  const wrappingKey = await createDeviceWrappingKey();
  await store.save({ wrappingKey, cacheKey: await createDeviceWrappingKey(), wrapped: await wrapSecrets(secrets, wrappingKey), cert: 'x', label: 'Phone', displayName: 'Ana', createdAt: 1 });
  return store;
}

describe('app lock: the PRF output wraps the keys', () => {
  it('PRF output → lock secret → keys: round-trips; another PRF output fails with LOCK_WRONG_KEY', async () => {
    const { secret, sealed } = await sealLockSecret(prf);
    const copy = secret.slice();
    expect(await openLockSecret(prf, sealed)).toEqual(copy);
    await expect(openLockSecret(otherPrf, sealed)).rejects.toMatchObject({ code: 'LOCK_WRONG_KEY' });
    const flipped = { ...sealed, ct: toBase64Url(Uint8Array.from(Buffer.from(sealed.ct, 'base64url'), (b, i) => (i === 0 ? b ^ 1 : b))) };
    await expect(openLockSecret(prf, flipped)).rejects.toMatchObject({ code: 'LOCK_WRONG_KEY' });
    // A PRF output too short to be one is refused before any key is made.
    await expect(openLockSecret(prf.slice(0, 16), sealed)).rejects.toMatchObject({ code: 'LOCK_NO_PRF' });
    const keys = await keysFromLockSecret(secret);
    expect(secret.every((b) => b === 0)).toBe(true);
    expect(keys.wrappingKey.extractable).toBe(false);
    expect(keys.cacheKey.extractable).toBe(false);
  });

  it('a passkey lock leaves the store without a usable key: only the right PRF output gets the secrets back', async () => {
    const store = await deviceStore();
    const before = (await store.load())!;
    const keys = await enablePasskeyLock(store, secrets, { prf, credentialId: rnd(16), salt: rnd(32) });
    const locked = (await store.load())!;
    expect(locked.wrappingKey).toBeUndefined();
    expect(locked.cacheKey).toBeUndefined();
    expect(locked.lock?.kind).toBe('passkey');
    // The old device key no longer opens what is stored.
    await expect(unwrapSecrets(locked.wrapped, before.wrappingKey!)).rejects.toMatchObject({ code: 'KEYSTORE_UNWRAP_FAILED' });
    expect(await unwrapSecrets(locked.wrapped, keys.wrappingKey)).toEqual(secrets);
    // Unlocking again from the stored record alone, as after a reload.
    const again = await unlockWithPrf(locked, prf);
    expect(await unwrapSecrets(locked.wrapped, again.wrappingKey)).toEqual(secrets);
    await expect(unlockWithPrf(locked, otherPrf)).rejects.toMatchObject({ code: 'LOCK_WRONG_KEY' });
    // Nothing stored holds the secrets or the PRF output in the clear.
    const text = JSON.stringify(locked);
    for (const s of [...Object.values(secrets), prf]) expect(text).not.toContain(toBase64Url(s));
  });

  it('turning the lock off puts the keys back under a new non-extractable device key', async () => {
    const store = await deviceStore();
    await enablePasskeyLock(store, secrets, { prf, credentialId: rnd(16), salt: rnd(32) });
    const keys = await disableLock(store, secrets);
    const open = (await store.load())!;
    expect(open.lock).toBeUndefined();
    expect(open.wrappingKey).toBe(keys.wrappingKey);
    expect(open.wrappingKey!.extractable).toBe(false);
    expect(await unwrapSecrets(open.wrapped, open.wrappingKey!)).toEqual(secrets);
  });
});

describe('app lock: a PIN is a screen lock only', () => {
  it('a PIN alone cannot unwrap: it wraps nothing, and it is refused over a passkey lock', async () => {
    const store = await deviceStore();
    const before = (await store.load())!;
    await enablePinLock(store, '482913');
    const withPin = (await store.load())!;
    // The keys are exactly as before (under the non-extractable device key); the PIN is no key to them.
    expect(withPin.wrapped).toEqual(before.wrapped);
    expect(withPin.wrappingKey).toBe(before.wrappingKey);
    expect(withPin.lock?.kind).toBe('pin');
    if (withPin.lock?.kind !== 'pin') return;
    expect(withPin.lock.pinKey.extractable).toBe(false);
    expect(JSON.stringify(withPin.lock)).not.toContain('482913');
    // Keys derived from the PIN (as a would-be PRF output) open nothing.
    const fromPin = new Uint8Array(32);
    fromPin.set(new TextEncoder().encode('482913'));
    const locked = await deviceStore();
    await enablePasskeyLock(locked, secrets, { prf, credentialId: rnd(16), salt: rnd(32) });
    await expect(unlockWithPrf((await locked.load())!, fromPin)).rejects.toMatchObject({ code: 'LOCK_WRONG_KEY' });
    // A PIN cannot be set where a passkey holds the keys (it would have to wrap them).
    await expect(enablePinLock(locked, '482913')).rejects.toMatchObject({ code: 'APP_LOCKED' });
  });

  it('checks the PIN, counts wrong ones across reloads, pauses from the fifth and doubles', async () => {
    const store = await deviceStore();
    await expect(enablePinLock(store, '12345')).rejects.toMatchObject({ code: 'LOCK_SETTING_INVALID' });
    await expect(enablePinLock(store, '12345a')).rejects.toMatchObject({ code: 'LOCK_SETTING_INVALID' });
    await enablePinLock(store, '482913');
    let now = 1_000_000;
    const o = { now: () => now };
    await checkPin(store, '482913', o);
    for (let i = 1; i < PIN_FREE_TRIES; i++) await expect(checkPin(store, '000000', o)).rejects.toMatchObject({ code: 'LOCK_WRONG_PIN' });
    await expect(checkPin(store, '000000', o)).rejects.toMatchObject({ code: 'LOCK_WRONG_PIN' });
    // Paused now, even for the right PIN.
    await expect(checkPin(store, '482913', o)).rejects.toMatchObject({ code: 'LOCK_PIN_PAUSED' });
    now += PIN_PAUSE_MS;
    await expect(checkPin(store, '000000', o)).rejects.toMatchObject({ code: 'LOCK_WRONG_PIN' });
    now += PIN_PAUSE_MS; // the pause doubled: still refused
    await expect(checkPin(store, '482913', o)).rejects.toMatchObject({ code: 'LOCK_PIN_PAUSED' });
    now += PIN_PAUSE_MS;
    await checkPin(store, '482913', o);
    const lock = (await store.load())!.lock;
    expect(lock?.kind === 'pin' && lock.failures).toBe(0);
  });

  it('the idle time is checked and kept', async () => {
    const store = await deviceStore();
    await enablePinLock(store, '482913');
    await setIdleMinutes(store, 15);
    expect((await store.load())!.lock?.idleMinutes).toBe(15);
    await expect(setIdleMinutes(store, 0)).rejects.toMatchObject({ code: 'LOCK_SETTING_INVALID' });
    await expect(setIdleMinutes(store, 1.5)).rejects.toMatchObject({ code: 'LOCK_SETTING_INVALID' });
  });
});

describe('app lock: a locked session', () => {
  it('does not open without unlocking (APP_LOCKED), and opens the same person and records with the PRF output', async () => {
    const env = { store: memoryDeviceStore(), persistence: memoryPersistence() };
    const { session } = await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Phone' });
    const entry = await session.createProfile({ name: 'Mum', relationship: 'mother' });
    (await session.openProfile(entry.docId)).records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });
    const { signingSeed } = await import('../../src/lib/crypto/index.ts');
    await enablePasskeyLock(env.store, { identitySeed: session.person.identity.seed, deviceSigningSeed: signingSeed(session.device.signing.secretKey), deviceBoxSecret: session.device.box.secretKey }, { prf, credentialId: rnd(16), salt: rnd(32) });
    const me = session.deviceId;
    await session.close();

    await expect(VaultSession.resume(env)).rejects.toMatchObject({ code: 'APP_LOCKED' });
    const keys = await unlockWithPrf((await env.store.load())!, prf);
    const again = (await VaultSession.resume(env, keys))!;
    expect(again.deviceId).toBe(me);
    expect(again.profiles().map((p) => p.name)).toEqual(['Mum']);
    expect((await again.openProfile(entry.docId)).records.get('allergies', 'pen')?.code.text).toBe('Penicillin');
    await again.close();
  });
});
