/**
 * S3: relay scale on this machine (issue 14). Each side's server runs alone in a child process
 * (bench/lib/server-process.ts, open-file limit raised); raw WebSocket clients in worker
 * processes (lib/scale-clients.ts) hold the connections. Phases, per side:
 *  A. documents: one creator socket per document sends the document's first update (relay: a
 *     real profile's genesis and membership records, made by the vault facade in
 *     lib/scale-fixtures.ts; plaintext: the same profile's plain-doc state) and waits for the ack;
 *  B. idle connections: member sockets (relay: the viewer's token) join until there are
 *     S3_CONNECTIONS in all: PEERS-1 on each of the first documents (5 peers per document), any
 *     rest spread over every document;
 *  C. steady edits: on each document with peers, its creator sends one pre-made edit update
 *     every 10 s (relay: a sealed, signed record); each peer times the update's arrival;
 *  D. unload: every socket of the documents without peers closes; the server unloads them.
 * Server memory (process.memoryUsage after full collections, over IPC) is read after each
 * phase: per document = phase A's growth per document minus one connection; per connection =
 * phase B's growth per socket; returned per unloaded document = phase D's drop less its sockets.
 */
import { cpus, loadavg, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { environment, fmtBytes, fmtMs, now, QUICK, round, sleep, writeResult, type BenchResult } from './lib/common.ts';
import { stats } from './lib/latency.ts';
import { startBenchServer, type ServerMemory } from './lib/server-process.ts';
import { startClientFleet, type Opened } from './lib/scale-clients.ts';
import { loadFixtures, stateVectors, type DocFixture } from './lib/scale-fixtures.ts';
import type { SocketSpec } from './lib/scale-worker.ts';
import { loopLine, tailReport, type TailReport } from './lib/s3-tail.ts';
import type { LoopReport } from './lib/loop-watch.ts';

const int = (v: string | undefined, d: number): number => (v && Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : d);
const CONNECTIONS = int(process.env.S3_CONNECTIONS, QUICK ? 400 : 10_000);
const DOCS = Math.min(CONNECTIONS, int(process.env.S3_DOCS, QUICK ? 100 : 4_000));
const WORKERS = int(process.env.S3_WORKERS, QUICK ? 2 : 4);
const EDIT_MS = int(process.env.S3_EDIT_SECONDS, QUICK ? 20 : 60) * 1000;
const PEERS = 5;
const PERIOD_MS = 10_000;
const NOFILE = 65_535;
/** Documents with PEERS sockets (the creator and PEERS-1 members): the ones that get edits. */
const EDIT_DOCS = Math.min(DOCS, Math.floor((CONNECTIONS - DOCS) / (PEERS - 1)));
const EDITS_PER_DOC = Math.ceil(EDIT_MS / PERIOD_MS);
/**
 * Probe only: scheduling priority (nice, -20..19) for the edit phase, of every thread of the
 * server process and of the client processes; unset = as started (0). S3_SIDES=relay (or
 * hocuspocus) runs one side only.
 */
const niceOf = (v: string | undefined): number | undefined => (v !== undefined && v !== '' && Number.isInteger(Number(v)) ? Number(v) : undefined);
const SERVER_NICE = niceOf(process.env.S3_SERVER_NICE);
const CLIENT_NICE = niceOf(process.env.S3_CLIENT_NICE);
const SIDES = (process.env.S3_SIDES ?? 'hocuspocus,relay').split(',');

/** Every thread of a process to this nice value (Linux: setpriority applies to one thread). */
function renice(pid: number, nice: number): void {
  let tids: string[] = [String(pid)];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // not Linux: the main thread only
  }
  for (const tid of tids) setPriority(Number(tid), nice);
}

type Kind = 'relay' | 'hocuspocus';

/** A document's updates on one side, and its state vectors after each (for the keep-alives). */
function sideOf(kind: Kind, f: DocFixture, doc: number) {
  const initial = kind === 'relay' ? f.envelopeInitial : f.plainInitial;
  const edits = doc < EDIT_DOCS ? (kind === 'relay' ? f.envelopeEdits : f.plainEdits) : [];
  return { initial, edits, stateVectors: stateVectors(initial, edits) };
}

function creatorSpec(kind: Kind, f: DocFixture, doc: number): SocketSpec {
  const side = sideOf(kind, f, doc);
  return kind === 'relay' ? { doc, name: f.name, secret: f.ownerSecret, docId: f.docId, genesisNonce: f.genesisNonce, ...side } : { doc, name: f.name, ...side };
}

function memberSpecs(kind: Kind, fixtures: DocFixture[]): SocketSpec[] {
  const spec = (doc: number): SocketSpec => {
    const f = fixtures[doc]!;
    const { stateVectors } = sideOf(kind, f, doc);
    return kind === 'relay' ? { doc, name: f.name, secret: f.viewerSecret, docId: f.docId, stateVectors } : { doc, name: f.name, stateVectors };
  };
  const out: SocketSpec[] = [];
  for (let doc = 0; doc < EDIT_DOCS; doc++) for (let p = 1; p < PEERS; p++) out.push(spec(doc));
  for (let i = 0; out.length < CONNECTIONS - DOCS; i++) out.push(spec(i % DOCS));
  return out;
}

interface SideResult {
  readonly kind: Kind;
  readonly docsOpened: Opened;
  readonly membersOpened: Opened;
  readonly docsOpenMs: number;
  readonly membersOpenMs: number;
  readonly memory: { start: ServerMemory; docs: ServerMemory; connections: ServerMemory; edited: ServerMemory; unloaded: ServerMemory; empty: ServerMemory };
  /** The server's CPU time over the edit phase as a share of one core. */
  readonly editCpuShare: number;
  /** The client processes' CPU over the edit phase (share of one core, all of them). */
  readonly clientsCpuShare: number;
  /** The server's collections during the edit phase, and the longest of them. */
  readonly editGc: { count: number; totalMs: number; maxMs: number };
  readonly latency: ReturnType<typeof stats>;
  readonly editsSent: number;
  readonly arrivalsMissing: number;
  /** Sockets the server closed during the run, by close code and reason. */
  readonly dropped: Record<string, number>;
  readonly unload: { docs: number; sockets: number; waitedMs: number };
  /** Where the edit -> peer time went (s3-tail.ts), and each process's loop over the edit phase. */
  readonly tail: TailReport;
  readonly serverLoop: LoopSummary;
  readonly clientLoops: LoopSummary[];
}

/** A loop report without its spans (kept out of the result file). */
type LoopSummary = Omit<LoopReport, 'stalls' | 'gc'> & { gc: Omit<LoopReport['gc'], 'pauses'>; stalls: number; longestStallMs: number };
const summary = (l: LoopReport): LoopSummary => {
  const { pauses: _pauses, ...gc } = l.gc;
  return { ...l, gc, stalls: l.stalls.length, longestStallMs: round(Math.max(0, ...l.stalls.map((s) => s[1])), 1) };
};

async function runSide(kind: Kind, fixtures: DocFixture[]): Promise<SideResult> {
  const server = await startBenchServer(kind, { gc: true, nofile: NOFILE, editTrace: true });
  const fleet = await startClientFleet(WORKERS, NOFILE);
  try {
    const memory = async () => ({ ...(await server.memory!()), at: now() });
    const start = await memory();
    let t = now();
    const docsOpened = await fleet.open(server.url, fixtures.map((f, d) => creatorSpec(kind, f, d)), 600_000);
    const docsOpenMs = now() - t;
    const docs = await memory();
    console.log(`  S3 ${kind}: ${docsOpened.ok}/${fixtures.length} documents in ${fmtMs(docsOpenMs)}${docsOpened.failed ? ` (failed: ${JSON.stringify(docsOpened.errors)})` : ''}`);
    t = now();
    const membersOpened = await fleet.open(server.url, memberSpecs(kind, fixtures), 600_000);
    const membersOpenMs = now() - t;
    const connections = await memory();
    console.log(`  S3 ${kind}: ${connections.stats.connections} connections held (${membersOpened.ok} members in ${fmtMs(membersOpenMs)})${membersOpened.failed ? ` (failed: ${JSON.stringify(membersOpened.errors)})` : ''}`);
    if (SERVER_NICE !== undefined) renice(server.pid!, SERVER_NICE);
    if (CLIENT_NICE !== undefined) for (const pid of fleet.pids) renice(pid, CLIENT_NICE);
    server.traceStart!();
    const edited = await fleet.edits(PERIOD_MS, EDIT_MS);
    const trace = await server.traceStop!();
    const tail = tailReport(edited.arrivals, trace, edited.loops, (d) => fixtures[d]!.name);
    console.log(`  S3 ${kind}: ${loopLine('server', trace.loop)}`);
    edited.loops.forEach((l, i) => console.log(`  S3 ${kind}: ${loopLine(`clients ${i}`, l)}`));
    console.log(`  S3 ${kind}: parts (p50 / p99 / max ms, ${tail.joined} joined): up ${JSON.stringify(tail.up)}, relay ${JSON.stringify(tail.relay)}, down ${JSON.stringify(tail.down)}; from server receipt ${JSON.stringify(tail.fromServer)}`);
    console.log(`  S3 ${kind}: slow arrivals ${JSON.stringify(tail.slow)}`);
    const latency = stats(edited.latencies.length > 0 ? edited.latencies : [NaN]);
    const afterEdits = await memory();
    console.log(`  S3 ${kind}: ${edited.sent} edits, ${edited.latencies.length} arrivals (${edited.missing} missing), p50 ${fmtMs(latency.p50)}, p99 ${fmtMs(latency.p99)}; ${afterEdits.stats.connections} connections held; dropped ${JSON.stringify(edited.dropped)}`);
    // Unload: every document without peers (or, with peers everywhere, the last quarter).
    const from = EDIT_DOCS < DOCS ? EDIT_DOCS : Math.floor((DOCS * 3) / 4);
    const unloadDocs = Array.from({ length: DOCS - from }, (_, i) => from + i);
    const sockets = await fleet.closeDocs(unloadDocs);
    t = now();
    let unloaded = await memory();
    while (unloaded.stats.documents > afterEdits.stats.documents - unloadDocs.length && now() - t < 90_000) {
      await sleep(1000);
      unloaded = await memory();
    }
    const waitedMs = now() - t;
    // Whatever an unload frees late (timers, debounced folds) has had time to go.
    await sleep(QUICK ? 2_000 : 10_000);
    unloaded = await memory();
    console.log(`  S3 ${kind}: ${unloadDocs.length} documents closed (${sockets} sockets); ${unloaded.stats.documents} loaded after ${fmtMs(waitedMs)}${unloaded.stats.indexed === undefined ? '' : `, ${unloaded.stats.indexed} indexed`}`);
    // E: everything closed and unloaded: what the heap keeps beyond where it started.
    await fleet.closeDocs(Array.from({ length: from }, (_, i) => i));
    t = now();
    let empty = await memory();
    while (empty.stats.documents > 0 && now() - t < 90_000) {
      await sleep(1000);
      empty = await memory();
    }
    await sleep(QUICK ? 2_000 : 10_000);
    empty = await memory();
    console.log(`  S3 ${kind}: all closed: ${empty.stats.documents} loaded${empty.stats.indexed === undefined ? '' : `, ${empty.stats.indexed} indexed`}, heap ${fmtBytes(empty.usage.heapUsed)} (start ${fmtBytes(start.usage.heapUsed)})`);
    return {
      kind,
      docsOpened,
      membersOpened,
      docsOpenMs,
      membersOpenMs,
      memory: { start, docs, connections, edited: afterEdits, unloaded, empty },
      editCpuShare: cpuShare(connections, afterEdits),
      clientsCpuShare: edited.cpuShare,
      editGc: { count: (afterEdits.gc?.count ?? 0) - (connections.gc?.count ?? 0), totalMs: round((afterEdits.gc?.totalMs ?? 0) - (connections.gc?.totalMs ?? 0), 1), maxMs: round(afterEdits.gc?.maxSinceLastReadingMs ?? 0, 1) },
      latency,
      editsSent: edited.sent,
      arrivalsMissing: edited.missing,
      dropped: edited.dropped,
      unload: { docs: unloadDocs.length, sockets, waitedMs },
      tail,
      serverLoop: summary(trace.loop),
      clientLoops: edited.loops.map(summary),
    };
  } finally {
    await fleet.close();
    await server.close();
  }
}

/** CPU time between two readings over the wall time between them (one core = 1). */
function cpuShare(a: ServerMemory & { at?: number }, b: ServerMemory & { at?: number }): number {
  const cpu = b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system;
  return round(cpu / 1000 / ((b.at ?? 0) - (a.at ?? 0)), 2);
}

type Field = 'rss' | 'heapUsed';

/** Bytes per idle connection, per loaded document, and returned per unloaded document. */
function perUnit(s: SideResult, field: Field) {
  const m = s.memory;
  const perConnection = (m.connections.usage[field] - m.docs.usage[field]) / Math.max(1, s.membersOpened.ok);
  const perDocument = (m.docs.usage[field] - m.start.usage[field]) / Math.max(1, s.docsOpened.ok) - perConnection;
  const returnedPerDocument = (m.edited.usage[field] - m.unloaded.usage[field] - s.unload.sockets * perConnection) / Math.max(1, s.unload.docs);
  /** Growth from the start that stays once every document unloaded, per document ever loaded. */
  const keptPerDocument = (m.empty.usage[field] - m.start.usage[field]) / Math.max(1, s.docsOpened.ok);
  return { perConnection, perDocument, returnedPerDocument, keptPerDocument };
}

const kib = (b: number): string => (Math.abs(b) >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`);

export async function runS3(): Promise<BenchResult> {
  const loadBefore = loadavg()[0]!;
  let t = now();
  const fixtures = await loadFixtures(DOCS, EDIT_DOCS, EDITS_PER_DOC);
  console.log(`  S3 fixtures: ${DOCS} documents (${EDIT_DOCS} with ${EDITS_PER_DOC} edits) in ${fmtMs(now() - t)}; ${CONNECTIONS} connections over ${WORKERS} client processes`);
  t = now();
  const plainRun = SIDES.includes('hocuspocus') ? await runSide('hocuspocus', fixtures) : undefined;
  const ours = SIDES.includes('relay') || !plainRun ? await runSide('relay', fixtures) : plainRun;
  // One side only (a probe): the other's rows repeat it.
  const plain = plainRun ?? ours;
  const runMs = now() - t;
  const [oR, pR, oH, pH] = [perUnit(ours, 'rss'), perUnit(plain, 'rss'), perUnit(ours, 'heapUsed'), perUnit(plain, 'heapUsed')];
  const held = (s: SideResult) => s.memory.connections.stats.connections;
  const loaded = (s: SideResult) => s.memory.connections.stats.documents;
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 2) : null);
  const result: BenchResult = {
    id: 'S3',
    title: 'S3 relay scale: idle connections, loaded documents, steady edits',
    env: environment(),
    rows: [
      { metric: 'authenticated connections held at once', ours: String(held(ours)), peer: String(held(plain)), ratio: ratio(held(ours), held(plain)), target: '>= 10,000', met: held(ours) >= 10_000 },
      { metric: 'documents loaded at once', ours: String(loaded(ours)), peer: String(loaded(plain)), ratio: ratio(loaded(ours), loaded(plain)), target: '>= 4,000', met: loaded(ours) >= 4_000 },
      { metric: `edit -> peer p99 (${EDIT_DOCS} documents x ${PEERS} peers, one edit per document every 10 s)`, ours: fmtMs(ours.latency.p99), peer: fmtMs(plain.latency.p99), ratio: ratio(ours.latency.p99, plain.latency.p99), target: '<= 50 ms', met: ours.latency.p99 <= 50 },
      { metric: 'edit -> peer p50', ours: fmtMs(ours.latency.p50), peer: fmtMs(plain.latency.p50), ratio: ratio(ours.latency.p50, plain.latency.p50), target: '(info)', met: null },
      { metric: 'server memory per idle connection (RSS)', ours: kib(oR.perConnection), peer: kib(pR.perConnection), ratio: ratio(oR.perConnection, pR.perConnection), target: '<= 1.2x', met: oR.perConnection <= 1.2 * pR.perConnection },
      { metric: 'server memory per idle connection (JS heap used)', ours: kib(oH.perConnection), peer: kib(pH.perConnection), ratio: ratio(oH.perConnection, pH.perConnection), target: '(info)', met: null },
      { metric: 'server memory per loaded idle document (RSS)', ours: kib(oR.perDocument), peer: kib(pR.perDocument), ratio: ratio(oR.perDocument, pR.perDocument), target: '(info)', met: null },
      { metric: 'server memory per loaded idle document (JS heap used)', ours: kib(oH.perDocument), peer: kib(pH.perDocument), ratio: ratio(oH.perDocument, pH.perDocument), target: '(info)', met: null },
      { metric: 'JS heap returned per unloaded document (its sockets\' share taken out)', ours: kib(oH.returnedPerDocument), peer: kib(pH.returnedPerDocument), ratio: ratio(oH.returnedPerDocument, pH.returnedPerDocument), target: '(info)', met: null },
      { metric: 'JS heap kept per document once every document unloaded (vs start)', ours: kib(oH.keptPerDocument), peer: kib(pH.keptPerDocument), ratio: ratio(oH.keptPerDocument, pH.keptPerDocument), target: '(info)', met: null },
      { metric: 'server CPU during the edit phase (share of one core)', ours: `${ours.editCpuShare}`, peer: `${plain.editCpuShare}`, ratio: ratio(ours.editCpuShare, plain.editCpuShare), target: '(info)', met: null },
      { metric: 'server GC during the edit phase: longest pause', ours: fmtMs(ours.editGc.maxMs), peer: fmtMs(plain.editGc.maxMs), ratio: ratio(ours.editGc.maxMs, plain.editGc.maxMs), target: '(info)', met: null },
      { metric: 'edit -> peer p99, measured from the server\'s receipt of the edit (its forwarding and the delivery; not the metric: leaves out the writer\'s send and the server\'s wait to read it)', ours: fmtMs(ours.tail.fromServer.p99), peer: fmtMs(plain.tail.fromServer.p99), ratio: ratio(ours.tail.fromServer.p99, plain.tail.fromServer.p99), target: '(info)', met: null },
      { metric: 'server\'s own forwarding p99 (receipt of the edit -> frame handed to the last peer\'s socket)', ours: fmtMs(ours.tail.relay.p99), peer: fmtMs(plain.tail.relay.p99), ratio: ratio(ours.tail.relay.p99, plain.tail.relay.p99), target: '(info)', met: null },
      { metric: 'server main thread waiting for a core during the edit phase (run queue, /proc schedstat)', ours: `${round(ours.serverLoop.runQueueMs / 1000, 1)} s of ${round(ours.serverLoop.wallMs / 1000, 0)} s`, peer: `${round(plain.serverLoop.runQueueMs / 1000, 1)} s of ${round(plain.serverLoop.wallMs / 1000, 0)} s`, ratio: ratio(ours.serverLoop.runQueueMs, plain.serverLoop.runQueueMs), target: '(info)', met: null },
      { metric: 'slow arrivals (>= p99): median share of their time the server was stalled waiting for a core', ours: `${round(ours.tail.slow.serverWaitingShare * 100, 0)}%`, peer: `${round(plain.tail.slow.serverWaitingShare * 100, 0)}%`, ratio: null, target: '(info)', met: null },
    ],
    notes: [
      `${CONNECTIONS} connections wanted over ${DOCS} documents: one creator socket per document, then ${PEERS - 1} member sockets on each of the first ${EDIT_DOCS} documents (${PEERS} peers each)${CONNECTIONS - DOCS - EDIT_DOCS * (PEERS - 1) > 0 ? `, the other ${CONNECTIONS - DOCS - EDIT_DOCS * (PEERS - 1)} spread over every document` : ''}; raw WebSocket clients (Hocuspocus frames, no provider) in ${WORKERS} worker processes, each server alone in a child process; open-file limits raised to ${NOFILE} with prlimit.`,
      `Relay: real profiles (owner + viewer, genesis and membership records made by the vault facade), creator tokens with the genesis nonce, members with the viewer's token; each edit a sealed, signed record (${ours.editsSent} sent). Plaintext: stock Hocuspocus on the same profiles' plain-doc updates, tokens unchecked. Latency is the relay hop only (send to the peer socket's frame, same process clock); a real peer then verifies and decrypts.`,
      `Every socket on both sides sends a SyncStep1 with its document's current state vector every 30 s from a random start (the vault's anti-entropy; stock Hocuspocus 4.7 closes a connection silent for 60 s: without it ~40% of the connections were dropped within the edit phase). The plaintext documents hold the profiles' plain state, which is empty before the edits; the relay's hold the genesis and membership records.`,
      `Opened: relay ${ours.docsOpened.ok} documents in ${fmtMs(ours.docsOpenMs)} and ${ours.membersOpened.ok} members in ${fmtMs(ours.membersOpenMs)}${ours.docsOpened.failed + ours.membersOpened.failed > 0 ? ` (failures: ${JSON.stringify({ ...ours.docsOpened.errors, ...ours.membersOpened.errors })})` : ''}; plaintext ${plain.docsOpened.ok} in ${fmtMs(plain.docsOpenMs)} and ${plain.membersOpened.ok} in ${fmtMs(plain.membersOpenMs)}${plain.docsOpened.failed + plain.membersOpened.failed > 0 ? ` (failures: ${JSON.stringify({ ...plain.docsOpened.errors, ...plain.membersOpened.errors })})` : ''}.`,
      `Edits: ${EDIT_MS / 1000} s at one per document every ${PERIOD_MS / 1000} s (${round((EDIT_DOCS * 1000) / PERIOD_MS, 1)} edits/s); arrivals missing: relay ${ours.arrivalsMissing}, plaintext ${plain.arrivalsMissing}; relay p90 ${fmtMs(ours.latency.p90)}, max ${fmtMs(ours.latency.max)}; plaintext p90 ${fmtMs(plain.latency.p90)}, max ${fmtMs(plain.latency.max)}.`,
      `Server RSS at full load: relay ${fmtBytes(ours.memory.connections.usage.rss)}, plaintext ${fmtBytes(plain.memory.connections.usage.rss)} (at start ${fmtBytes(ours.memory.start.usage.rss)} and ${fmtBytes(plain.memory.start.usage.rss)}). Per-unit memory is a growth divided by a count after full collections; RSS keeps what the allocator does not give back, so the heap rows are the finer measure.`,
      `Unload: ${ours.unload.docs} documents closed (${ours.unload.sockets} sockets); relay ${ours.memory.unloaded.stats.documents} documents loaded and ${ours.memory.unloaded.stats.indexed ?? '?'} record indexes held ${fmtMs(ours.unload.waitedMs)} later (before: ${ours.memory.edited.stats.documents} loaded, ${ours.memory.edited.stats.indexed ?? '?'} indexed); plaintext ${plain.memory.unloaded.stats.documents} loaded after ${fmtMs(plain.unload.waitedMs)}. Heap returned per document: relay ${kib(oH.returnedPerDocument)} of ${kib(oH.perDocument)} held, plaintext ${kib(pH.returnedPerDocument)} of ${kib(pH.perDocument)}.`,
      `Heap kept once every document unloaded is the relay's bounded caches filling (decision 0050: node:crypto KeyObjects, 4,096 keys; verified record ids, 4,096; key checks, 10,000; one member key pair per document here), not per-document state: the record indexes held drop to 0 (relay ${ours.memory.empty.stats.indexed ?? '?'} after phase E). Server CPU over the edit phase: relay ${ours.editCpuShare}, plaintext ${plain.editCpuShare} of one core (neither saturated); the client processes together used relay ${round(ours.clientsCpuShare, 2)}, plaintext ${round(plain.clientsCpuShare, 2)}. Server collections over the edit phase: relay ${ours.editGc.count} taking ${fmtMs(ours.editGc.totalMs)} (longest ${fmtMs(ours.editGc.maxMs)}), plaintext ${plain.editGc.count} taking ${fmtMs(plain.editGc.totalMs)} (longest ${fmtMs(plain.editGc.maxMs)}).`,
      `Where the edit -> peer time goes (bench/lib/s3-tail.ts; every arrival joined with the server's trace of its edit, one machine-wide monotonic clock): up = server receipt - send, relay = last forward - receipt, down = arrival - last forward. ${(['relay', 'plaintext'] as const).map((k) => { const t = (k === 'relay' ? ours : plain).tail; return `${k}: up p50 ${fmtMs(t.up.p50)} / p99 ${fmtMs(t.up.p99)}, relay p50 ${fmtMs(t.relay.p50)} / p99 ${fmtMs(t.relay.p99)}, down p50 ${fmtMs(t.down.p50)} / p99 ${fmtMs(t.down.p99)}; of the ${t.slow.count} arrivals >= p99 (${fmtMs(t.slow.threshold)}), ${t.slow.mostlyUp} mostly up, ${t.slow.mostlyRelay} mostly relay, ${t.slow.mostlyDown} mostly down; in flight during a server stall ${t.slow.serverStall} (mostly waiting for a core ${t.slow.serverStallWaiting}), a server collection ${t.slow.serverGc}, a stall of the measuring client process ${t.slow.clientStall}, a collection there ${t.slow.clientGc}, none of these ${t.slow.neither}; median share of a slow arrival's time the server was stalled ${round(t.slow.serverStalledShare * 100, 0)}% (mostly waiting for a core ${round(t.slow.serverWaitingShare * 100, 0)}%), the measuring client process ${round(t.slow.clientStalledShare * 100, 0)}%`; }).join('; ')}.`,
      `Processes over the edit phase (CPU share of one core, main thread's run-queue wait, event-loop delay p99 / max, longest GC): ${[['relay server', ours.serverLoop], ['plaintext server', plain.serverLoop], ...ours.clientLoops.map((l, i) => [`relay clients ${i}`, l] as const), ...plain.clientLoops.map((l, i) => [`plaintext clients ${i}`, l] as const)].map(([who, l]) => { const x = l as LoopSummary; return `${who} ${round(x.cpuShare, 2)}, ${round(x.runQueueMs / 1000, 1)} s, ${round(x.delay.p99, 1)} / ${round(x.delay.max, 0)} ms, ${round(x.gc.maxMs, 1)} ms`; }).join('; ')}. Server threads (CPU s / waited s): relay ${ours.serverLoop.threads.slice(0, 4).map((t) => `${t.name} ${round(t.onCpuMs / 1000, 1)}/${round(t.waitMs / 1000, 1)}`).join(', ')}; plaintext ${plain.serverLoop.threads.slice(0, 4).map((t) => `${t.name} ${round(t.onCpuMs / 1000, 1)}/${round(t.waitMs / 1000, 1)}`).join(', ')}.`,
      `Both sides took ${fmtMs(runMs)}. Machine load average (1 min) ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${cpus().length} cores.`,
    ],
    data: {
      connectionsWanted: CONNECTIONS,
      docs: DOCS,
      editDocs: EDIT_DOCS,
      peersPerDoc: PEERS,
      periodMs: PERIOD_MS,
      editMs: EDIT_MS,
      workers: WORKERS,
      perUnitBytes: { relay: { rss: oR, heapUsed: oH }, hocuspocus: { rss: pR, heapUsed: pH } },
      sides: [ours, plain],
    },
  };
  writeResult(result);
  return result;
}
