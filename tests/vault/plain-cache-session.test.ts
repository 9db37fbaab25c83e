/**
 * The plain-state cache on a person's device (docs/decisions/0020): the session keeps the cache
 * key (non-extractable) beside its wrapped keys, profiles open from their caches on resume, and
 * forgetting the device (also what the app does once the device is revoked) erases every cache
 * with the device's copies and drops the key.
 */
import { describe, expect, it } from 'vitest';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const allergy = { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } };

function deviceEnv(relayUrl?: string) {
  const persistence = memoryPersistence();
  const env: SessionEnv = { store: memoryDeviceStore(), persistence, erase: persistence.erase, relayUrl, minReconnectDelayMs: 50, timeoutMs: 10_000 };
  const cacheOf = (name: string) => persistence.plainCache!(name).read();
  return { env, cacheOf };
}

describe('plain-state cache in a vault session', () => {
  it('profiles open from their caches on resume; forgetting the device erases every cache and the cache key', async () => {
    const { env, cacheOf } = deviceEnv();
    const { session } = await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Laptop' });
    const stored = await env.store.load();
    expect(stored?.cacheKey?.extractable).toBe(false);
    const entry = await session.createProfile({ name: 'Mum', relationship: 'mother' });
    const mum = await session.openProfile(entry.docId);
    mum.records.put('allergies', allergy);
    const vaultName = session.vault.profile.name;
    await session.close();
    expect(await cacheOf(entry.docId)).toBeInstanceOf(Uint8Array);
    expect(await cacheOf(vaultName)).toBeInstanceOf(Uint8Array);

    const again = (await VaultSession.resume(env))!;
    const reopened = await again.openProfile(entry.docId);
    expect(reopened.cacheRead).toBe('hit');
    expect(reopened.records.get('allergies', 'pen')?.code.text).toBe('Penicillin');
    expect(await reopened.whenVerified()).toBe('verified');

    await again.forgetDevice();
    expect(await env.store.load()).toBeUndefined(); // the cache key with it
    expect(await cacheOf(entry.docId)).toBeUndefined();
    expect(await cacheOf(vaultName)).toBeUndefined();
  });

  it('a device set up before caches existed gets a cache key on resume', async () => {
    const { env } = deviceEnv();
    const { session } = await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Laptop' });
    await session.close();
    const { cacheKey: _dropped, ...old } = (await env.store.load())!;
    await env.store.save(old);
    const again = (await VaultSession.resume(env))!;
    cleanups.push(() => again.close());
    expect((await env.store.load())?.cacheKey?.extractable).toBe(false);
  });

  it('a revoked device, leaving as the app makes it, erases its caches with its copies', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { session: laptop, recoveryCode } = await VaultSession.create(deviceEnv(relay.url).env, { displayName: 'Ana', deviceLabel: 'Laptop' });
    cleanups.push(() => laptop.close());
    const entry = await laptop.createProfile({ name: 'Mum', relationship: 'mother' });
    const mum = await laptop.openProfile(entry.docId);
    mum.records.put('allergies', allergy);
    await mum.flush();
    await laptop.vault.profile.status.when((st) => st.synced && st.pending === 0);

    const phoneDevice = deviceEnv(relay.url);
    const phone = await VaultSession.restore(phoneDevice.env, { code: recoveryCode, displayName: 'Ana', deviceLabel: 'Phone' });
    const phoneMum = await phone.openProfile(entry.docId);
    await eventually(() => phoneMum.records.get('allergies', 'pen') !== undefined);
    await phoneMum.writeCache();
    await phone.vault.profile.writeCache();
    expect(await phoneDevice.cacheOf(entry.docId)).toBeInstanceOf(Uint8Array);

    let left: Promise<void> | undefined;
    phone.onRevoked(() => (left = phone.forgetDevice())); // what AppState.leaveRevoked does
    await eventually(() => mum.membershipState().devices.has(phone.deviceId));
    await laptop.revokeDevice(phone.deviceId);
    await eventually(() => left !== undefined);
    await left;
    expect(await phoneDevice.cacheOf(entry.docId)).toBeUndefined();
    expect(await phoneDevice.cacheOf(phone.vault.profile.name)).toBeUndefined();
    expect(await phoneDevice.env.store.load()).toBeUndefined();
  });
});
