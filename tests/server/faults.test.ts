/**
 * Faults, seeded (issue 14 item 2): two relay instances on one PostgreSQL and one Redis, three
 * members writing while the nemesis restarts an instance, restarts PostgreSQL, kills and restarts
 * Redis, partitions a member from its instance and heals it, and drops members' connections.
 * After healing: every replica equal, every edit anyone typed present exactly once (lost = 0,
 * duplicated = 0), and every member back to synced. (SIGKILL of a relay process during writes
 * is tests/server/durability.test.ts; a client killed while persisting is
 * tests/sync/persistence-crash*.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { withSeed } from '../helpers/prng.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';
import { sendIfOpen, startWsProxy, type WsProxy } from '../helpers/ws-proxy.ts';

const FILE = 'tests/server/faults.test.ts';
const NAME = 'a seeded schedule of instance, database, Redis and network faults loses and duplicates nothing';

let postgres: TestPostgres;
let redis: TestRedis;
beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([postgres?.destroy(), redis?.destroy()]);
});

/** A proxy that can be partitioned: while down, every connection is cut and new ones are refused. */
async function partitionable(target: () => string): Promise<WsProxy & { down: boolean }> {
  const state = { down: false };
  const proxy = await startWsProxy({
    target: target(),
    pipe: (to) => (frame) => {
      if (!state.down) sendIfOpen(to, frame);
      else if (to.readyState === WebSocket.OPEN) to.terminate();
    },
  });
  return Object.assign(proxy, {
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
      if (v) proxy.cutAll();
    },
  });
}

const noteOf = (p: Profile) => engineOf(p).plainDoc.getText('note:journal').toString();

describe('faults', () => {
  it(NAME, async () => {
    await withSeed(FILE, NAME, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE}`);
      const databaseUrl = await postgres.database('faults');
      const ports = [await freePort(), await freePort()];
      const instances: TestRelay[] = [];
      const start = async (i: number) => (instances[i] = await testRelay({ databaseUrl, redisUrl: redis.url, port: ports[i] }));
      await start(0);
      await start(1);
      const proxies = [await partitionable(() => instances[0]!.url), await partitionable(() => instances[1]!.url)];
      const [alice, bob, carol] = [0, 1, 2].map(() => generateSigningKeyPair());
      const members: Profile[] = [];
      try {
        const a = await Profile.create({
          signer: alice!,
          relayUrl: proxies[0]!.url,
          minReconnectDelayMs: 50,
          members: [bob!, carol!].map((k) => ({ publicKey: k.publicKey, role: Role.editor, expiresAt: 0 })),
        });
        members.push(a);
        await a.flush();
        members.push(await Profile.open({ signer: bob!, relayUrl: proxies[1]!.url, access: a.access, minReconnectDelayMs: 50 }));
        members.push(await Profile.open({ signer: carol!, relayUrl: instances[0]!.url, access: a.access, minReconnectDelayMs: 50 }));
        for (const m of members) await m.status.when((s) => s.synced, 20_000);

        const typed: string[] = [];
        const faults: string[] = [];
        for (let step = 0; step < 14; step++) {
          for (let w = prng.int(1, 3); w > 0; w--) {
            const who = prng.int(0, 2);
            const token = `<${'abc'[who]}${step}.${w}>`;
            typed.push(token);
            // At either end, never inside another member's token (which would split it).
            insertNote(members[who]!, 'journal', prng.bool() ? 0 : noteOf(members[who]!).length, token);
          }
          const fault = prng.pick(['none', 'instance', 'postgres', 'redis', 'partition', 'drop'] as const);
          faults.push(fault);
          if (fault === 'instance') {
            const i = prng.int(0, 1);
            await instances[i]!.destroy();
            await start(i);
          } else if (fault === 'postgres') {
            await postgres.stop(prng.bool() ? 'immediate' : 'fast');
            await new Promise((r) => setTimeout(r, prng.int(0, 500)));
            await postgres.start();
          } else if (fault === 'redis') {
            await redis.kill();
            await new Promise((r) => setTimeout(r, prng.int(0, 500)));
            await redis.start();
          } else if (fault === 'partition') {
            const p = proxies[prng.int(0, 1)]!;
            p.down = true;
            await new Promise((r) => setTimeout(r, prng.int(100, 1_000)));
            p.down = false;
          } else if (fault === 'drop') {
            prng.pick(members).networkLost();
          }
          await new Promise((r) => setTimeout(r, prng.int(0, 200)));
        }
        console.log(`faults: ${faults.join(' ')}`);
        for (const m of members) m.reconnectNow();
        const describe = () =>
          members.map((m) => `${noteOf(m).length}:${m.status.value.state}:${m.status.value.connection}:${m.refusal.value ?? ''}:${m.status.value.problems.map((p) => p.code).join(',')}`).join(' ') +
          ` missing ${members.map((m) => typed.filter((t) => !noteOf(m).includes(t)).join('') || '-').join(' / ')} equal ${members.every((m) => noteOf(m) === noteOf(members[0]!))}`;
        await eventually(() => members.every((m) => noteOf(m) === noteOf(members[0]!)) && typed.every((t) => noteOf(members[0]!).includes(t)), 60_000, describe);
        const text = noteOf(members[0]!);
        for (const t of typed) expect(text.split(t).length - 1, t).toBe(1);
        expect(text.length).toBe(typed.join('').length);
        await Promise.all(members.map((m) => m.flush()));
        for (const m of members) await m.status.when((s) => s.synced, 30_000);
      } finally {
        for (const m of members) await m.close().catch(() => undefined);
        for (const p of proxies) await p.close();
        for (const r of instances) await r.destroy().catch(() => undefined);
      }
    });
    // 14 steps of restarts (PostgreSQL alone takes seconds) plus up to 60 s to heal.
  }, 240_000);
});
