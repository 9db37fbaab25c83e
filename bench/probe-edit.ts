/**
 * Probe (not a benchmark; writes no result file): where one S2 edit's time goes, and what its
 * tail is made of. Writer and reader share this process, the relay runs in a child process (as
 * S2 runs it). Per edit, timestamps at: edit call → record in the writer's envelope (facade,
 * outbox, seal, sign, own policy check) → frame handed to the writer's socket → frame delivered
 * on the reader's socket (relay: hooks, check, durable append, forward) → record in the
 * reader's envelope (its relay gate) → the reader's plain text changed (sync engine: parse,
 * signature (answered from the gate's check), authorise, open, apply). Prints p50/p90/p99 per
 * stage, then every edit slower than 3x the median with its stages, the GC pauses in it and
 * whether the writer compacted in it.
 *   node bench/probe-edit.ts [edits]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/probe-edit.ts      # CPU profile of both clients
 *   BENCH_SERVER_PROF=/tmp/prof node bench/probe-edit.ts               # and of the relay
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { now, percentile, sleep, within } from './lib/common.ts';
import { encryptedPair } from './lib/sides.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { ENVELOPE_MAP } from '../src/lib/protocol/index.ts';

const COUNT = Number(process.argv[2] ?? 300);
const WARMUP = 20;
const SPACING_MS = 25;
const STAGES = ['sealed in writer envelope', 'on the writer socket', 'on the reader socket', 'in reader envelope (gate)', 'reader plain text (engine)'] as const;

interface Edit {
  readonly t: number[];
  gcMs: number;
  compacted: boolean;
}

async function main(): Promise<void> {
  const edits: Edit[] = [];
  let current: Edit | undefined;
  let arrived: (() => void) | undefined;
  const mark = (stage: number) => {
    const t = current?.t;
    if (!t || t[stage + 1] !== undefined || t[stage] === undefined) return;
    t[stage + 1] = now();
    if (stage === STAGES.length - 1) arrived?.();
  };
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (current && e.startTime >= current.t[0]!) current.gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  // Socket stages: the global WebSocket (what the provider uses in Node): send, and message events.
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
    mark(1);
    return send.call(this, data);
  };
  const pair = await encryptedPair({ server: 'process' });
  const reader = engineOf(pair.reader);
  const writer = engineOf(pair.writer);
  let readerSocket: WebSocket | undefined;
  const dispatch = EventTarget.prototype.dispatchEvent;
  EventTarget.prototype.dispatchEvent = function (this: EventTarget, event: Event) {
    // The first socket to get a frame after the writer sent is the reader's (no echo to the author, decision 0025).
    if (event.type === 'message' && this instanceof WebSocket && current?.t[2] !== undefined) readerSocket ??= this;
    if (event.type === 'message' && this === readerSocket) mark(2);
    return dispatch.call(this, event);
  };
  const writerMap = writer.envelopeDoc.getMap(ENVELOPE_MAP);
  writerMap.observe((event) => {
    if (current && (event.keysChanged.size > 1 || [...event.keysChanged].some((k) => !writerMap.has(k)))) current.compacted = true;
    mark(0);
  });
  reader.envelopeDoc.getMap(ENVELOPE_MAP).observe(() => mark(3));
  reader.plainDoc.getText('note:lat').observe(() => mark(4));
  const note = pair.writer.note('lat');
  try {
    for (let i = 0; i < COUNT; i++) {
      const done = new Promise<void>((r) => (arrived = r));
      current = { t: [now()], gcMs: 0, compacted: false };
      note.replace(i, 0, 'x');
      await within(done, 10_000, 'edit reaches the reader');
      edits.push(current);
      await sleep(SPACING_MS);
    }
  } finally {
    gc.disconnect();
    await pair.close();
  }
  const kept = edits.slice(WARMUP);
  const total = (e: Edit) => e.t[STAGES.length]! - e.t[0]!;
  const row = (name: string, xs: number[]) => console.log(`${name.padEnd(30)} p50 ${percentile(xs, 50).toFixed(3)}  p90 ${percentile(xs, 90).toFixed(3)}  p99 ${percentile(xs, 99).toFixed(3)} ms`);
  console.log(`${kept.length} edits after ${WARMUP} warm-up, one every ${SPACING_MS} ms`);
  STAGES.forEach((name, s) => row(name, kept.map((e) => e.t[s + 1]! - e.t[s]!)));
  row('total', kept.map(total));
  const median = percentile(kept.map(total), 50);
  const slow = kept.filter((e) => total(e) > 3 * median);
  console.log(`\n${slow.length} edits slower than 3x the median (${median.toFixed(2)} ms): stages in ms, GC in the edit, compaction`);
  for (const e of slow) {
    const parts = STAGES.map((_, s) => (e.t[s + 1]! - e.t[s]!).toFixed(2)).join(' / ');
    console.log(`  ${total(e).toFixed(2)} ms = ${parts}${e.gcMs > 0 ? `; GC ${e.gcMs.toFixed(2)} ms` : ''}${e.compacted ? '; writer compacted' : ''}`);
  }
  const worst = new Map<string, number>();
  for (const e of slow) {
    let top = 0;
    for (let s = 1; s < STAGES.length; s++) if (e.t[s + 1]! - e.t[s]! > e.t[top + 1]! - e.t[top]!) top = s;
    worst.set(STAGES[top]!, (worst.get(STAGES[top]!) ?? 0) + 1);
  }
  console.log(`slowest stage of those: ${[...worst].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

void main();
