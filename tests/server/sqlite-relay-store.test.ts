/**
 * The relay's SQLite store (server/storage/): group commit, what a fold may delete, clientID
 * owners, and close. Durability across a process kill is tests/server/durability.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { RelayStorageError } from '../../server/errors.ts';
import { SqliteRelayStore } from '../../server/storage/sqlite-relay-store.ts';
import { storedEnvelopes, tempDir } from '../helpers/relay.ts';

/** A one-entry update by `client`, and the key it writes. */
function updateOf(client: number): Uint8Array {
  const d = new Y.Doc();
  d.clientID = client;
  d.getMap('r').set(`k${client}`, new Uint8Array([client % 256]));
  return Y.encodeStateAsUpdate(d);
}

const keysOf = (state: Uint8Array | undefined) => {
  const d = new Y.Doc();
  if (state) Y.applyUpdate(d, state);
  return [...d.getMap('r').keys()].sort();
};

describe('SqliteRelayStore', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteRelayStore | undefined;
  beforeEach(() => {
    dir = tempDir('fhv-store-');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  it('commits appends that arrive together in shared transactions; each is visible to other connections once it resolves', async () => {
    store = await SqliteRelayStore.open(dir.path);
    const n = 200;
    const positions = await Promise.all(Array.from({ length: n }, (_, i) => store!.append(`doc${i % 4}`, updateOf(i + 1), [])));
    expect(new Set(positions).size).toBe(n);
    const stats = await store.commitStats();
    expect(stats.writes).toBe(n);
    expect(stats.transactions, 'group commit batches the writes queued during a commit').toBeLessThan(n / 2);
    const reader = storedEnvelopes(dir.path);
    for (let doc = 0; doc < 4; doc++) expect(keysOf(reader.load(`doc${doc}`))).toHaveLength(n / 4);
  });

  it('a fold deletes only the rows its state contains: an update appended meanwhile stays', async () => {
    store = await SqliteRelayStore.open(dir.path);
    const first = await store.append('doc', updateOf(1), []);
    const second = await store.append('doc', updateOf(2), []);
    // The state was encoded before the second update was applied: it holds only the first.
    await store.fold('doc', updateOf(1), { through: 0, positions: [first] }, 1);
    const loaded = await store.load('doc');
    expect(keysOf(loaded?.state)).toEqual(['k1', 'k2']);
    expect(loaded?.through).toBe(second);
    // Folding everything the load covered leaves the state alone.
    await store.fold('doc', loaded!.state, { through: loaded!.through, positions: [] }, 2);
    expect(keysOf((await store.load('doc'))?.state)).toEqual(['k1', 'k2']);
    expect((await store.load('doc'))?.through).toBe(0);
    expect(await store.documentNames()).toEqual(['doc']);
  });

  it('keeps the first owner of a clientID, whether bound with an append or alone', async () => {
    store = await SqliteRelayStore.open(dir.path);
    await store.append('doc', updateOf(7), [[7, 'alice']]);
    await store.bindClients('doc', [
      [7, 'mallory'],
      [8, 'bob'],
    ]);
    expect((await store.clientOwners('doc')).sort()).toEqual([
      [7, 'alice'],
      [8, 'bob'],
    ]);
  });

  it('close() answers every request already sent, then refuses new ones with RELAY_STORAGE_FAILED', async () => {
    store = await SqliteRelayStore.open(dir.path);
    const pending = store.append('doc', updateOf(1), []);
    await store.close();
    await expect(pending).resolves.toBeGreaterThan(0);
    await expect(store.append('doc', updateOf(2), [])).rejects.toBeInstanceOf(RelayStorageError);
    expect(keysOf(storedEnvelopes(dir.path).load('doc'))).toEqual(['k1']);
  });
});
