/**
 * Probe (not a benchmark; writes no result file): S4's two sides measured in the same seconds.
 * S4 runs one instance's 300 edits, then the across-instances ones: on a machine whose load
 * drifts (2 shared cores) the two halves see different loads. Here both pairs are open at once,
 * on two documents: writer and reader on relay one; writer on relay one, reader on relay two;
 * edits alternate between them, one every 25 ms (so each pair gets one every 50 ms), and each
 * edit's latency is taken as in S4 (edit call → reader's plain text changed). Relays in child
 * processes (`process`, S4's arrangement since decision 0057) or in this process (`inline`).
 * Prints p50/p90 of each side and of the across-minus-one difference of edit pairs.
 *   node bench/probe-s4-interleaved.ts [process|inline] [edits per side]
 */
import { percentile, sleep, within, now } from './lib/common.ts';
import { startBenchServer, type Placement } from './lib/server-process.ts';
import { deviceEngine } from './lib/sides.ts';
import { startPostgres } from '../tests/helpers/postgres.ts';
import { startRedis } from '../tests/helpers/redis.ts';
import { generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { Role } from '../src/lib/protocol/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

const placement: Placement = process.argv[2] === 'inline' ? 'inline' : 'process';
const COUNT = Number(process.argv[3] ?? 200);
const WARMUP = 20;

const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const databaseUrl = await postgres.database('probe');
const relays = [await startBenchServer('relay', { placement, databaseUrl, redisUrl: redis.url }), await startBenchServer('relay', { placement, databaseUrl, redisUrl: redis.url })];

async function pair(readerUrl: string) {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const writer = await Profile.create({ relayUrl: relays[0]!.url, engine: await deviceEngine(), signer: alice, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
  await within(writer.flush(), 15_000, 'writer genesis');
  const reader = await Profile.open({ relayUrl: readerUrl, engine: await deviceEngine(), signer: bob, access: writer.access });
  await within(reader.status.when((s) => s.synced), 15_000, 'reader synced');
  const text = engineOf(reader).plainDoc.getText('note:lat');
  const note = writer.note('lat');
  const sent: number[] = [];
  const lat: number[] = [];
  text.observe(() => {
    const t = now();
    while (lat.length < text.length && lat.length < sent.length) lat.push(t - sent[lat.length]!);
  });
  return {
    edit(i: number) {
      sent[i] = now();
      note.replace(i, 0, 'x');
    },
    lat,
    close: async () => {
      await reader.close().catch(() => undefined);
      await writer.close().catch(() => undefined);
    },
  };
}

const same = await pair(relays[0]!.url);
const cross = await pair(relays[1]!.url);
for (let i = 0; i < COUNT + WARMUP; i++) {
  same.edit(i);
  await sleep(25);
  cross.edit(i);
  await sleep(25);
}
await sleep(500);
await same.close();
await cross.close();
for (const r of relays) await r.close();
await Promise.all([postgres.destroy(), redis.destroy()]);
const s = same.lat.slice(WARMUP);
const c = cross.lat.slice(WARMUP);
const d = c.map((x, i) => x - s[i]!);
const f = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(2)} p90 ${percentile(xs, 90).toFixed(2)} ms (n ${xs.length})`;
console.log(`${placement}: one instance ${f(s)}; across ${f(c)}; across − one, p50 of the differences ${percentile(d, 50).toFixed(2)} ms, difference of the p50s ${(percentile(c, 50) - percentile(s, 50)).toFixed(2)} ms`);
process.exit(0);
