/**
 * Browser persistence: y-indexeddb on the envelope doc, so what IndexedDB holds is ciphertext.
 * The sealed plain-state cache (vault/plain-cache.ts) lives in the same per-document database,
 * in y-indexeddb's `custom` store, so erasing the document's database erases the cache too.
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import type { Persistence, PlainCacheStore } from './types.ts';

const dbName = (name: string) => `fhv-envelope-${name}`;
const UPDATES_STORE = 'updates';
const CUSTOM_STORE = 'custom';
const CACHE_KEY = 'plain-cache';

const persist = async (envelope: Parameters<Persistence>[0], name: string) => {
  const idb = new IndexeddbPersistence(dbName(name), envelope);
  await idb.whenSynced;
  const meta = { get: (key: string) => idb.get(key) as Promise<unknown>, set: async (key: string, value: string | number) => void (await idb.set(key, value)) };
  return Object.assign(() => void idb.destroy(), { meta, stored: () => committed(idb.db) });
};

/**
 * Resolves once every write y-indexeddb started so far is committed: a read-write transaction on
 * its store starts only after those made before it end (IndexedDB runs overlapping read-write
 * transactions in the order they were made), and completes only once it is committed.
 */
function committed(db: IDBDatabase | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!db) return resolve();
    const tx = db.transaction([UPDATES_STORE], 'readwrite');
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('the write was aborted'));
  });
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Opens the document's database the way y-indexeddb does (same stores on first creation), so
 * the cache can be read before y-indexeddb has loaded the envelope. Closed after each use and
 * on a version change, so it never blocks an erase.
 */
async function withCustomStore<T>(name: string, mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const open = indexedDB.open(dbName(name));
  open.onupgradeneeded = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains(UPDATES_STORE)) db.createObjectStore(UPDATES_STORE, { autoIncrement: true });
    if (!db.objectStoreNames.contains(CUSTOM_STORE)) db.createObjectStore(CUSTOM_STORE);
  };
  const db = await request(open);
  db.onversionchange = () => db.close();
  try {
    return await request(body(db.transaction(CUSTOM_STORE, mode).objectStore(CUSTOM_STORE)));
  } finally {
    db.close();
  }
}

function indexeddbPlainCache(name: string): PlainCacheStore {
  return {
    read: async () => {
      const v = await withCustomStore(name, 'readonly', (s) => s.get(CACHE_KEY) as IDBRequest<unknown>);
      return v instanceof Uint8Array ? v : undefined;
    },
    write: async (sealed) => void (await withCustomStore(name, 'readwrite', (s) => s.put(sealed, CACHE_KEY))),
    clear: async () => void (await withCustomStore(name, 'readwrite', (s) => s.delete(CACHE_KEY))),
  };
}

export const indexeddbPersistence: Persistence = Object.assign(persist, { plainCache: indexeddbPlainCache });

/** Deletes this device's encrypted copies of the named documents (their plain-state caches included). */
export async function eraseIndexeddbCopies(names: readonly string[]): Promise<void> {
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve) => {
          const r = indexedDB.deleteDatabase(dbName(name));
          r.onsuccess = r.onerror = r.onblocked = () => resolve();
        }),
    ),
  );
}
