/**
 * What only the relay's SQLite store does (server/storage/): group commit and close. What every
 * store does (folds, owners, erasure) is tests/server/relay-store-contract.test.ts; durability
 * across a process kill is tests/server/durability.test.ts.
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

  it('close() answers every request already sent, then refuses new ones with RELAY_STORAGE_FAILED', async () => {
    store = await SqliteRelayStore.open(dir.path);
    const pending = store.append('doc', updateOf(1), []);
    await store.close();
    await expect(pending).resolves.toBeGreaterThan(0);
    await expect(store.append('doc', updateOf(2), [])).rejects.toBeInstanceOf(RelayStorageError);
    expect(keysOf(storedEnvelopes(dir.path).load('doc'))).toEqual(['k1']);
  });
});
