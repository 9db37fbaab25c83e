/**
 * S1: the crdt-benchmarks B4 editing trace (automerge-paper) replayed writer -> reader.
 *  (a) encrypted: writer Profile -> counting proxy -> relay -> counting proxy -> reader Profile;
 *  (b) peer: two stock HocuspocusProviders on plain Y.Docs through a stock Hocuspocus server
 *      behind the same counting proxy.
 * Both replay identically (chunks of 500 transactions, then yield with setImmediate). Time runs
 * from the first edit until the reader's text equals the writer's final text; bytes are all
 * WebSocket frame payloads through the proxy, both directions, from the first edit to the end.
 * Targets: encrypted time <= 1.25x plaintext, bytes <= 1.3x.
 */
import { environment, fmtBytes, fmtMs, now, QUICK, round, tick, within, writeResult, type BenchResult } from './lib/common.ts';
import { encryptedPair, plainPair } from './lib/sides.ts';
import { loadTrace, replayString, whenText, type Trace } from './lib/trace.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

const CHUNK = 500;
const NOTE = 'paper';
const DEADLINE_MS = 10 * 60 * 1000;

interface SideResult {
  readonly ms: number;
  readonly replayMs: number;
  readonly bytes: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly framesUp: number;
  readonly framesDown: number;
  readonly setupBytes: number;
}

/** Applies txns [0, n) through `apply`, yielding every CHUNK transactions. */
async function replay(trace: Trace, n: number, insert: (pos: number, s: string) => void, remove: (pos: number, len: number) => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (const [pos, del, ins] of trace.txns[i]!.patches) {
      if (del > 0) remove(pos, del);
      if (ins.length > 0) insert(pos, ins);
    }
    if ((i + 1) % CHUNK === 0) await tick();
  }
}

async function runEncrypted(trace: Trace, n: number, expected: string): Promise<SideResult> {
  const pair = await encryptedPair();
  try {
    const setupBytes = pair.proxy.total();
    pair.proxy.reset();
    const done = whenText(engineOf(pair.reader).plainDoc.getText(`note:${NOTE}`), expected);
    const t0 = now();
    const note = pair.writer.note(NOTE);
    await replay(trace, n, (p, s) => note.replace(p, 0, s), (p, l) => note.replace(p, l, ''));
    const replayMs = now() - t0;
    await within(done, DEADLINE_MS, 'encrypted reader converges');
    const ms = now() - t0;
    if (pair.writer.readNote(NOTE) !== expected) throw new Error('encrypted writer text differs from the trace');
    const c = { ...pair.proxy.counts };
    return { ms, replayMs, bytes: c.up + c.down, bytesUp: c.up, bytesDown: c.down, framesUp: c.framesUp, framesDown: c.framesDown, setupBytes };
  } finally {
    await pair.close();
  }
}

async function runPlain(trace: Trace, n: number, expected: string, flushDelay: number | false = false): Promise<SideResult> {
  const pair = await plainPair({ flushDelay });
  try {
    const setupBytes = pair.proxy.total();
    pair.proxy.reset();
    const wText = pair.writer.getText(`note:${NOTE}`);
    const done = whenText(pair.reader.getText(`note:${NOTE}`), expected);
    const t0 = now();
    await replay(trace, n, (p, s) => wText.insert(p, s), (p, l) => wText.delete(p, l));
    const replayMs = now() - t0;
    await within(done, DEADLINE_MS, 'plaintext reader converges');
    const ms = now() - t0;
    if (wText.toString() !== expected) throw new Error('plaintext writer text differs from the trace');
    const c = { ...pair.proxy.counts };
    return { ms, replayMs, bytes: c.up + c.down, bytesUp: c.up, bytesDown: c.down, framesUp: c.framesUp, framesDown: c.framesDown, setupBytes };
  } finally {
    await pair.close();
  }
}

export async function runS1(): Promise<BenchResult> {
  const trace = loadTrace();
  const total = trace.txns.length;
  const limit = process.env.S1_TXNS ? Number(process.env.S1_TXNS) : QUICK ? 20_000 : total;
  const n = Math.min(limit, total);
  const expected = n === total ? trace.endContent : replayString(trace, n);
  if (n === total && replayString(trace, n) !== trace.endContent) throw new Error('trace replay does not reach endContent');
  const ops = trace.txns.slice(0, n).reduce((k, t) => k + t.patches.length, 0);
  console.log(`  S1 replaying ${n} of ${total} txns (${ops} patches), final text ${expected.length} chars`);

  // Plaintext first, then encrypted; both in the same process and run.
  const plain = await runPlain(trace, n, expected);
  console.log(`  S1 plaintext: ${fmtMs(plain.ms)} (replay ${fmtMs(plain.replayMs)}), ${fmtBytes(plain.bytes)} in ${plain.framesUp + plain.framesDown} frames`);
  const enc = await runEncrypted(trace, n, expected);
  console.log(`  S1 encrypted: ${fmtMs(enc.ms)} (replay ${fmtMs(enc.replayMs)}), ${fmtBytes(enc.bytes)} in ${enc.framesUp + enc.framesDown} frames`);

  // Informational: the plaintext provider with its own batching (flushDelay 20 ms, like our batch window).
  const batched = await runPlain(trace, n, expected, 20);
  console.log(`  S1 plaintext flushDelay 20: ${fmtMs(batched.ms)}, ${fmtBytes(batched.bytes)} in ${batched.framesUp + batched.framesDown} frames`);

  const timeRatio = enc.ms / plain.ms;
  const bytesRatio = enc.bytes / plain.bytes;
  const prefix = n < total ? ` (first ${n} of ${total} txns)` : ` (all ${total} txns)`;
  const result: BenchResult = {
    id: 'S1',
    title: 'S1 B4 editing trace writer -> reader',
    env: environment(),
    rows: [
      { metric: `B4 trace time to reader${prefix}`, ours: fmtMs(enc.ms), peer: fmtMs(plain.ms), ratio: round(timeRatio, 2), target: '<= 1.25x', met: timeRatio <= 1.25 },
      { metric: `B4 trace bytes on the wire${prefix}`, ours: fmtBytes(enc.bytes), peer: fmtBytes(plain.bytes), ratio: round(bytesRatio, 2), target: '<= 1.3x', met: bytesRatio <= 1.3 },
      { metric: 'B4 time vs plaintext with provider flushDelay 20 ms', ours: fmtMs(enc.ms), peer: fmtMs(batched.ms), ratio: round(enc.ms / batched.ms, 2), target: '(info)', met: null },
      { metric: 'B4 bytes vs plaintext with provider flushDelay 20 ms', ours: fmtBytes(enc.bytes), peer: fmtBytes(batched.bytes), ratio: round(enc.bytes / batched.bytes, 2), target: '(info)', met: null },
    ],
    notes: [
      n < total ? `Prefix only: first ${n} of ${total} transactions${QUICK ? ' (BENCH_QUICK)' : ''}.` : `Full trace: ${total} transactions.`,
      `Replay in chunks of ${CHUNK} transactions with a setImmediate yield between chunks; identical for both sides.`,
      'Encrypted side uses default ProfileSync options (batchWindowMs 20, byte-ratio compaction) and the default relay config; plaintext side uses stock HocuspocusProvider defaults (one message per update).',
    ],
    data: {
      txns: n,
      totalTxns: total,
      patches: ops,
      finalChars: expected.length,
      chunk: CHUNK,
      encrypted: { ...enc, ms: round(enc.ms), replayMs: round(enc.replayMs) },
      plaintext: { ...plain, ms: round(plain.ms), replayMs: round(plain.replayMs) },
      plaintextFlushDelay20: { ...batched, ms: round(batched.ms), replayMs: round(batched.replayMs) },
      ratios: { time: round(timeRatio, 3), bytes: round(bytesRatio, 3), timeVsFlushDelay20: round(enc.ms / batched.ms, 3), bytesVsFlushDelay20: round(enc.bytes / batched.bytes, 3) },
    },
  };
  writeResult(result);
  return result;
}
