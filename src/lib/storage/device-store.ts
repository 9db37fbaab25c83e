import type { LockRecord } from './lock-record.ts';

/**
 * Where a device keeps its own (wrapped) keys: the browser uses IndexedDB, which stores the
 * non-extractable wrapping CryptoKey by structured clone; tests use memory. In IndexedDB the
 * person's name and the device label are sealed too (vault/device-names.ts, docs/decisions/0042):
 * what `indexeddbDeviceRecords` writes is the at-rest record, never a `StoredDevice` as is.
 */
export interface StoredDevice {
  /**
   * AES-GCM wrapping key (non-extractable in browsers). Absent while a passkey lock holds the
   * keys instead (`lock`, vault/app-lock.ts): then only unlocking derives it.
   */
  readonly wrappingKey?: CryptoKey;
  /**
   * AES-GCM key of this device's plain-state caches (vault/plain-cache.ts), non-extractable;
   * absent on devices set up before caches existed (made on next resume). Clearing the store
   * makes every cache of this device unreadable, even one whose database survived an erase.
   */
  readonly cacheKey?: CryptoKey;
  /** Identity seed and device keys, wrapped (key-store.ts). */
  readonly wrapped: { readonly v: 1; readonly iv: string; readonly ct: string };
  /** Public: the device certificate (base64url). */
  readonly cert: string;
  readonly label: string;
  readonly displayName: string;
  readonly createdAt: number;
  /** The app lock, if the person set one (vault/app-lock.ts, docs/decisions/0043). */
  readonly lock?: LockRecord;
}

/** One record kept for this device; `T` is what the caller stores (the vault seals the names first). */
export interface RecordStore<T> {
  load(): Promise<T | undefined>;
  save(record: T): Promise<void>;
  clear(): Promise<void>;
}

export type DeviceStore = RecordStore<StoredDevice>;

export function memoryDeviceStore(): DeviceStore {
  return memoryRecordStore<StoredDevice>();
}

/** A record held in memory (tests; a guest keeps nothing anyway). */
export function memoryRecordStore<T>(): RecordStore<T> {
  let held: T | undefined;
  return {
    load: async () => held,
    save: async (d) => {
      held = d;
    },
    clear: async () => {
      held = undefined;
    },
  };
}

const DB = 'fhv-device';
const STORE = 'device';
const KEY = 'this-device';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

/** The IndexedDB record of this device, stored by structured clone (CryptoKeys stay non-extractable). */
export function indexeddbDeviceRecords<T>(): RecordStore<T> {
  const withStore = async <T>(mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await openDb();
    try {
      return await request(body(db.transaction(STORE, mode).objectStore(STORE)));
    } finally {
      db.close();
    }
  };
  return {
    load: () => withStore('readonly', (s) => s.get(KEY) as IDBRequest<T | undefined>),
    save: async (d) => void (await withStore('readwrite', (s) => s.put(d, KEY))),
    clear: async () => void (await withStore('readwrite', (s) => s.delete(KEY))),
  };
}
