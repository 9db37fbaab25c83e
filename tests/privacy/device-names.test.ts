/**
 * The person's name and the device label at rest (src/lib/vault/device-names.ts, decision 0042):
 * what the raw store holds carries neither in clear (UTF-8 or UTF-16), opens back to the same
 * StoredDevice, refuses a flipped byte or another key with DEVICE_NAMES_UNREADABLE, and a record
 * written before sealing (names in clear) is sealed and rewritten on its first load.
 */
import { describe, expect, it } from 'vitest';
import { memoryRecordStore, type StoredDevice } from '../../src/lib/storage/device-store.ts';
import { createDeviceNamesKey, openDeviceNames, sealDeviceNames, sealedNamesDeviceStore, type SealedDeviceRecord } from '../../src/lib/vault/device-names.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';

const NAME = 'Zebulon Quixworth-Canary';
const LABEL = 'Kitchen Tablet Canary';

async function aDevice(): Promise<StoredDevice> {
  const key = (await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])) as CryptoKey;
  return { wrappingKey: key, cacheKey: key, wrapped: { v: 1, iv: 'aXY', ct: 'Y3Q' }, cert: 'Y2VydA', label: LABEL, displayName: NAME, createdAt: 1_700_000_000_000 };
}

/** Every string and byte array in a value, as bytes: what a structured clone would write. */
function bytesOf(v: unknown): Uint8Array[] {
  if (typeof v === 'string') return [new TextEncoder().encode(v), Uint8Array.from(Buffer.from(v, 'utf16le'))];
  if (v instanceof Uint8Array) return [v];
  if (v && typeof v === 'object' && !(v instanceof CryptoKey)) return Object.values(v).flatMap(bytesOf);
  return [];
}
const holds = (v: unknown, text: string) => bytesOf(v).some((b) => Buffer.from(b).includes(Buffer.from(text)) || Buffer.from(b).includes(Buffer.from(text, 'utf16le')));

describe('sealed device names', () => {
  it('the raw record holds no name or label in clear, and loads back as the device saved', async () => {
    const raw = memoryRecordStore<SealedDeviceRecord | StoredDevice>();
    const store = sealedNamesDeviceStore(raw);
    const device = await aDevice();
    await store.save(device);
    const held = (await raw.load())!;
    expect(holds(held, NAME) || holds(held, LABEL)).toBe(false);
    expect('label' in held || 'displayName' in held).toBe(false);
    expect((held as SealedDeviceRecord).namesKey.extractable).toBe(false);
    expect(await store.load()).toEqual(device);
    // The check itself finds a name where there is one (not blind).
    expect(holds({ x: `a ${NAME} b` }, NAME)).toBe(true);
  });

  it('migrates a record written before sealing: loads it, then rewrites it sealed', async () => {
    const raw = memoryRecordStore<SealedDeviceRecord | StoredDevice>();
    const legacy = await aDevice();
    await raw.save(legacy);
    const store = sealedNamesDeviceStore(raw);
    expect(await store.load()).toEqual(legacy);
    const held = (await raw.load())!;
    expect(holds(held, NAME) || holds(held, LABEL)).toBe(false);
    expect(held.wrappingKey).toBe(legacy.wrappingKey);
    expect(await store.load()).toEqual(legacy);
  });

  it('refuses a flipped byte, another key and another format with DEVICE_NAMES_UNREADABLE', async () => {
    const key = await createDeviceNamesKey();
    const sealed = await sealDeviceNames({ label: LABEL, displayName: NAME }, key);
    expect(await openDeviceNames(sealed, key)).toEqual({ label: LABEL, displayName: NAME });
    const refused = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(VaultError);
      expect((e as VaultError).code).toBe('DEVICE_NAMES_UNREADABLE');
      expect((e as VaultError).message).not.toContain(NAME);
    };
    for (let i = 0; i < sealed.length; i += 7) {
      const flipped = sealed.slice();
      flipped[i]! ^= 1;
      await refused(openDeviceNames(flipped, key));
    }
    await refused(openDeviceNames(sealed, await createDeviceNamesKey()));
    await refused(openDeviceNames(sealed.subarray(0, 20), key));
  });

  it('a store whose sealed names were altered does not load', async () => {
    const raw = memoryRecordStore<SealedDeviceRecord | StoredDevice>();
    const store = sealedNamesDeviceStore(raw);
    await store.save(await aDevice());
    const held = (await raw.load()) as SealedDeviceRecord;
    const names = held.names.slice();
    names[names.length - 1]! ^= 0x80;
    await raw.save({ ...held, names });
    await expect(store.load()).rejects.toMatchObject({ code: 'DEVICE_NAMES_UNREADABLE' });
  });
});
