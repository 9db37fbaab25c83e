/**
 * Attacking the several-instance relay (decision 0048) through real servers: two relays on one
 * PostgreSQL and one redis-server, hostile members with valid tokens speaking raw frames.
 *   - A hostile member on instance A sends seeded hostile and honest updates; a single-instance
 *     model (the shared policy on a document of its own) fed the same sequence says what one relay
 *     would decide. A must answer each exactly so, and instance B (fed only through Redis) must
 *     end with the model's live records, then judge probe updates from any member exactly as the
 *     model does; the shared store ends equal too.
 *   - One member sends the same record through both instances at once (B's Redis link held, so
 *     both accept it): Yjs keeps one of the two items. A bare delete of the item that holds it
 *     must be refused by both instances and the record must stay everywhere (threat model 96).
 * Seeded: TEST_SEED=<n> npx vitest run tests/server/attack-cluster.test.ts
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, nobleEngine, toBase64Url, toHex, utf8, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, createAuthToken, ENVELOPE_MAP, isWriterRole, rebuildEnvelopeIndex, RecordType, Role, type EnvelopeIndex } from '../../src/lib/protocol/index.ts';
import { sealBlob } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { PostgresRelayStore } from '../../server/storage/postgres-relay-store.ts';
import { buildWorld, engine, itemsOf, T0, type RoleName, type World } from '../fuzz/envelope-world.ts';
import { honestCompaction, honestRecord, hostileUpdate, type Generated } from '../fuzz/hostile.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { RawSyncClient } from '../helpers/raw-sync-client.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startS3 } from '../helpers/s3.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const FILE = 'tests/server/attack-cluster.test.ts';
let postgres: TestPostgres;
let redis: TestRedis;
let world: World;
beforeAll(async () => {
  [postgres, redis, world] = await Promise.all([startPostgres(), startRedis(), buildWorld()]);
});
afterAll(async () => {
  await Promise.all([postgres?.destroy(), redis?.destroy()]);
});

/** A TCP relay to Redis that can hold everything in both directions (a slow Redis link). */
async function holdableLink(port: number): Promise<{ url: string; hold(): void; release(): void; close(): Promise<void> }> {
  let held = false;
  const queued: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ port, host: '127.0.0.1' });
    for (const s of [client, upstream]) sockets.add(s), s.on('error', () => undefined), s.on('close', () => (client.destroy(), upstream.destroy()));
    const pipe = (from: Socket, to: Socket) => from.on('data', (d) => (held ? queued.push(() => to.write(d)) : to.write(d)));
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    hold: () => void (held = true),
    release: () => {
      held = false;
      for (const send of queued.splice(0)) send();
    },
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

const name = () => toBase64Url(world.docId);
const liveOf = (state: Uint8Array) => {
  const d = new Y.Doc();
  Y.applyUpdate(d, state);
  return [...d.getMap<Uint8Array>(ENVELOPE_MAP).entries()].map(([k, v]) => `${k}:${Buffer.from(v).length}`).sort().join();
};

async function seededInstances(database: string): Promise<{ a: TestRelay; b: TestRelay; link: Awaited<ReturnType<typeof holdableLink>>; databaseUrl: string; close(): Promise<void> }> {
  const databaseUrl = await postgres.database(database);
  const store = await PostgresRelayStore.open(databaseUrl);
  await store.append(name(), world.state, world.bindings);
  await store.close();
  const link = await holdableLink(redis.port);
  const a = await testRelay({ databaseUrl, redisUrl: redis.url, now: () => T0 });
  const b = await testRelay({ databaseUrl, redisUrl: link.url, now: () => T0 });
  return { a, b, link, databaseUrl, close: async () => (await Promise.all([a.destroy(), b.destroy()]), await link.close()) };
}

/** The single relay: the shared policy on a document and index of its own. */
class OneRelay {
  readonly doc = new Y.Doc();
  readonly index: EnvelopeIndex = rebuildEnvelopeIndex(world.docId, world.state, world.bindings).index;
  constructor() {
    Y.applyUpdate(this.doc, world.state);
  }
  async judge(gen: Generated): Promise<string | null> {
    const v = await checkEnvelopeUpdate(gen.bytes, this.index, { engine, now: T0, stateOf: (c) => Y.getState(this.doc.store, c), sender: toHex(world.keys[gen.sender].publicKey) });
    if (!v.ok) return v.code;
    v.value.commit();
    Y.applyUpdate(this.doc, gen.bytes);
    return null;
  }
  current() {
    return { items: itemsOf(Y.encodeStateAsUpdate(this.doc)), stateOf: (c: number) => Y.getState(this.doc.store, c) };
  }
  live(): string {
    return liveOf(Y.encodeStateAsUpdate(this.doc));
  }
}

/** Sends one update on a fresh connection as `role`; the relay's answer (null: taken), or 'NOT_ADMITTED'. */
async function send(relay: TestRelay, role: RoleName, update: Uint8Array): Promise<string | null> {
  const c = await RawSyncClient.connect(relay.url, name(), world.docId, world.keys[role], T0);
  try {
    if (!c.authenticated) return 'NOT_ADMITTED';
    c.sendUpdate(update);
    return await c.barrier();
  } finally {
    c.close();
  }
}

/** A relay's whole document, read on a fresh connection (its first sync step 2). */
async function stateAt(relay: TestRelay): Promise<Uint8Array> {
  const c = await RawSyncClient.connect(relay.url, name(), world.docId, world.keys.owner, T0);
  try {
    await c.barrier();
    return c.latestState();
  } finally {
    c.close();
  }
}

async function generate(prng: Prng, one: OneRelay, seq: number): Promise<Generated> {
  const writers = (['owner', 'editor'] as const).filter((r) => isWriterRole(one.index.membership.roleOf(world.keys[r].publicKey, T0)));
  const roll = prng.next();
  if (roll < 0.15 && writers.length > 0) return honestRecord(prng, world, one.current(), { seq, writers });
  if (roll < 0.2 && writers.includes('owner')) return honestCompaction(prng, world, one.current(), { seq });
  return hostileUpdate(prng, world, one.current(), 3_000_000_000 + seq);
}

/** A relay's answer against the single relay's: members it admits answer alike; others are not admitted at all. */
async function sameVerdict(relay: TestRelay, one: OneRelay, gen: Generated, what: string): Promise<void> {
  const got = await send(relay, gen.sender, gen.bytes);
  if (got === 'NOT_ADMITTED') {
    expect(['removed', 'stranger'], `${what}: ${gen.sender} not admitted`).toContain(gen.sender);
    return;
  }
  expect(got, `${what}: ${gen.label}`).toBe(await one.judge(gen));
}

describe('attacks on two relay instances through Redis', () => {
  it('a hostile member on instance A: A answers as one relay, B ends as one relay and judges alike', { timeout: 300_000 }, async () => {
    await withSeed(FILE, 'a hostile member on instance A', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "a hostile member on instance A"`);
      const { a, b, close, databaseUrl } = await seededInstances(`attack_cluster_${prng.seed % 100_000}`);
      const one = new OneRelay();
      const observer = await RawSyncClient.connect(b.url, name(), world.docId, world.keys.owner, T0);
      try {
        expect(observer.authenticated).toBe(true);
        for (let step = 0; step < 14; step++) await sameVerdict(a, one, await generate(prng, one, 10_000 + step), `A step ${step}`);
        // B heard only Redis: its document holds exactly the single relay's live records.
        await expect.poll(async () => liveOf(await stateAt(b)), { timeout: 20_000, message: "B reaches the single relay's records" }).toBe(one.live());
        // And its index judges like the single relay's: probes from every role through B.
        for (let probe = 0; probe < 8; probe++) await sameVerdict(b, one, await generate(prng, one, 20_000 + probe), `B probe ${probe}`);
        await expect.poll(async () => [liveOf(await stateAt(a)), liveOf(await stateAt(b))], { timeout: 20_000, message: "both instances end with the single relay's records" }).toEqual([one.live(), one.live()]);
      } finally {
        observer.close();
        await close();
      }
      // The shared store holds what the single relay holds (no instance stored a refused update).
      const store = await PostgresRelayStore.open(databaseUrl);
      try {
        expect(liveOf((await store.load(name()))!.state)).toBe(one.live());
      } finally {
        await store.close();
      }
    });
  });

  it('one record through both instances at once: a bare delete of the item holding it is refused by both, the record stays', { timeout: 120_000 }, async () => {
    const { a, b, link, close, databaseUrl } = await seededInstances('attack_cluster_dual');
    const observers = await Promise.all([a, b].map((r) => RawSyncClient.connect(r.url, name(), world.docId, world.keys.owner, T0)));
    // The owner's own audit entry: lasting history no snapshot may delete.
    const record = world.pool.find((p) => p.role === 'owner' && p.record.header.type === RecordType.audit)!;
    expect(record, 'an owner audit record in the pool').toBeDefined();
    const at = (client: number) => encodeRawUpdate([{ client, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: record.key, content: { kind: 'binary', bytes: record.bytes } }] }], []);
    const clients = [3_500_000_001, 3_500_000_002];
    try {
      await Promise.all(observers.map((o) => o.barrier()));
      link.hold(); // B hears nothing from Redis, and says nothing, until both took it
      expect(await send(a, 'owner', at(clients[0]!))).toBeNull();
      expect(await send(b, 'owner', at(clients[1]!))).toBeNull();
      link.release();
      const holder = async (relay: TestRelay) => {
        const d = new Y.Doc();
        Y.applyUpdate(d, await stateAt(relay));
        const item = (d.getMap(ENVELOPE_MAP) as unknown as { _map: Map<string, Y.Item> })._map.get(record.key);
        return item && !item.deleted ? `${item.id.client}:${item.id.clock}` : 'none';
      };
      // Both instances end with the same single item holding the record (Yjs's map conflict).
      await expect.poll(async () => (await holder(a)) === (await holder(b)) && (await holder(a)) !== 'none', { timeout: 20_000, message: 'both instances hold the record at one item' }).toBe(true);
      const winner = Number((await holder(a)).split(':')[0]);
      expect(clients).toContain(winner);
      for (const relay of [a, b]) {
        const answer = await send(relay, 'owner', encodeRawUpdate([], [{ client: winner, clock: 0, len: 1 }]));
        expect(answer, `${relay === a ? 'A' : 'B'} refuses the bare delete`).toBe('ENVELOPE_DELETE_NOT_COVERED');
      }
      for (const relay of [a, b]) expect(liveOf(await stateAt(relay))).toContain(`${record.key}:`);
    } finally {
      for (const o of observers) o.close();
      await close();
    }
    const store = await PostgresRelayStore.open(databaseUrl);
    try {
      expect(liveOf((await store.load(name()))!.state)).toContain(`${record.key}:`);
    } finally {
      await store.close();
    }
  });

  it('a member removed on one instance is refused files on another that never loaded the document', { timeout: 120_000 }, async () => {
    const databaseUrl = await postgres.database('attack_cluster_http');
    const s3 = await startS3();
    const files = { blobStore: `s3://${s3.bucket}/shared`, s3: s3.options }; // files shared by both instances
    const [a, b] = [await testRelay({ databaseUrl, redisUrl: redis.url, ...files }), await testRelay({ databaseUrl, redisUrl: redis.url, ...files })];
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const profile = await Profile.create({ signer: alice, relayUrl: a.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    try {
      await profile.flush();
      const sealed = sealBlob(utf8('a letter'));
      const path = `/blobs/${profile.name}/${sealed.id}`;
      const auth = async (who: SigningKeyPair) => ({ Authorization: `Bearer ${await createAuthToken({ secretKey: who.secretKey, docId: profile.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine })}` });
      expect((await fetch(`${a.httpUrl}${path}`, { method: 'PUT', headers: await auth(alice), body: Buffer.from(sealed.ciphertext), signal: AbortSignal.timeout(10_000) })).status).toBe(201);
      // Bob reads it through instance B, where no connection ever opened the document.
      expect((await fetch(`${b.httpUrl}${path}`, { headers: await auth(bob), signal: AbortSignal.timeout(10_000) })).status).toBe(200);
      await profile.removeMember(bob.publicKey);
      await profile.flush(); // the removal is durable in the shared store
      const after = await fetch(`${b.httpUrl}${path}`, { headers: await auth(bob), signal: AbortSignal.timeout(10_000) });
      expect([after.status, await after.text()]).toEqual([403, 'TOKEN_NOT_MEMBER']);
      expect((await fetch(`${a.httpUrl}${path}`, { headers: await auth(bob), signal: AbortSignal.timeout(10_000) })).status).toBe(403);
      expect((await fetch(`${b.httpUrl}${path}`, { headers: await auth(alice), signal: AbortSignal.timeout(10_000) })).status).toBe(200);
    } finally {
      await profile.close();
      await Promise.all([a.destroy(), b.destroy()]);
      await s3.close();
    }
  });
});
