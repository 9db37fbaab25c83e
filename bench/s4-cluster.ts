/**
 * S4: edit -> peer latency across relay instances through Redis (issue 14, decision 0048),
 * against the same two members on one instance. Both sides run relays on one PostgreSQL
 * (DATABASE_URL), so only the Redis hop differs; both relays and both members share this
 * process (info: a second process per relay would move the numbers, not the difference much).
 * Peer rows: stock Hocuspocus with its Redis extension on plain docs, across two servers against
 * one, for the extension's own cost. Target: cross-instance p50 <= one instance p50 + 1 ms.
 * Needs Debian's postgresql and redis-server (as the tests do).
 */
import { cpus, loadavg } from 'node:os';
import * as Y from 'yjs';
import { Server } from '@hocuspocus/server';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { Redis } from '@hocuspocus/extension-redis';
import { environment, fmtMs, QUICK, round, within, writeResult, type BenchResult } from './lib/common.ts';
import { drive, stats, WARMUP, type Stats } from './lib/latency.ts';
import { deviceEngine } from './lib/sides.ts';
import { startPostgres } from '../tests/helpers/postgres.ts';
import { startRedis } from '../tests/helpers/redis.ts';
import { testRelay, type TestRelay } from '../tests/helpers/relay.ts';
import { generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { Role } from '../src/lib/protocol/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

async function encrypted(count: number, writerRelay: TestRelay, readerRelay: TestRelay): Promise<Stats> {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const writer = await Profile.create({ relayUrl: writerRelay.url, engine: await deviceEngine(), signer: alice, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
  await within(writer.flush(), 15_000, 'writer genesis');
  const reader = await Profile.open({ relayUrl: readerRelay.url, engine: await deviceEngine(), signer: bob, access: writer.access });
  try {
    await within(reader.status.when((s) => s.synced), 15_000, 'reader synced');
    const text = engineOf(reader).plainDoc.getText('note:lat');
    const note = writer.note('lat');
    return stats(await drive(count, (i) => note.replace(i, 0, 'x'), (arrived) => text.observe(() => arrived(text.length))));
  } finally {
    await reader.close().catch(() => undefined);
    await writer.close().catch(() => undefined);
  }
}

async function plain(count: number, redisUrl: string, instances: 1 | 2): Promise<Stats> {
  const { port: redisPort } = new URL(redisUrl);
  const servers = await Promise.all(
    Array.from({ length: instances }, async () => {
      const s = new Server({ port: 0, quiet: true, stopOnSignals: false, extensions: [new Redis({ host: '127.0.0.1', port: Number(redisPort) })] });
      await s.listen();
      return s;
    }),
  );
  const url = (s: Server) => `ws://127.0.0.1:${s.address.port}`;
  const [w, r] = [new Y.Doc(), new Y.Doc()];
  const name = `s4-${Math.random().toString(36).slice(2)}`;
  const open = (u: string, doc: Y.Doc) =>
    within(new Promise<HocuspocusProvider>((resolve) => {
      const p: HocuspocusProvider = new HocuspocusProvider({ url: u, name, document: doc, onSynced: ({ state }) => state && resolve(p) });
    }), 15_000, 'plain provider synced');
  const wp = await open(url(servers[0]!), w);
  const rp = await open(url(servers[instances - 1]!), r);
  try {
    const wt = w.getText('t');
    const rt = r.getText('t');
    return stats(await drive(count, (i) => wt.insert(i, 'x'), (arrived) => rt.observe(() => arrived(rt.length))));
  } finally {
    wp.destroy();
    rp.destroy();
    for (const s of servers) await s.destroy();
  }
}

export async function runS4(): Promise<BenchResult> {
  const count = (QUICK ? 60 : 300) + WARMUP;
  const loadBefore = loadavg()[0]!;
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const databaseUrl = await postgres.database('s4');
    const one = await testRelay({ databaseUrl, redisUrl: redis.url });
    const two = await testRelay({ databaseUrl, redisUrl: redis.url });
    let same: Stats;
    let cross: Stats;
    try {
      same = await encrypted(count, one, one);
      console.log(`  S4 encrypted, one instance: p50 ${fmtMs(same.p50)}, p99 ${fmtMs(same.p99)}`);
      cross = await encrypted(count, one, two);
      console.log(`  S4 encrypted, across instances: p50 ${fmtMs(cross.p50)}, p99 ${fmtMs(cross.p99)}`);
    } finally {
      await one.destroy();
      await two.destroy();
    }
    const plainSame = await plain(count, redis.url, 1);
    const plainCross = await plain(count, redis.url, 2);
    console.log(`  S4 plaintext Hocuspocus + Redis: one ${fmtMs(plainSame.p50)}, across ${fmtMs(plainCross.p50)} (p50)`);
    const result: BenchResult = {
      id: 'S4',
      title: 'S4 edit -> peer latency across relay instances (Redis) vs one instance',
      env: environment(),
      rows: [
        { metric: 'encrypted: across instances vs one instance, p50', ours: fmtMs(cross.p50), peer: fmtMs(same.p50), ratio: round(cross.p50 / same.p50, 2), target: '<= peer + 1 ms', met: cross.p50 <= same.p50 + 1 },
        { metric: 'encrypted: across instances vs one instance, p99', ours: fmtMs(cross.p99), peer: fmtMs(same.p99), ratio: round(cross.p99 / same.p99, 2), target: '(info)', met: null },
        { metric: 'plaintext Hocuspocus + Redis extension: across vs one, p50', ours: fmtMs(plainCross.p50), peer: fmtMs(plainSame.p50), ratio: round(plainCross.p50 / plainSame.p50, 2), target: '(info)', met: null },
        { metric: 'across instances: encrypted vs plaintext, p50', ours: fmtMs(cross.p50), peer: fmtMs(plainCross.p50), ratio: round(cross.p50 / plainCross.p50, 2), target: '(info)', met: null },
      ],
      notes: [
        `${count - WARMUP} measured edits after ${WARMUP} warm-up edits, one every 25 ms (bench/lib/latency.ts).`,
        'Both encrypted sides: relays on one PostgreSQL (DATABASE_URL) with REDIS_URL set, in this process with both members; only where the reader connects differs.',
        `Cross-instance cost (encrypted): p50 +${(cross.p50 - same.p50).toFixed(2)} ms; the Redis extension alone (plaintext): p50 +${(plainCross.p50 - plainSame.p50).toFixed(2)} ms.`,
        `Machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${cpus().length} cores.`,
      ],
      data: { encrypted: { oneInstance: same, acrossInstances: cross }, plaintext: { oneInstance: plainSame, acrossInstances: plainCross } },
    };
    writeResult(result);
    return result;
  } finally {
    await Promise.all([postgres.destroy(), redis.destroy()]);
  }
}
