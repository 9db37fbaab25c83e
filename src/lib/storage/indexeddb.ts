/** Browser persistence: y-indexeddb on the envelope doc, so what IndexedDB holds is ciphertext. */
import { IndexeddbPersistence } from 'y-indexeddb';
import type { Persistence } from './types.ts';

export const indexeddbPersistence: Persistence = async (envelope, name) => {
  const idb = new IndexeddbPersistence(`fhv-envelope-${name}`, envelope);
  await idb.whenSynced;
  return () => void idb.destroy();
};
