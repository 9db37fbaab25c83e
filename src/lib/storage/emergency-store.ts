/**
 * Where a device keeps the emergency cards the owner chose to leave readable while the app is
 * locked (docs/decisions/0043): sealed values by profile id, and the non-extractable AES-GCM key
 * that seals them, which is deliberately NOT behind the lock. Storage only: sealing is
 * vault/emergency-copy.ts.
 */
export interface SealedCard {
  readonly iv: string;
  readonly ct: string;
}

export interface EmergencyStore {
  /** The device's emergency-copy key (made once, non-extractable). */
  key(make: () => Promise<CryptoKey>): Promise<CryptoKey>;
  put(docId: string, card: SealedCard): Promise<void>;
  remove(docId: string): Promise<void>;
  all(): Promise<Array<{ docId: string; card: SealedCard }>>;
  clear(): Promise<void>;
}

export function memoryEmergencyStore(): EmergencyStore {
  let key: CryptoKey | undefined;
  const cards = new Map<string, SealedCard>();
  return {
    key: async (make) => (key ??= await make()),
    put: async (docId, card) => void cards.set(docId, card),
    remove: async (docId) => void cards.delete(docId),
    all: async () => [...cards].map(([docId, card]) => ({ docId, card })),
    clear: async () => {
      key = undefined;
      cards.clear();
    },
  };
}

const DB = 'fhv-emergency';
const KEYS = 'key';
const CARDS = 'cards';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore(KEYS);
    open.result.createObjectStore(CARDS);
  };
  return request(open);
}

export function indexeddbEmergencyStore(): EmergencyStore {
  const run = async <T>(name: string, mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await openDb();
    try {
      return await request(body(db.transaction(name, mode).objectStore(name)));
    } finally {
      db.close();
    }
  };
  return {
    async key(make) {
      const held = await run(KEYS, 'readonly', (s) => s.get('this-device') as IDBRequest<CryptoKey | undefined>);
      if (held) return held;
      const made = await make();
      await run(KEYS, 'readwrite', (s) => s.put(made, 'this-device'));
      return made;
    },
    put: async (docId, card) => void (await run(CARDS, 'readwrite', (s) => s.put(card, docId))),
    remove: async (docId) => void (await run(CARDS, 'readwrite', (s) => s.delete(docId))),
    async all() {
      const keys = (await run(CARDS, 'readonly', (s) => s.getAllKeys())) as string[];
      const values = (await run(CARDS, 'readonly', (s) => s.getAll())) as SealedCard[];
      return keys.map((docId, i) => ({ docId, card: values[i]! }));
    },
    clear: async () => {
      await run(KEYS, 'readwrite', (s) => s.clear());
      await run(CARDS, 'readwrite', (s) => s.clear());
    },
  };
}
