/**
 * One contract for every RelayStore (server/storage/relay-store.ts), run against the embedded
 * SQLite store and the PostgreSQL store on a real server: positions, what a fold may delete,
 * first owner wins, erasure, readiness. Then what only a shared store meets: several relay
 * instances appending, loading and folding one document at random (seeded) lose no update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import * as Y from 'yjs';
import { RelayStorageError } from '../../server/errors.ts';
import { PostgresRelayStore } from '../../server/storage/postgres-relay-store.ts';
import type { RelayStore } from '../../server/storage/relay-store.ts';
import { SqliteRelayStore } from '../../server/storage/sqlite-relay-store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { withSeed } from '../helpers/prng.ts';
import { tempDir } from '../helpers/relay.ts';

const FILE = 'tests/server/relay-store-contract.test.ts';

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

let postgres: TestPostgres;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.destroy();
});

interface Backend {
  readonly name: string;
  /** A fresh, empty store, and a second handle on the same data (another relay instance). */
  open(): Promise<{ store: RelayStore; another(): Promise<RelayStore>; cleanup(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir('fhv-contract-');
      const store = await SqliteRelayStore.open(dir.path);
      return { store, another: () => Promise.reject(new Error('one process per SQLite file')), cleanup: async () => (await store.close(), dir.remove()) };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const url = await postgres.database(`contract_${++databases}`);
      const opened: RelayStore[] = [await PostgresRelayStore.open(url)];
      return {
        store: opened[0]!,
        another: async () => {
          const s = await PostgresRelayStore.open(url);
          opened.push(s);
          return s;
        },
        cleanup: async () => {
          for (const s of opened) await s.close();
        },
      };
    },
  },
  {
    // The same contract with every multi-part merge in the merge worker (update-merger.ts).
    name: 'PostgreSQL, merges off the event loop',
    async open() {
      const url = await postgres.database(`contract_${++databases}`);
      const opened: PostgresRelayStore[] = [await PostgresRelayStore.open(url, { inlineMergeMaxBytes: 0 })];
      return {
        store: opened[0]!,
        another: async () => {
          const s = await PostgresRelayStore.open(url, { inlineMergeMaxBytes: 0 });
          opened.push(s);
          return s;
        },
        cleanup: async () => {
          expect(opened.map((s) => s.merger.counts.inline), 'no merge ran on the event loop').toEqual(opened.map(() => 0));
          for (const s of opened) await s.close();
        },
      };
    },
  },
];

describe.each(BACKENDS)('RelayStore contract: $name', (backend) => {
  it('appends get growing positions; a load merges the state and the log and reports the last row read', async () => {
    const { store, cleanup } = await backend.open();
    try {
      await store.ping();
      expect(await store.load('doc')).toBeUndefined();
      const positions = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(`doc${i % 2}`, updateOf(i + 1), [])));
      expect(new Set(positions).size).toBe(40);
      const loaded = await store.load('doc0');
      expect(keysOf(loaded?.state)).toHaveLength(20);
      expect(loaded?.through).toBe(Math.max(...positions.filter((_, i) => i % 2 === 0)));
      expect((await store.documentNames()).sort()).toEqual(['doc0', 'doc1']);
    } finally {
      await cleanup();
    }
  });

  it('a fold deletes only the rows its state contains: an update appended meanwhile stays', async () => {
    const { store, cleanup } = await backend.open();
    try {
      await store.load('doc');
      const first = await store.append('doc', updateOf(1), []);
      const second = await store.append('doc', updateOf(2), []);
      await store.fold('doc', updateOf(1), { through: 0, positions: [first] }, 1);
      const loaded = await store.load('doc');
      expect(keysOf(loaded?.state)).toEqual(['k1', 'k2']);
      expect(loaded?.through).toBe(second);
      await store.fold('doc', loaded!.state, { through: loaded!.through, positions: [] }, 2);
      const after = await store.load('doc');
      expect(keysOf(after?.state)).toEqual(['k1', 'k2']);
      expect(after?.through).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('keeps the first owner of a clientID, whether bound with an append or alone', async () => {
    const { store, cleanup } = await backend.open();
    try {
      await store.append('doc', updateOf(7), [[7, 'alice']]);
      await store.bindClients('doc', [[7, 'mallory'], [8, 'bob']]);
      expect((await store.clientOwners('doc')).sort()).toEqual([[7, 'alice'], [8, 'bob']]);
      expect(await store.clientOwners('other')).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('erase keeps only the tombstone; later appends fail, folds and bindings do nothing', async () => {
    const { store, cleanup } = await backend.open();
    try {
      await store.append('doc', updateOf(1), [[1, 'alice']]);
      await store.append('kept', updateOf(2), []);
      const record = new Uint8Array([1, 2, 3]);
      const members = new Uint8Array(64).fill(5);
      await store.erase('doc', { erasedAt: 123, record, members });
      expect(await store.tombstone('doc')).toEqual({ erasedAt: 123, record, members });
      expect(await store.tombstone('kept')).toBeUndefined();
      expect(await store.load('doc')).toBeUndefined();
      expect(await store.clientOwners('doc')).toEqual([]);
      await expect(store.append('doc', updateOf(3), [])).rejects.toBeInstanceOf(RelayStorageError);
      await store.fold('doc', updateOf(4), { through: 0, positions: [] }, 5);
      await store.bindClients('doc', [[9, 'mallory']]);
      expect(await store.load('doc')).toBeUndefined();
      expect(await store.clientOwners('doc')).toEqual([]);
      expect(await store.documentNames()).toEqual(['kept']);
    } finally {
      await cleanup();
    }
  });
});

describe('RelayStore on PostgreSQL, shared by several relay instances', () => {
  it('random appends, loads and folds from three instances on one document lose no update (seeded)', async () => {
    await withSeed(FILE, 'random appends, loads and folds', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "random appends"`);
      const url = await postgres.database(`shared_${++databases}`);
      // One instance merges everything in its merge worker, the others inline small merges.
      const stores = await Promise.all([0, 1, 2].map((i) => PostgresRelayStore.open(url, i === 0 ? { inlineMergeMaxBytes: 0 } : {})));
      try {
        // Each instance: its in-memory copy of the document and the rows it appended since loading.
        const instances = stores.map((store) => ({ store, doc: new Y.Doc(), through: 0, positions: [] as number[] }));
        const reload = async (i: (typeof instances)[number]) => {
          const loaded = await i.store.load('doc');
          i.doc = new Y.Doc();
          if (loaded) Y.applyUpdate(i.doc, loaded.state);
          i.through = loaded?.through ?? 0;
          i.positions = [];
        };
        for (const i of instances) await reload(i);
        let client = 0;
        const steps: Promise<unknown>[] = [];
        for (let step = 0; step < 120; step++) {
          const i = prng.pick(instances);
          const op = prng.int(0, 9);
          if (op < 6) {
            const update = updateOf(++client);
            Y.applyUpdate(i.doc, update);
            steps.push(i.store.append('doc', update, []).then((p) => i.positions.push(p)));
          } else if (op < 8) {
            const state = Y.encodeStateAsUpdate(i.doc);
            const rows = { through: i.through, positions: [...i.positions] };
            steps.push(i.store.fold('doc', state, rows, step));
          } else {
            await Promise.all(steps.splice(0));
            await reload(i);
          }
          if (prng.bool(0.3)) await Promise.all(steps.splice(0));
        }
        await Promise.all(steps.splice(0));
        const all = Array.from({ length: client }, (_, k) => `k${k + 1}`).sort();
        expect(keysOf((await stores[0]!.load('doc'))?.state)).toEqual(all);
      } finally {
        for (const s of stores) await s.close();
      }
    });
  });

  it('adversarial schedules: simultaneous folds, stale and crashed instances, connections killed mid-write, an erasure in flight (seeded)', { timeout: 240_000 }, async () => {
    await withSeed(FILE, 'adversarial schedules', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "adversarial schedules"`);
      const url = await postgres.database(`adversarial_${++databases}`);
      const stores = await Promise.all([0, 1, 2].map(() => PostgresRelayStore.open(url, { timeoutMs: 5_000 })));
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // `resetting`: an append failed, so the relay drops this instance (no fold, no new write) and the next one loads from storage.
        const instances = stores.map((store) => ({ store, doc: new Y.Doc(), through: 0, positions: [] as number[], resetting: false }));
        const reload = async (i: (typeof instances)[number]) => {
          // A pooled connection the database dropped fails its next query once: the load is retried, as a reconnecting client's would be.
          let loaded: Awaited<ReturnType<typeof i.store.load>>;
          for (let attempt = 1; ; attempt++) {
            try {
              loaded = await i.store.load('doc');
              break;
            } catch (e) {
              if (attempt >= 10) throw e;
            }
          }
          i.doc = new Y.Doc();
          if (loaded) Y.applyUpdate(i.doc, loaded.state);
          i.through = loaded?.through ?? 0;
          i.positions = [];
          i.resetting = false;
        };
        for (const i of instances) await reload(i);
        const foldOf = async (i: (typeof instances)[number], step: number) => i.resetting || i.store.fold('doc', Y.encodeStateAsUpdate(i.doc), { through: i.through, positions: [...i.positions] }, step);
        /** Acknowledged appends (their promise resolved): none may be lost. Failed ones may or may not be there (a commit whose answer was lost). */
        const accepted = new Set<string>();
        const attempted = new Set<string>();
        let client = 0;
        const inFlight: Promise<unknown>[] = [];
        const settle = async () => void (await Promise.allSettled(inFlight.splice(0)));
        for (let step = 0; step < 150; step++) {
          const i = prng.pick(instances);
          const roll = prng.next();
          if (i.resetting) {
            await settle();
            await reload(i);
          } else if (roll < 0.5) {
            const update = updateOf(++client);
            attempted.add(`k${client}`);
            Y.applyUpdate(i.doc, update);
            const key = `k${client}`;
            // A failed append resets the instance (server/durable-ack.ts): it reloads from storage.
            inFlight.push(i.store.append('doc', update, []).then((p) => (accepted.add(key), i.positions.push(p)), () => (i.resetting = true)));
          } else if (roll < 0.65) {
            inFlight.push(foldOf(i, step).catch(() => undefined));
          } else if (roll < 0.72) {
            // Every instance folds at the same moment, each from its own copy.
            for (const x of instances) inFlight.push(foldOf(x, step).catch(() => undefined));
          } else if (roll < 0.8) {
            // A crashed instance: its copy and row list are gone, nothing folded; it comes back from storage.
            await settle();
            await reload(i);
          } else if (roll < 0.85) {
            // The database drops every connection mid-schedule (failover, an operator).
            await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
          } else if (roll < 0.9) {
            // A stale instance folds a copy it loaded long ago, after others folded many times.
            inFlight.push(foldOf(i, step).catch(() => undefined));
          }
          if (prng.bool(0.25)) await settle();
        }
        await settle();
        await reload(instances[0]!);
        const final = keysOf(Y.encodeStateAsUpdate(instances[0]!.doc));
        for (const k of accepted) expect(final, `acknowledged ${k} lost`).toContain(k);
        for (const k of final) expect(attempted.has(k), `${k} never appended`).toBe(true);
        expect(final.length).toBe(new Set(final).size);
        // An erasure with writes and folds in flight from every instance: nothing comes back.
        for (const x of instances) {
          const update = updateOf(++client);
          Y.applyUpdate(x.doc, update);
          inFlight.push(x.store.append('doc', update, [[client, 'late']]).catch(() => undefined), foldOf(x, 999).catch(() => undefined), x.store.bindClients('doc', [[client + 1000, 'late']]).catch(() => undefined));
        }
        await stores[prng.int(0, 2)]!.erase('doc', { erasedAt: 1, record: new Uint8Array([1]), members: new Uint8Array(32) });
        await settle();
        for (const x of instances) {
          await foldOf(x, 1000).catch(() => undefined);
          await reload(x);
          expect(keysOf(Y.encodeStateAsUpdate(x.doc))).toEqual([]);
          expect(await x.store.load('doc')).toBeUndefined();
          expect(await x.store.clientOwners('doc')).toEqual([]);
        }
      } finally {
        await admin.end();
        for (const s of stores) await s.close();
      }
    });
  });

  it('a database restart fails writes with RELAY_STORAGE_FAILED (no hang), then the same store works again', async () => {
    const url = await postgres.database(`restart_${++databases}`);
    const store = await PostgresRelayStore.open(url, { timeoutMs: 3_000 });
    try {
      await store.append('doc', updateOf(1), []);
      await postgres.stop('immediate');
      await expect(store.append('doc', updateOf(2), [])).rejects.toBeInstanceOf(RelayStorageError);
      await expect(store.ping()).rejects.toBeInstanceOf(RelayStorageError);
      await postgres.start();
      await store.append('doc', updateOf(3), []);
      expect(keysOf((await store.load('doc'))?.state)).toEqual(['k1', 'k3']);
    } finally {
      await store.close();
    }
  });
});
