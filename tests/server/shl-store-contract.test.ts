/**
 * One contract for every ShlStore (server/shl-store.ts), run against the SQLite table in DATA_DIR
 * and PostgreSQL on a real server: quota and ids, ending a link (ciphertext, passcode hash and
 * tickets gone together), passcode attempts that never go below zero under concurrent guesses,
 * expiry sweeps, file tickets (valid for their time and their link only, stored by hash), and an
 * erasure of the profile in the log's store removing its links. Then what only PostgreSQL must
 * meet: two relay instances reserving attempts and inserting links at once keep the budgets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openShlStore, type NewLink, type ShlStore } from '../../server/shl-store.ts';
import { PostgresRelayStore } from '../../server/storage/postgres-relay-store.ts';
import type { RelayStore } from '../../server/storage/relay-store.ts';
import { SqliteRelayStore } from '../../server/storage/sqlite-relay-store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { withSeed } from '../helpers/prng.ts';
import { tempDir } from '../helpers/relay.ts';

const FILE = 'tests/server/shl-store-contract.test.ts';
const DOC = 'P'.repeat(22);
const OTHER = 'Q'.repeat(22);
const NOW = 1_800_000_000_000;

let postgres: TestPostgres;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.destroy();
});

interface Opened {
  readonly store: ShlStore;
  /** Another handle on the same data: a second relay instance (PostgreSQL), or the same store (SQLite: one process per file). */
  another(): Promise<ShlStore>;
  /** The log's store on the same data, whose erasure must take the profile's links along. */
  relayStore(): Promise<RelayStore>;
  cleanup(): Promise<void>;
}

const BACKENDS: Array<{ name: string; open(): Promise<Opened> }> = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir('fhv-shl-contract-');
      const store = await openShlStore({ dataDir: dir.path, databaseUrl: undefined });
      const relays: RelayStore[] = [];
      return {
        store,
        another: async () => store,
        relayStore: async () => (relays.push(await SqliteRelayStore.open(dir.path)), relays.at(-1)!),
        cleanup: async () => {
          for (const r of relays) await r.close();
          await store.close();
          dir.remove();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const dir = tempDir('fhv-shl-contract-');
      const config = { dataDir: dir.path, databaseUrl: await postgres.database(`shl_${++databases}`) };
      const opened: Array<{ close(): Promise<void> }> = [];
      const keep = <T extends { close(): Promise<void> }>(s: T) => (opened.push(s), s);
      return {
        store: keep(await openShlStore(config)),
        another: async () => keep(await openShlStore(config)),
        relayStore: async () => keep(await PostgresRelayStore.open(config.databaseUrl)),
        cleanup: async () => {
          for (const s of opened) await s.close();
          dir.remove();
        },
      };
    },
  },
];

const id = (n: number) => `L${String(n).padStart(42, '0')}`;
const link = (n: number, o: Partial<NewLink> = {}): NewLink => ({ id: id(n), doc: DOC, jwe: `jwe.${n}`, ...o });
const passcode = (attempts: number) => ({ hash: new Uint8Array(32).fill(7), salt: new Uint8Array(16).fill(9), attempts });
const ticket = (hash: string, n: number, until: number, doc = DOC) => ({ hash, id: id(n), doc, until });

async function withStore(backend: (typeof BACKENDS)[number], body: (o: Opened) => Promise<void>): Promise<void> {
  const o = await backend.open();
  try {
    await body(o);
  } finally {
    await o.cleanup();
  }
}

describe.each(BACKENDS)('ShlStore contract: $name', (backend) => {
  it('stores a link as given; an id is never taken twice; the per-profile quota counts live links only', () =>
    withStore(backend, async ({ store }) => {
      await store.ping();
      expect(await store.insert(link(1, { passcode: passcode(10), expiresAt: NOW + 5 }), NOW, 2)).toBe('created');
      expect(await store.get(id(1))).toEqual({
        id: id(1), doc: DOC, state: 'active', jwe: 'jwe.1', passcodeHash: new Uint8Array(32).fill(7), passcodeSalt: new Uint8Array(16).fill(9), attemptsLeft: 10, expiresAt: NOW + 5,
      });
      expect(await store.insert(link(1, { doc: OTHER }), NOW, 2)).toBe('taken');
      expect(await store.insert(link(2), NOW, 2)).toBe('created');
      expect(await store.insert(link(3), NOW, 2)).toBe('over-quota');
      expect(await store.insert(link(3, { doc: OTHER }), NOW, 2)).toBe('created');
      expect(await store.end(id(2), 'revoked')).toBe(true);
      expect(await store.insert(link(4), NOW, 2)).toBe('created');
      // An ended id stays taken: it is never served or reused.
      expect(await store.insert(link(2), NOW, 5)).toBe('taken');
      expect(await store.get(id(99))).toBeUndefined();
    }));

  it('ending a link deletes its ciphertext, passcode hash and tickets at once, and only once', () =>
    withStore(backend, async ({ store }) => {
      await store.insert(link(1, { passcode: passcode(3) }), NOW, 10);
      await store.issueTicket(ticket('a'.repeat(64), 1, NOW + 1000), NOW);
      expect(await store.ticketLink('a'.repeat(64), NOW)).toBe(id(1));
      expect(await store.end(id(1), 'exhausted')).toBe(true);
      expect(await store.end(id(1), 'revoked')).toBe(false);
      expect(await store.get(id(1))).toEqual({ id: id(1), doc: DOC, state: 'exhausted', jwe: undefined, passcodeHash: undefined, passcodeSalt: undefined, attemptsLeft: undefined, expiresAt: undefined });
      expect(await store.ticketLink('a'.repeat(64), NOW)).toBeUndefined();
      const rows = JSON.stringify(await store.dumpAll());
      expect(rows).not.toContain('jwe.1');
      expect(rows).not.toContain('a'.repeat(64));
    }));

  it('concurrent passcode guesses (seeded) never take more attempts than are left, and a refund gives one back', () =>
    withSeed(FILE, 'concurrent passcode guesses', async (prng) => {
      await withStore(backend, async ({ store, another }) => {
        const stores = [store, await another()];
        for (let round = 0; round < 4; round++) {
          const budget = prng.int(0, 6);
          const guesses = prng.int(0, 12);
          await store.insert(link(round, { passcode: passcode(budget) }), NOW, 10);
          const taken = await Promise.all(Array.from({ length: guesses }, () => prng.pick(stores).reserveAttempt(id(round))));
          expect(taken.filter(Boolean).length, `budget ${budget}, ${guesses} guesses`).toBe(Math.min(budget, guesses));
          expect((await store.get(id(round)))?.attemptsLeft).toBe(Math.max(0, budget - guesses));
          await prng.pick(stores).refundAttempt(id(round));
          expect((await store.get(id(round)))?.attemptsLeft).toBe(Math.max(0, budget - guesses) + 1);
        }
        // A link without a passcode, or one that ended, has no attempt to take.
        await store.insert(link(10), NOW, 10);
        expect(await store.reserveAttempt(id(10))).toBe(false);
        await store.end(id(0), 'revoked');
        expect(await store.reserveAttempt(id(0))).toBe(false);
      });
    }));

  it('a sweep ends exactly the links whose expiry has come', () =>
    withStore(backend, async ({ store }) => {
      await store.insert(link(1, { expiresAt: NOW - 1 }), NOW - 10, 10);
      await store.insert(link(2, { expiresAt: NOW }), NOW - 10, 10);
      await store.insert(link(3, { expiresAt: NOW + 1 }), NOW - 10, 10);
      await store.insert(link(4), NOW - 10, 10);
      await store.issueTicket(ticket('b'.repeat(64), 2, NOW + 60_000), NOW - 10);
      expect(await store.sweepExpired(NOW)).toBe(2);
      expect(await Promise.all([1, 2, 3, 4].map(async (n) => (await store.get(id(n)))?.state))).toEqual(['expired', 'expired', 'active', 'active']);
      expect(await store.ticketLink('b'.repeat(64), NOW)).toBeUndefined();
      expect(await store.sweepExpired(NOW)).toBe(0);
    }));

  it('a ticket names its link until its time, not after; issuing drops the stale ones; another instance redeems it', () =>
    withStore(backend, async ({ store, another }) => {
      const second = await another();
      await store.insert(link(1), NOW, 10);
      await store.issueTicket(ticket('c'.repeat(64), 1, NOW + 100), NOW);
      expect(await second.ticketLink('c'.repeat(64), NOW + 99)).toBe(id(1));
      expect(await second.ticketLink('c'.repeat(64), NOW + 100)).toBeUndefined();
      expect(await second.ticketLink('d'.repeat(64), NOW)).toBeUndefined();
      await second.issueTicket(ticket('e'.repeat(64), 1, NOW + 500), NOW + 200);
      const rows = JSON.stringify(await store.dumpAll());
      expect(rows).not.toContain('c'.repeat(64));
      expect(rows).toContain('e'.repeat(64));
    }));

  it("an erasure of the profile in the log's store removes its links and tickets, and no other profile's", () =>
    withStore(backend, async ({ store, relayStore }) => {
      await store.insert(link(1, { passcode: passcode(3) }), NOW, 10);
      await store.insert(link(2, { doc: OTHER }), NOW, 10);
      await store.issueTicket(ticket('f'.repeat(64), 1, NOW + 1000), NOW);
      await store.issueTicket(ticket('9'.repeat(64), 2, NOW + 1000, OTHER), NOW);
      await (await relayStore()).erase(DOC, { erasedAt: NOW, record: new Uint8Array([1]), members: new Uint8Array(32) });
      expect(await store.get(id(1))).toBeUndefined();
      expect(await store.ticketLink('f'.repeat(64), NOW)).toBeUndefined();
      expect((await store.get(id(2)))?.state).toBe('active');
      expect(await store.ticketLink('9'.repeat(64), NOW)).toBe(id(2));
    }));
});

describe('ShlStore on PostgreSQL: two instances at once', () => {
  it('inserting links on both (seeded) never passes the per-profile quota', () =>
    withSeed(FILE, 'inserting links on both', async (prng) => {
      await withStore(BACKENDS[1]!, async ({ store, another }) => {
        const stores = [store, await another()];
        const quota = prng.int(1, 8);
        const tries = prng.int(quota + 4, 24);
        const answers = await Promise.all(Array.from({ length: tries }, (_, n) => prng.pick(stores).insert(link(n), NOW, quota)));
        expect(answers.filter((a) => a === 'created').length, `quota ${quota}, ${tries} tries`).toBe(quota);
        expect(answers.filter((a) => a === 'over-quota').length).toBe(tries - quota);
      });
    }));
});
