/**
 * S8: real co-editing, one client per author, encrypted vs plaintext Hocuspocus.
 *  (a) encrypted: one Profile per author (owner + editors) -> counting proxy -> relay;
 *  (b) peer: one stock HocuspocusProvider per author on a plain Y.Doc -> the same proxy -> stock Server.
 * Workloads: the `friendsforever` concurrent trace (josephg/editing-traces, 2 authors typing
 * with 1 s of artificial latency), and an untuned seeded 3-author turn-taking trace.
 * Each author's txns run on its own replica, each once that replica has every parent txn (see
 * lib/concurrent-trace.ts: the same plan, waiting and yields on both sides). Time runs from the
 * first txn until every replica's text equals endContent; bytes are all WebSocket frame
 * payloads through the proxy, both directions. Targets: time <= 1.5x plaintext, bytes <= 1.3x.
 * Each side's server and the proxy run in a child process of their own (lib/server-process.ts).
 * Info rows, same run: server and proxy on the clients' event loop (the old arrangement); the relay store on tmpfs (what its fsync costs: since decision 0026 beside the forward, before the acknowledgement; the
 * plaintext server stores nothing), with adaptive batching and with the fixed 20 ms window of
 * before decision 0021.
 */
import * as Y from 'yjs';
import { environment, fmtBytes, fmtMs, now, QUICK, round, within, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';
import { loadConcurrentTrace, planReplay, syntheticTurnTaking, tracePrefix, type ConcurrentTrace } from './lib/concurrent-trace.ts';
import { CHUNK, replayAgent } from './lib/coedit-replay.ts';
import type { BenchServer, Counts } from './lib/server-process.ts';
import { whenText } from './lib/trace.ts';
import { encryptedAuthors, plainAuthors, type CoeditSide, type RemoteAuthors } from './lib/coedit-sides.ts';

const ROOT = 'note:coedit';
const DEADLINE_MS = 10 * 60 * 1000;

interface SideResult {
  readonly ms: number;
  readonly bytes: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly frames: number;
  /** Txns that had to wait for a parent from another author, and the mean wait. */
  readonly waits: number;
  readonly meanWaitMs: number;
  /** CPU (user + system, every thread) of the benchmark process during the replay: all authors' clients when they share it. */
  readonly clientCpuMs: number;
}

export async function replayForProfile(side: CoeditSide, trace: ConcurrentTrace): Promise<SideResult> {
  if (side.remote) return replayRemote(side.remote, side.server, trace);
  // Yjs orders concurrent inserts at one place by clientID; the traces' endContent is what
  // ascending agent numbers give, so agent a plays on the replica with the a-th smallest clientID.
  const docs = [...side.docs].sort((x, y) => x.clientID - y.clientID);
  const start = Y.encodeStateAsUpdateV2(docs[0]!);
  const sv = Y.encodeStateVector(docs[0]!).join();
  if (!docs.every((d) => Y.encodeStateVector(d).join() === sv)) throw new Error('replicas differ before the replay');
  const plan = planReplay(trace, { clientIds: docs.map((d) => d.clientID), start, root: ROOT });
  const byAgent: number[][] = docs.map(() => []);
  plan.forEach((t, i) => byAgent[t.agent]!.push(i));
  const done = Promise.all(docs.map((d) => whenText(d.getText(ROOT), trace.endContent)));
  await side.server.reset();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const waited = (await Promise.all(docs.map((doc, a) => replayAgent(doc, plan, byAgent[a]!)))).flat();
  await within(done, DEADLINE_MS, 'every replica reaches endContent');
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const d of docs) if (d.getText(ROOT).toString() !== trace.endContent) throw new Error('a replica differs from endContent');
  return sideResult(ms, await side.server.counts(), waited, (cpu.user + cpu.system) / 1000);
}

/** Each author's replica in a worker of its own: the plan is made here, each worker replays its author's txns. */
async function replayRemote(authors: RemoteAuthors, server: BenchServer, trace: ConcurrentTrace): Promise<SideResult> {
  const replicas = [...authors.replicas].sort((x, y) => x.clientID - y.clientID);
  if (!replicas.every((r) => r.stateVector === replicas[0]!.stateVector)) throw new Error('replicas differ before the replay');
  const plan = planReplay(trace, { clientIds: replicas.map((r) => r.clientID), start: replicas[0]!.state, root: ROOT });
  await server.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.timeOrigin + now();
  const results = await within(Promise.all(replicas.map((r, a) => r.replay({ plan, agent: a, root: ROOT, endContent: trace.endContent }))), DEADLINE_MS, 'every replica reaches endContent');
  const ms = Math.max(...results.map((r) => r.doneAt)) - t0;
  if (results.some((r) => r.text !== trace.endContent)) throw new Error('a replica differs from endContent');
  const cpu = process.cpuUsage(cpu0);
  return sideResult(ms, await server.counts(), results.flatMap((r) => r.waited), (cpu.user + cpu.system) / 1000);
}

function sideResult(ms: number, c: Counts, waited: number[], clientCpuMs: number): SideResult {
  const meanWaitMs = waited.length > 0 ? waited.reduce((x, y) => x + y, 0) / waited.length : 0;
  return { ms, bytes: c.up + c.down, bytesUp: c.up, bytesDown: c.down, frames: c.framesUp + c.framesDown, waits: waited.length, meanWaitMs, clientCpuMs };
}

async function runSide(make: () => Promise<CoeditSide>, trace: ConcurrentTrace): Promise<SideResult> {
  const side = await make();
  try {
    return await replayForProfile(side, trace);
  } finally {
    await side.close();
  }
}

interface Workload {
  readonly name: string;
  readonly trace: ConcurrentTrace;
}

function workloads(): Workload[] {
  const ff = loadConcurrentTrace('friendsforever.json.gz');
  const friends = QUICK ? tracePrefix(ff, 4000) : ff;
  const synthetic = syntheticTurnTaking({ seed: 8008, agents: 3, txns: QUICK ? 3000 : 12_000, meanTurn: 12 });
  return [
    { name: `friendsforever (${friends.numAgents} authors, ${friends.txns.length} txns)`, trace: friends },
    { name: `synthetic turn-taking (seed 8008, ${synthetic.numAgents} authors, ${synthetic.txns.length} txns)`, trace: synthetic },
  ];
}

function switches(t: ConcurrentTrace): number {
  let n = 0;
  for (let i = 1; i < t.txns.length; i++) if (t.txns[i]!.agent !== t.txns[i - 1]!.agent) n++;
  return n;
}

export async function runS8(): Promise<BenchResult> {
  const rows: RatioRow[] = [];
  const data: Record<string, unknown> = {};
  for (const w of workloads()) {
    const n = w.trace.numAgents;
    console.log(`  S8 ${w.name}: ${switches(w.trace)} author switches, final text ${w.trace.endContent.length} chars`);
    const plain = await runSide(() => plainAuthors(n), w.trace);
    console.log(`  S8 plaintext: ${fmtMs(plain.ms)}, ${fmtBytes(plain.bytes)} in ${plain.frames} frames, ${plain.waits} waits of ${fmtMs(plain.meanWaitMs)} mean`);
    const enc = await runSide(() => encryptedAuthors(n), w.trace);
    console.log(`  S8 encrypted: ${fmtMs(enc.ms)}, ${fmtBytes(enc.bytes)} in ${enc.frames} frames, ${enc.waits} waits of ${fmtMs(enc.meanWaitMs)} mean; clients' CPU ${fmtMs(enc.clientCpuMs)} (plaintext ${fmtMs(plain.clientCpuMs)})`);
    // Informational, with the relay's store on tmpfs (its fsync, beside the forward since decision 0026, then costs
    // nothing; the plaintext server stores nothing), so the batching's share is not lost in it:
    // adaptive batching, and the fixed window of before decision 0021 (othersActiveMs 0).
    const shm = await runSide(() => encryptedAuthors(n, { memoryDisk: true }), w.trace);
    console.log(`  S8 encrypted, relay store on tmpfs: ${fmtMs(shm.ms)}, ${fmtBytes(shm.bytes)} in ${shm.frames} frames, ${shm.waits} waits of ${fmtMs(shm.meanWaitMs)} mean`);
    const fixed = await runSide(() => encryptedAuthors(n, { othersActiveMs: 0, memoryDisk: true }), w.trace);
    console.log(`  S8 encrypted, relay store on tmpfs, fixed 20 ms window: ${fmtMs(fixed.ms)}, ${fmtBytes(fixed.bytes)} in ${fixed.frames} frames, ${fixed.waits} waits of ${fmtMs(fixed.meanWaitMs)} mean`);
    // The old arrangement, for information: server and proxy on the clients' event loop.
    const plainInline = await runSide(() => plainAuthors(n, { placement: 'inline' }), w.trace);
    const encInline = await runSide(() => encryptedAuthors(n, { placement: 'inline' }), w.trace);
    console.log(`  S8 one process: encrypted ${fmtMs(encInline.ms)}, plaintext ${fmtMs(plainInline.ms)}`);
    // Each author on a thread of its own too (as many event loops as devices, on 2 cores here).
    const plainWorkers = await runSide(() => plainAuthors(n, { clientsInWorkers: true }), w.trace);
    const encWorkers = await runSide(() => encryptedAuthors(n, { clientsInWorkers: true }), w.trace);
    console.log(`  S8 authors in worker threads: encrypted ${fmtMs(encWorkers.ms)}, plaintext ${fmtMs(plainWorkers.ms)}`);
    const timeRatio = enc.ms / plain.ms;
    const bytesRatio = enc.bytes / plain.bytes;
    rows.push(
      { metric: `${w.name}: time until every replica is done`, ours: fmtMs(enc.ms), peer: fmtMs(plain.ms), ratio: round(timeRatio, 2), target: '<= 1.5x', met: timeRatio <= 1.5 },
      { metric: `${w.name}: bytes on the wire`, ours: fmtBytes(enc.bytes), peer: fmtBytes(plain.bytes), ratio: round(bytesRatio, 2), target: '<= 1.3x', met: bytesRatio <= 1.3 },
      { metric: `${w.name}: CPU of the authors' clients (the benchmark process, every thread)`, ours: fmtMs(enc.clientCpuMs), peer: fmtMs(plain.clientCpuMs), ratio: round(enc.clientCpuMs / plain.clientCpuMs, 2), target: '(info)', met: null },
      { metric: `${w.name}: mean wait for the other author's txn`, ours: fmtMs(enc.meanWaitMs), peer: fmtMs(plain.meanWaitMs), ratio: round(enc.meanWaitMs / plain.meanWaitMs, 2), target: '(info)', met: null },
      { metric: `${w.name}: time, old arrangement (server on the clients' event loop)`, ours: fmtMs(encInline.ms), peer: fmtMs(plainInline.ms), ratio: round(encInline.ms / plainInline.ms, 2), target: '(info)', met: null },
      { metric: `${w.name}: time, each author in a worker thread of its own`, ours: fmtMs(encWorkers.ms), peer: fmtMs(plainWorkers.ms), ratio: round(encWorkers.ms / plainWorkers.ms, 2), target: '(info)', met: null },
      { metric: `${w.name}: time, relay store on tmpfs (fsync free)`, ours: fmtMs(shm.ms), peer: fmtMs(plain.ms), ratio: round(shm.ms / plain.ms, 2), target: '(info)', met: null },
      { metric: `${w.name}: time, relay store on tmpfs, fixed 20 ms window (before 0021)`, ours: fmtMs(fixed.ms), peer: fmtMs(plain.ms), ratio: round(fixed.ms / plain.ms, 2), target: '(info)', met: null },
      { metric: `${w.name}: bytes, relay store on tmpfs, fixed 20 ms window (before 0021)`, ours: fmtBytes(fixed.bytes), peer: fmtBytes(plain.bytes), ratio: round(fixed.bytes / plain.bytes, 2), target: '(info)', met: null },
    );
    data[w.name] = { txns: w.trace.txns.length, switches: switches(w.trace), encrypted: { ...enc, ms: round(enc.ms), meanWaitMs: round(enc.meanWaitMs, 3) }, encryptedTmpfsFixedWindow: { ...fixed, ms: round(fixed.ms), meanWaitMs: round(fixed.meanWaitMs, 3) }, encryptedRelayOnTmpfs: { ...shm, ms: round(shm.ms), meanWaitMs: round(shm.meanWaitMs, 3) }, plaintext: { ...plain, ms: round(plain.ms), meanWaitMs: round(plain.meanWaitMs, 3) }, inline: { encryptedMs: round(encInline.ms), plaintextMs: round(plainInline.ms) }, authorsInWorkers: { encrypted: { ...encWorkers, ms: round(encWorkers.ms), meanWaitMs: round(encWorkers.meanWaitMs, 3) }, plaintext: { ...plainWorkers, ms: round(plainWorkers.ms), meanWaitMs: round(plainWorkers.meanWaitMs, 3) } }, ratios: { time: round(timeRatio, 3), bytes: round(bytesRatio, 3) } };
  }
  const result: BenchResult = {
    id: 'S8',
    title: 'S8 co-editing, one client per author',
    env: environment(),
    rows,
    notes: [
      QUICK ? 'BENCH_QUICK: friendsforever prefix of 4,000 txns, synthetic 3,000 txns.' : 'Full friendsforever trace; synthetic trace of 12,000 txns.',
      `Each txn is applied as a local transaction on its author's replica once that replica has every parent txn; ${CHUNK} txns per author between setImmediate yields; identical for both sides.`,
      'Each side\'s server runs with its counting proxy in a child process of its own; the authors\' clients share the benchmark process (bench/README.md says why). Info rows "old arrangement": server and proxy in the benchmark process too.',
      'Encrypted side: default ProfileSync options and relay config (SQLite in the OS temp dir, fsync per group commit while the record is forwarded, before its author is acknowledged: decision 0026); plaintext side: stock HocuspocusProvider and Server (no storage).',
      'Info rows, same run: the encrypted side with the relay store on /dev/shm (tmpfs, fsync free), with adaptive batching and with the fixed 20 ms batch window of before decision 0021 (othersActiveMs 0).',
    ],
    data,
  };
  writeResult(result);
  return result;
}
