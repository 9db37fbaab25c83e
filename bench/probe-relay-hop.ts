/**
 * Probe (not a benchmark; writes no result file): where an S2 edit's relay hop goes, stage by
 * stage, for our relay and for a stock Hocuspocus server, each in its own child process as S2
 * runs them. The child records timestamps (bench/lib/relay-trace.ts, `BENCH_RELAY_TRACE`) on
 * the machine-wide monotonic clock; this process records the writer's socket send and the
 * reader's socket message on the same clock. Prints, per event, its offset from the writer's
 * send (p50/p90), first occurrence per edit, events after the reader got the edit included.
 *   node bench/probe-relay-hop.ts relay|plain [edits]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, sleep, within } from './lib/common.ts';
import { hr, type TraceEvent } from './lib/relay-trace.ts';

const KIND = process.argv[2] === 'plain' ? 'plain' : 'relay';
const COUNT = Number(process.argv[3] ?? 300);
const WARMUP = 20;
const dir = mkdtempSync(join(tmpdir(), 'fhv-relay-trace-'));
process.env.BENCH_RELAY_TRACE = join(dir, 'trace');
const { encryptedPair, plainPair } = await import('./lib/sides.ts');
const { engineOf } = await import('../src/lib/vault/engine.ts');

interface Edit {
  sent?: number;
  socket?: WebSocket;
  received?: number;
}
let current: Edit | undefined;
let arrived: (() => void) | undefined;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
  if (current && current.sent === undefined) {
    current.sent = hr();
    current.socket = this;
  }
  return send.call(this, data);
};
const dispatch = EventTarget.prototype.dispatchEvent;
EventTarget.prototype.dispatchEvent = function (this: EventTarget, event: Event) {
  if (event.type === 'message' && this instanceof WebSocket && current?.sent !== undefined && this !== current.socket && current.received === undefined) {
    current.received = hr();
    if (KIND === 'plain') arrived?.();
  }
  return dispatch.call(this, event);
};

const edits: Edit[] = [];
let edit: (i: number) => void;
let close: () => Promise<void>;
if (KIND === 'relay') {
  const pair = await encryptedPair({ server: 'process' });
  const note = pair.writer.note('lat');
  edit = (i) => note.replace(i, 0, 'x');
  // Paced as probe-edit: the next edit once the reader's plain text has it (its gate and engine ran).
  engineOf(pair.reader).plainDoc.getText('note:lat').observe(() => arrived?.());
  close = () => pair.close();
} else {
  const pair = await plainPair({ server: 'process' });
  const text = pair.writer.getText('t');
  edit = (i) => text.insert(i, 'x');
  close = () => pair.close();
}
for (let i = 0; i < COUNT; i++) {
  const done = new Promise<void>((r) => (arrived = r));
  current = {};
  edits.push(current);
  edit(i);
  await within(done, 10_000, 'edit reaches the reader socket');
  await sleep(25);
}
current = undefined;
await close();
await sleep(200);
const events: TraceEvent[] = readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TraceEvent[]);
events.sort((a, b) => a[0] - b[0]);
const offsets = new Map<string, number[]>();
const add = (k: string, v: number) => offsets.set(k, [...(offsets.get(k) ?? []), v]);
const kept = edits.slice(WARMUP);
for (let i = 0; i < kept.length; i++) {
  const e = kept[i]!;
  const end = kept[i + 1]?.sent ?? Infinity;
  const seen = new Set<string>();
  for (const [t, what] of events) {
    if (t < e.sent! || t >= end || seen.has(what)) continue;
    seen.add(what);
    add(what, t - e.sent!);
  }
  add('~ reader socket message', e.received! - e.sent!);
}
console.log(`${KIND}: ${kept.length} edits after ${WARMUP} warm-up; offset from the writer's socket send, first occurrence per edit (n = edits where it occurred)`);
const rows = [...offsets].map(([k, xs]) => ({ k, n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90) })).sort((a, b) => a.p50 - b.p50);
for (const r of rows) console.log(`${r.k.padEnd(44)} n ${String(r.n).padStart(3)}  p50 ${r.p50.toFixed(3)}  p90 ${r.p90.toFixed(3)} ms`);
