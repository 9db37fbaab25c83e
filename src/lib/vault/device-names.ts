/**
 * The person's name and this device's label, sealed at rest like everything else (docs/decisions/
 * 0042): IndexedDB holds them only as AES-GCM ciphertext under a non-extractable key of their own
 * kept in the same record (the way the plain-state cache key is kept, decision 0020), so a copy
 * of the profile directory, a backup of it or a disk scan finds no name in clear. The key does
 * not leave the browser's key storage through script; it is as strong as that storage (a reader
 * of the raw LevelDB with the key's structured-clone bytes could open it, as with the wrapped
 * device keys beside it).
 *
 * This wraps any record store (the browser's IndexedDB one) so callers still see `StoredDevice`.
 * A store written before this (names in clear) is sealed on its first load and rewritten.
 */
import { indexeddbDeviceRecords, type DeviceStore, type RecordStore, type StoredDevice } from '../storage/device-store.ts';
import { VaultError } from './errors.ts';

/** What IndexedDB holds for this device: everything but the names as before, the names sealed. */
export interface SealedDeviceRecord extends Omit<StoredDevice, 'label' | 'displayName'> {
  /** AES-GCM, non-extractable; made with each save. */
  readonly namesKey: CryptoKey;
  /** Format 1: 12-byte IV then the ciphertext of {"l":label,"n":displayName}, AAD bound. */
  readonly names: Uint8Array;
}

/** A record written before names were sealed. */
type LegacyDeviceRecord = StoredDevice;

const FORMAT = 1;
const IV_LENGTH = 12;
const AAD = new TextEncoder().encode('fhv/device-names/v1');

interface Names {
  readonly label: string;
  readonly displayName: string;
}

export interface DeviceNamesOptions {
  readonly subtle?: SubtleCrypto;
  /** IVs (tests inject them). */
  readonly random?: (length: number) => Uint8Array;
}

export async function sealDeviceNames(names: Names, key: CryptoKey, o: DeviceNamesOptions = {}): Promise<Uint8Array> {
  const subtle = o.subtle ?? globalThis.crypto.subtle;
  const iv = o.random ? o.random(IV_LENGTH) : globalThis.crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const plain = new TextEncoder().encode(JSON.stringify({ l: names.label, n: names.displayName }));
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: AAD as BufferSource }, key, plain as BufferSource));
  plain.fill(0);
  const out = new Uint8Array(1 + IV_LENGTH + ct.length);
  out[0] = FORMAT;
  out.set(iv, 1);
  out.set(ct, 1 + IV_LENGTH);
  return out;
}

/** Opens sealed names; DEVICE_NAMES_UNREADABLE on any failure (another key, a flipped byte, another format). */
export async function openDeviceNames(sealed: Uint8Array, key: CryptoKey, subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<Names> {
  try {
    if (!(sealed instanceof Uint8Array) || sealed[0] !== FORMAT || sealed.length < 1 + IV_LENGTH + 16) throw new Error('format');
    const plain = await subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(1, 1 + IV_LENGTH) as BufferSource, additionalData: AAD as BufferSource },
      key,
      sealed.subarray(1 + IV_LENGTH) as BufferSource,
    );
    const j = JSON.parse(new TextDecoder().decode(plain)) as { l: unknown; n: unknown };
    if (typeof j.l !== 'string' || typeof j.n !== 'string') throw new Error('shape');
    return { label: j.l, displayName: j.n };
  } catch {
    throw new VaultError('DEVICE_NAMES_UNREADABLE', "this device's stored name and label cannot be opened");
  }
}

export function createDeviceNamesKey(subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<CryptoKey> {
  return subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;
}

const isSealed = (r: SealedDeviceRecord | LegacyDeviceRecord): r is SealedDeviceRecord => 'names' in r && 'namesKey' in r;

async function sealRecord(device: StoredDevice, o: DeviceNamesOptions): Promise<SealedDeviceRecord> {
  const { label, displayName, ...rest } = device;
  const namesKey = await createDeviceNamesKey(o.subtle);
  return { ...rest, namesKey, names: await sealDeviceNames({ label, displayName }, namesKey, o) };
}

/**
 * The device store over a raw record store: names sealed on save, opened on load; a legacy
 * record (names in clear) is sealed and rewritten on load (the migration).
 */
export function sealedNamesDeviceStore(raw: RecordStore<SealedDeviceRecord | LegacyDeviceRecord>, o: DeviceNamesOptions = {}): DeviceStore {
  return {
    async load() {
      const record = await raw.load();
      if (!record) return undefined;
      if (!isSealed(record)) {
        await raw.save(await sealRecord(record, o));
        return record;
      }
      const { namesKey, names, ...rest } = record;
      return { ...rest, ...(await openDeviceNames(names, namesKey, o.subtle)) };
    },
    save: async (device) => raw.save(await sealRecord(device, o)),
    clear: () => raw.clear(),
  };
}

/** The browser's device store: IndexedDB, names sealed. */
export function indexeddbDeviceStore(): DeviceStore {
  return sealedNamesDeviceStore(indexeddbDeviceRecords<SealedDeviceRecord | LegacyDeviceRecord>());
}
