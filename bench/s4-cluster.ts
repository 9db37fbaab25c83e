/**
 * S4: edit -> peer latency across relay instances through Redis (issue 14, decision 0048),
 * against the same two members on one instance. Both sides run relays on one PostgreSQL
 * (DATABASE_URL) and one Redis (REDIS_URL), so only where the reader connects differs.
 * Arrangement (decision 0057): each relay runs alone in a child process (bench/lib/server-process.ts,
 * as S2's servers since decision 0027), both members in this process: instances are separate
 * machines in a deployment, and in one event loop each instance's bookkeeping after its forward
 * (the other instance's Redis exchange, index ingest, appends) ran before the reader could read.
 * Info rows: the old arrangement (relays and members all in this process), and stock Hocuspocus
 * with its Redis extension on plain docs, across two servers against one, in both arrangements.
 * The two sides (one instance, across) are driven in the same seconds, their edits interleaved:
 * measured one after the other they saw different loads on the shared cores, and three quiet runs
 * gave +1.20, +1.59 and +0.17 ms for the same code.
 * Target: cross-instance p50 <= one instance p50 + 1 ms. Needs Debian's postgresql and redis-server.
 */
import { cpus, loadavg } from 'node:os';
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { environment, fmtMs, QUICK, round, within, writeResult, type BenchResult } from './lib/common.ts';
import { driveInterleaved, stats, WARMUP, type LatencyPair, type Stats } from './lib/latency.ts';
import { startBenchServer, type Placement } from './lib/server-process.ts';
import { deviceEngine } from './lib/sides.ts';
import { startPostgres } from '../tests/helpers/postgres.ts';
import { startRedis } from '../tests/helpers/redis.ts';
import { testRelay } from '../tests/helpers/relay.ts';
import { generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { Role } from '../src/lib/protocol/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

/** A writer on `writerUrl` and a reader of the same profile on `readerUrl`, synced. */
async function encryptedPair(writerUrl: string, readerUrl: string): Promise<LatencyPair & { close(): Promise<void> }> {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const writer = await Profile.create({ relayUrl: writerUrl, engine: await deviceEngine(), signer: alice, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
  await within(writer.flush(), 15_000, 'writer genesis');
  const reader = await Profile.open({ relayUrl: readerUrl, engine: await deviceEngine(), signer: bob, access: writer.access });
  const close = async () => {
    await reader.close().catch(() => undefined);
    await writer.close().catch(() => undefined);
  };
  try {
    await within(reader.status.when((s) => s.synced), 15_000, 'reader synced');
  } catch (e) {
    await close();
    throw e;
  }
  const text = engineOf(reader).plainDoc.getText('note:lat');
  const note = writer.note('lat');
  return { edit: (i) => note.replace(i, 0, 'x'), hook: (arrived) => text.observe(() => arrived(text.length)), close };
}

/** The same on plain docs through stock Hocuspocus providers. */
async function plainPair(writerUrl: string, readerUrl: string): Promise<LatencyPair & { close(): Promise<void> }> {
  const [w, r] = [new Y.Doc(), new Y.Doc()];
  const name = `s4-${Math.random().toString(36).slice(2)}`;
  const open = (u: string, doc: Y.Doc) =>
    within(new Promise<HocuspocusProvider>((resolve) => {
      const p: HocuspocusProvider = new HocuspocusProvider({ url: u, name, document: doc, onSynced: ({ state }) => state && resolve(p) });
    }), 15_000, 'plain provider synced');
  const wp = await open(writerUrl, w);
  const rp = await open(readerUrl, r);
  const wt = w.getText('t');
  const rt = r.getText('t');
  return {
    edit: (i) => wt.insert(i, 'x'),
    hook: (arrived) => rt.observe(() => arrived(rt.length)),
    close: async () => {
      wp.destroy();
      rp.destroy();
    },
  };
}

/** One instance (writer and reader on server one) and across (reader on server two), driven side by side. */
async function sideBySide(count: number, make: (writerUrl: string, readerUrl: string) => Promise<LatencyPair & { close(): Promise<void> }>, urls: readonly [string, string]): Promise<[Stats, Stats]> {
  const same = await make(urls[0], urls[0]);
  try {
    const cross = await make(urls[0], urls[1]);
    try {
      const [a, b] = await driveInterleaved(count, [same, cross]);
      return [stats(a!), stats(b!)];
    } finally {
      await cross.close();
    }
  } finally {
    await same.close();
  }
}

async function oldRelay(databaseUrl: string, redisUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const relay = await testRelay({ databaseUrl, redisUrl });
  return { url: relay.url, close: () => relay.destroy() };
}

interface Arrangement {
  readonly same: Stats;
  readonly cross: Stats;
  readonly plainSame: Stats;
  readonly plainCross: Stats;
}

/** Both sides and both plaintext rows with every server placed the same way. */
async function arrangement(count: number, placement: Placement, databaseUrl: string, redisUrl: string): Promise<Arrangement> {
  const tag = placement === 'process' ? 'relays in child processes' : 'all in one process (old)';
  // The old arrangement exactly as it ran before (tests/helpers/relay.ts: 50 ms fold debounce).
  const start = async () => (placement === 'process' ? startBenchServer('relay', { placement, databaseUrl, redisUrl }) : oldRelay(databaseUrl, redisUrl));
  const relays = [await start(), await start()] as const;
  let same: Stats;
  let cross: Stats;
  try {
    [same, cross] = await sideBySide(count, encryptedPair, [relays[0].url, relays[1].url]);
    console.log(`  S4 ${tag}, encrypted: one instance p50 ${fmtMs(same.p50)}, p99 ${fmtMs(same.p99)}; across p50 ${fmtMs(cross.p50)}, p99 ${fmtMs(cross.p99)}`);
  } finally {
    for (const r of relays) await r.close();
  }
  // Stock servers with the Redis extension, the same way: one instance on server one, across to two.
  const servers = await Promise.all([0, 1].map(() => startBenchServer('hocuspocus', { placement, redisUrl })));
  let plainSame: Stats;
  let plainCross: Stats;
  try {
    [plainSame, plainCross] = await sideBySide(count, plainPair, [servers[0]!.url, servers[1]!.url]);
  } finally {
    for (const s of servers) await s.close();
  }
  console.log(`  S4 ${tag}, plaintext Hocuspocus + Redis: one ${fmtMs(plainSame.p50)}, across ${fmtMs(plainCross.p50)} (p50)`);
  return { same, cross, plainSame, plainCross };
}

export async function runS4(): Promise<BenchResult> {
  const count = (QUICK ? 60 : 300) + WARMUP;
  const loadBefore = loadavg()[0]!;
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const main = await arrangement(count, 'process', await postgres.database('s4'), redis.url);
    const old = await arrangement(count, 'inline', await postgres.database('s4_inline'), redis.url);
    const { same, cross, plainSame, plainCross } = main;
    const OLD = 'old arrangement (relays and members in one process)';
    const result: BenchResult = {
      id: 'S4',
      title: 'S4 edit -> peer latency across relay instances (Redis) vs one instance',
      env: environment(),
      rows: [
        { metric: 'encrypted: across instances vs one instance, p50', ours: fmtMs(cross.p50), peer: fmtMs(same.p50), ratio: round(cross.p50 / same.p50, 2), target: '<= peer + 1 ms', met: cross.p50 <= same.p50 + 1 },
        { metric: 'encrypted: across instances vs one instance, p99', ours: fmtMs(cross.p99), peer: fmtMs(same.p99), ratio: round(cross.p99 / same.p99, 2), target: '(info)', met: null },
        { metric: 'plaintext Hocuspocus + Redis extension: across vs one, p50', ours: fmtMs(plainCross.p50), peer: fmtMs(plainSame.p50), ratio: round(plainCross.p50 / plainSame.p50, 2), target: '(info)', met: null },
        { metric: 'across instances: encrypted vs plaintext, p50', ours: fmtMs(cross.p50), peer: fmtMs(plainCross.p50), ratio: round(cross.p50 / plainCross.p50, 2), target: '(info)', met: null },
        { metric: `${OLD}: encrypted across vs one instance, p50`, ours: fmtMs(old.cross.p50), peer: fmtMs(old.same.p50), ratio: round(old.cross.p50 / old.same.p50, 2), target: '(info)', met: null },
        { metric: `${OLD}: encrypted across vs one instance, p99`, ours: fmtMs(old.cross.p99), peer: fmtMs(old.same.p99), ratio: round(old.cross.p99 / old.same.p99, 2), target: '(info)', met: null },
        { metric: `${OLD}: plaintext Hocuspocus + Redis extension across vs one, p50`, ours: fmtMs(old.plainCross.p50), peer: fmtMs(old.plainSame.p50), ratio: round(old.plainCross.p50 / old.plainSame.p50, 2), target: '(info)', met: null },
      ],
      notes: [
        `${count - WARMUP} measured edits per side after ${WARMUP} warm-up edits, one every 25 ms on each side, the two sides (one instance, across instances) driven in the same seconds with their edits interleaved (bench/lib/latency.ts driveInterleaved), so load drift weighs on both alike.`,
        'Both encrypted sides: relays on one PostgreSQL (DATABASE_URL) with REDIS_URL set, each relay alone in a child process (default config), both members in the benchmark process; only where the reader connects differs (decision 0057). Stock Hocuspocus rows: each server in its own child process too.',
        `Cross-instance cost (encrypted): p50 +${(cross.p50 - same.p50).toFixed(2)} ms; the Redis extension alone (plaintext): p50 +${(plainCross.p50 - plainSame.p50).toFixed(2)} ms.`,
        `Old arrangement (info rows; relays with the test helper's 50 ms fold debounce, everything on one event loop): cross-instance cost p50 +${(old.cross.p50 - old.same.p50).toFixed(2)} ms encrypted, +${(old.plainCross.p50 - old.plainSame.p50).toFixed(2)} ms plaintext.`,
        `Machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${cpus().length} cores.`,
      ],
      data: { encrypted: { oneInstance: same, acrossInstances: cross }, plaintext: { oneInstance: plainSame, acrossInstances: plainCross }, oldArrangement: old },
    };
    writeResult(result);
    return result;
  } finally {
    await Promise.all([postgres.destroy(), redis.destroy()]);
  }
}
