/**
 * Probe (not a benchmark; writes no result file): one S4 edit's path across two relay instances
 * (writer on instance one, reader on instance two, Redis between), stage by stage, on one clock
 * (`process.hrtime`). Relays and members share this process, as in S4's inline rows. Per edit:
 * edit call → writer's WebSocket.send → each instance's handleMessage / policy / onChange → every
 * Redis publish and arrival (by instance and message kind: SS1, reply-SS1, SS2, update) → each
 * instance's send to a client → instance two's remote-index ingest (gate run start/end) → reader's
 * socket message → its signature check → reader's plain text. Prints the p50 and p90 offset from
 * the edit call of each stage's first occurrence in the edit, sorted by p50, and the step from
 * the row above. `same`: both members on instance one (S4's peer side). `process`: each relay in a
 * child process as S4 runs them (decision 0057); the relays' stages then come from
 * bench/lib/relay-trace.ts (`BENCH_RELAY_TRACE`: handleMessage, hooks by extension, send; no Redis
 * arrivals), marked `I1:`/`I2:` by the child's pid.
 *   node bench/probe-s4-stages.ts [cross|same] [edits] [inline|process]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as decoding from 'lib0/decoding';
import { Connection } from '@hocuspocus/server';
import { percentile, sleep, within } from './lib/common.ts';
import { hr, type TraceEvent } from './lib/relay-trace.ts';
import { startBenchServer, type StartedBenchServer } from './lib/server-process.ts';
import { deviceEngine } from './lib/sides.ts';
import { startPostgres } from '../tests/helpers/postgres.ts';
import { startRedis } from '../tests/helpers/redis.ts';
import { testRelay, type TestRelay } from '../tests/helpers/relay.ts';
import { generateSigningKeyPair, type Ed25519Engine } from '../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, Role } from '../src/lib/protocol/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { isSyncStatus } from '../server/durable-ack.ts';

const KIND = process.argv[2] === 'same' ? 'same' : 'cross';
const COUNT = Number(process.argv[3] ?? 300);
const PLACEMENT = process.argv[4] === 'process' ? 'process' : 'inline';
const WARMUP = 20;
const traceDir = mkdtempSync(join(tmpdir(), 'fhv-s4-stages-'));
if (PLACEMENT === 'process') process.env.BENCH_RELAY_TRACE = join(traceDir, 'trace');

let current: Map<string, number> | undefined;
let t0 = 0;
const mark = (what: string) => {
  if (current && !current.has(what)) current.set(what, hr() - t0);
};

const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const databaseUrl = await postgres.database('probe');
const children: StartedBenchServer[] =
  PLACEMENT === 'process' ? [await startBenchServer('relay', { databaseUrl, redisUrl: redis.url }), await startBenchServer('relay', { databaseUrl, redisUrl: redis.url })] : [];
const relays: TestRelay[] = PLACEMENT === 'process' ? [] : [await testRelay({ databaseUrl, redisUrl: redis.url }), await testRelay({ databaseUrl, redisUrl: redis.url })];
const urls = PLACEMENT === 'process' ? children.map((c) => c.url) : relays.map((r) => r.url);
const label = (r: TestRelay) => `I${relays.indexOf(r) + 1}`;
const relayOfDocument = (doc: unknown) => relays.find((r) => [...r.server.hocuspocus.documents.values()].includes(doc as never));

/** Redis message kind: [idLen][id][docName][type][syncType]. */
function kindOf(data: Uint8Array): string {
  try {
    const d = decoding.createDecoder(data.subarray(1 + data[0]!));
    decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type !== 0 && type !== 4) return `type${type}`;
    const sync = decoding.readVarUint(d);
    return `${type === 4 ? 'reply-' : ''}${['SS1', 'SS2', 'update'][sync] ?? sync}`;
  } catch {
    return '?';
  }
}

for (const relay of relays) {
  const ext = relay.server.hocuspocus.configuration.extensions.find((e) => 'pub' in e && 'sub' in e) as unknown as {
    pub: { publish(...a: unknown[]): Promise<unknown> };
    sub: { prependListener(ev: string, f: (channel: Buffer, data: Buffer) => void): void };
  };
  const publish = ext.pub.publish.bind(ext.pub);
  ext.pub.publish = (...a: unknown[]) => {
    mark(`${label(relay)} publish ${kindOf(a[1] as Uint8Array)}`);
    try {
      return publish(...a);
    } finally {
      mark(`${label(relay)} publish ${kindOf(a[1] as Uint8Array)} returned`);
    }
  };
  ext.sub.prependListener('messageBuffer', (_channel, data) => mark(`${label(relay)} redis in ${kindOf(data)}`));
  // The remote-index ingest runs in the document's gate: time each gate run on this relay.
  const get = relay.registry.get.bind(relay.registry);
  relay.registry.get = async (name: string) => {
    const e = await get(name);
    const gate = e?.gate as unknown as { run<T>(f: () => Promise<T>): Promise<T>; wrapped?: true } | undefined;
    if (gate && !gate.wrapped) {
      const run = gate.run.bind(gate);
      gate.wrapped = true;
      gate.run = (f) =>
        run(async () => {
          mark(`${label(relay)} gate run start`);
          try {
            return await f();
          } finally {
            mark(`${label(relay)} gate run end`);
          }
        });
    }
    return e;
  };
}
const proto = Connection.prototype as unknown as { handleMessage(d: Uint8Array): void; send(m: Uint8Array): void; document: unknown };
const handle = proto.handleMessage;
proto.handleMessage = function (this: typeof proto, d) {
  const r = relayOfDocument(this.document);
  if (r) mark(`${label(r)} handleMessage`);
  return handle.call(this, d);
};
const csend = proto.send;
proto.send = function (this: typeof proto, m) {
  const r = relayOfDocument(this.document);
  if (r) mark(`${label(r)} ${isSyncStatus(m) ? 'send ack' : 'send'}`);
  return csend.call(this, m);
};

let writerSocket: EventTarget | undefined;
const wsSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
  if (current) writerSocket ??= this;
  mark('WebSocket.send called');
  return wsSend.call(this, data);
};
const dispatch = EventTarget.prototype.dispatchEvent;
EventTarget.prototype.dispatchEvent = function (this: EventTarget, event: Event) {
  if (event.type === 'message' && this instanceof WebSocket && this !== writerSocket) mark('reader socket message');
  return dispatch.call(this, event);
};
const timed = (engine: Ed25519Engine, device: string): Ed25519Engine => ({
  name: engine.name,
  async sign(m, k) {
    mark(`${device} sign start`);
    try {
      return await engine.sign(m, k);
    } finally {
      mark(`${device} sign end`);
    }
  },
  async verify(m, s, p) {
    mark(`${device} verify start`);
    try {
      return await engine.verify(m, s, p);
    } finally {
      mark(`${device} verify end`);
    }
  },
});

const alice = generateSigningKeyPair();
const bob = generateSigningKeyPair();
const readerUrl = urls[KIND === 'same' ? 0 : 1]!;
const writer = await Profile.create({ relayUrl: urls[0]!, engine: timed(await deviceEngine(), 'writer'), signer: alice, members: [{ publicKey: bob.publicKey, role: Role.viewer, expiresAt: 0 }] });
await within(writer.flush(), 15_000, 'writer genesis');
const reader = await Profile.open({ relayUrl: readerUrl, engine: timed(await deviceEngine(), 'reader'), signer: bob, access: writer.access });
await within(reader.status.when((s) => s.synced), 15_000, 'reader synced');
let arrived: (() => void) | undefined;
engineOf(reader).envelopeDoc.getMap(ENVELOPE_MAP).observe(() => mark('record in reader envelope (gate)'));
engineOf(reader).plainDoc.getText('note:lat').observe(() => {
  mark('reader plain text (engine)');
  arrived?.();
});
const note = writer.note('lat');

const edits: Array<Map<string, number>> = [];
const starts: number[] = [];
for (let i = 0; i < COUNT; i++) {
  const done = new Promise<void>((r) => (arrived = r));
  current = new Map();
  edits.push(current);
  t0 = hr();
  starts.push(t0);
  note.replace(i, 0, 'x');
  await within(done, 10_000, 'edit reaches the reader');
  // Stages after the arrival (acks, index ingest) still land in this edit's map until the next.
  await sleep(25);
  current = undefined;
}
await reader.close().catch(() => undefined);
await writer.close().catch(() => undefined);
for (const r of relays) await r.destroy();
for (const c of children) await c.close();
await Promise.all([postgres.destroy(), redis.destroy()]);
if (PLACEMENT === 'process') {
  // Each child wrote its trace as trace.<pid>.json on close.
  const events: Array<[number, string]> = [];
  for (const f of readdirSync(traceDir)) {
    const who = children.findIndex((c) => f.endsWith(`.${c.pid}.json`));
    for (const [t, what] of JSON.parse(readFileSync(join(traceDir, f), 'utf8')) as TraceEvent[]) events.push([t, `I${who + 1}: ${what}`]);
  }
  events.sort((a, b) => a[0] - b[0]);
  edits.forEach((e, i) => {
    const end = starts[i + 1] ?? Infinity;
    for (const [t, what] of events) if (t >= starts[i]! && t < end && !e.has(what)) e.set(what, t - starts[i]!);
  });
}

const offsets = new Map<string, number[]>();
for (const e of edits.slice(WARMUP)) for (const [k, v] of e) offsets.set(k, [...(offsets.get(k) ?? []), v]);
const rows = [...offsets].map(([k, xs]) => ({ k, n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90) })).sort((a, b) => a.p50 - b.p50);
console.log(`${KIND}: ${COUNT - WARMUP} edits after ${WARMUP} warm-up, one every 25 ms; offset from the edit call, first occurrence per edit (n: edits where it occurred)`);
let previous = 0;
for (const r of rows) {
  console.log(`${r.k.padEnd(44)} n ${String(r.n).padStart(3)}  p50 ${r.p50.toFixed(3)} (+${(r.p50 - previous).toFixed(3)})  p90 ${r.p90.toFixed(3)} ms`);
  previous = r.p50;
}
process.exit(0);
