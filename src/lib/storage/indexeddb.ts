/** Browser persistence: y-indexeddb on the envelope doc, so what IndexedDB holds is ciphertext. */
import { IndexeddbPersistence } from 'y-indexeddb';
import type { Persistence } from './types.ts';

const dbName = (name: string) => `fhv-envelope-${name}`;

export const indexeddbPersistence: Persistence = async (envelope, name) => {
  const idb = new IndexeddbPersistence(dbName(name), envelope);
  await idb.whenSynced;
  const meta = { get: (key: string) => idb.get(key) as Promise<unknown>, set: async (key: string, value: string | number) => void (await idb.set(key, value)) };
  return Object.assign(() => void idb.destroy(), { meta });
};

/** Deletes this device's encrypted copies of the named documents. */
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
