/**
 * Probe (not a benchmark; writes no result file): one S2 edit's whole path on one clock, stage by
 * stage (docs/decisions/0055). Writer and reader share this process, the server runs in a child
 * process as in S2; everything is timed on the machine-wide monotonic clock (`process.hrtime`),
 * the server's stages by bench/lib/relay-trace.ts (`BENCH_RELAY_TRACE`, marked `R:`). Per edit:
 * edit call → writer's plain-doc update → its signature (engine call start/end, WebCrypto: a
 * thread round trip) → record in the writer's envelope → WebSocket.send called / returned →
 * relay stages → reader's socket message → its signature check (engine call start/end) → record
 * in the reader's envelope (gate) → reader's plain text changed (sync engine). Prints the p50 and
 * p90 offset from the edit call of each stage's first occurrence in the edit, sorted by p50, and
 * the step from the row above. `plain`: the same for stock Hocuspocus on plain docs.
 *   node bench/probe-edit-stages.ts [relay|plain] [edits]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, sleep, within } from './lib/common.ts';
import { hr, type TraceEvent } from './lib/relay-trace.ts';
import type { Ed25519Engine } from '../src/lib/crypto/index.ts';
import { ENVELOPE_MAP } from '../src/lib/protocol/index.ts';

const KIND = process.argv[2] === 'plain' ? 'plain' : 'relay';
const COUNT = Number(process.argv[3] ?? 300);
const WARMUP = 20;
const dir = mkdtempSync(join(tmpdir(), 'fhv-edit-stages-'));
process.env.BENCH_RELAY_TRACE = join(dir, 'trace');
const { encryptedPair, plainPair } = await import('./lib/sides.ts');
const { engineOf } = await import('../src/lib/vault/engine.ts');

let current: Map<string, number> | undefined;
let t0 = 0;
/** First occurrence of `what` in the current edit. */
const mark = (what: string) => {
  if (current && !current.has(what)) current.set(what, hr() - t0);
};
let writerSocket: EventTarget | undefined;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
  if (current) writerSocket ??= this; // the first socket to send in an edit is the writer's
  mark('WebSocket.send called');
  try {
    return send.call(this, data);
  } finally {
    mark('WebSocket.send returned');
  }
};
const dispatch = EventTarget.prototype.dispatchEvent;
EventTarget.prototype.dispatchEvent = function (this: EventTarget, event: Event) {
  if (event.type === 'message' && this instanceof WebSocket && this !== writerSocket) mark('reader socket message');
  return dispatch.call(this, event);
};
/** Times a device's engine calls (the first sign is the writer's record, the first verify the reader's check). */
const timed = (engine: Ed25519Engine, device: 'writer' | 'reader'): Ed25519Engine => ({
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

let arrived: (() => void) | undefined;
let edit: (i: number) => void;
let close: () => Promise<void>;
if (KIND === 'relay') {
  const pair = await encryptedPair({ server: 'process', wrapEngine: timed });
  const writer = engineOf(pair.writer);
  const reader = engineOf(pair.reader);
  writer.plainDoc.on('updateV2', () => mark('writer plain-doc update'));
  writer.envelopeDoc.getMap(ENVELOPE_MAP).observe(() => mark('record in writer envelope'));
  reader.envelopeDoc.getMap(ENVELOPE_MAP).observe(() => mark('record in reader envelope (gate)'));
  reader.plainDoc.getText('note:lat').observe(() => {
    mark('reader plain text (engine)');
    arrived?.();
  });
  const note = pair.writer.note('lat');
  edit = (i) => note.replace(i, 0, 'x');
  close = () => pair.close();
} else {
  const pair = await plainPair({ server: 'process' });
  const w = pair.writer.getText('note:lat');
  const r = pair.reader.getText('note:lat');
  pair.writer.on('update', () => mark('writer plain-doc update'));
  r.observe(() => {
    mark('reader plain text');
    arrived?.();
  });
  edit = (i) => w.insert(i, 'x');
  close = () => pair.close();
}

const edits: Array<{ start: number; marks: Map<string, number> }> = [];
for (let i = 0; i < COUNT; i++) {
  const done = new Promise<void>((r) => (arrived = r));
  current = new Map();
  t0 = hr();
  edits.push({ start: t0, marks: current });
  edit(i);
  await within(done, 10_000, 'edit reaches the reader');
  current = undefined;
  await sleep(25);
}
await close();
await sleep(300);
const events: TraceEvent[] = readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TraceEvent[]);
events.sort((a, b) => a[0] - b[0]);
edits.forEach((e, i) => {
  const end = edits[i + 1]?.start ?? Infinity;
  for (const [t, what] of events) if (t >= e.start && t < end && !e.marks.has(`R: ${what}`)) e.marks.set(`R: ${what}`, t - e.start);
});
const offsets = new Map<string, number[]>();
for (const e of edits.slice(WARMUP)) for (const [k, v] of e.marks) offsets.set(k, [...(offsets.get(k) ?? []), v]);
const rows = [...offsets].map(([k, xs]) => ({ k, n: xs.length, p50: percentile(xs, 50), p90: percentile(xs, 90) })).sort((a, b) => a.p50 - b.p50);
console.log(`${KIND}: ${COUNT - WARMUP} edits after ${WARMUP} warm-up, one every 25 ms; offset from the edit call, first occurrence per edit (n: edits where it occurred)`);
let previous = 0;
for (const r of rows) {
  console.log(`${r.k.padEnd(44)} n ${String(r.n).padStart(3)}  p50 ${r.p50.toFixed(3)} (+${(r.p50 - previous).toFixed(3)})  p90 ${r.p90.toFixed(3)} ms`);
  previous = r.p50;
}
// Per-edit spans between two stages (p50 of each edit's difference, not a difference of p50s):
// what each party's share of an edit is, edit by edit (docs/decisions/0058).
const SPANS: Array<[string, string, string]> = [
  ['writer: edit -> WebSocket.send called', '', 'WebSocket.send called'],
  ['writer: sign start -> sign end', 'writer sign start', 'writer sign end'],
  ['writer: sign end -> WebSocket.send called', 'writer sign end', 'WebSocket.send called'],
  ['WebSocket.send called -> reader socket message', 'WebSocket.send called', 'reader socket message'],
  ['reader: socket message -> verify start', 'reader socket message', 'reader verify start'],
  ['reader: verify start -> verify end', 'reader verify start', 'reader verify end'],
  ['reader: verify end -> plain text', 'reader verify end', KIND === 'relay' ? 'reader plain text (engine)' : 'reader plain text'],
  ['reader: socket message -> plain text', 'reader socket message', KIND === 'relay' ? 'reader plain text (engine)' : 'reader plain text'],
  ['total: edit -> reader plain text', '', KIND === 'relay' ? 'reader plain text (engine)' : 'reader plain text'],
];
console.log('per-edit spans (p50 / p90 of the difference in each edit):');
for (const [label, from, to] of SPANS) {
  const xs = edits.slice(WARMUP).flatMap((e) => {
    const a = from === '' ? 0 : e.marks.get(from);
    const b = e.marks.get(to);
    return a === undefined || b === undefined ? [] : [b - a];
  });
  if (xs.length > 0) console.log(`${label.padEnd(50)} n ${String(xs.length).padStart(3)}  p50 ${percentile(xs, 50).toFixed(3)}  p90 ${percentile(xs, 90).toFixed(3)} ms`);
}
process.exit(0);
