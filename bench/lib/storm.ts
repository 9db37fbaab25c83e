/**
 * S7's reconnect storm, driver side: a server in a child process of its own (server-process.ts),
 * `profiles` x `devices` clients spread over `processes` client processes (storm-clients.ts),
 * all synced; then every connection is cut at once at the server (a network drop), and later the
 * server process is killed and started again on the same port (and, for the relay, the same
 * data). For each: the time from the cut (or the kill) until each client is synced again.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, within } from './common.ts';
import { startBenchServer, type StartedBenchServer } from './server-process.ts';
import type { StormClientSetup } from './storm-clients.ts';

const CLIENTS = fileURLToPath(new URL('./storm-clients.ts', import.meta.url));
/** How long a storm may take before the clients not back are reported as stuck. */
const COLLECT_MS = 120_000;

export interface StormRound {
  /** Clients synced again in time, of all. */
  readonly back: number;
  readonly clients: number;
  /** ms from the cut (or kill) to synced again, over the clients that came back. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Restart only: ms from the kill until the new server process listened. */
  readonly restartMs?: number;
  /** Clients synced when collected (one that came back and dropped again is not). */
  readonly syncedAtEnd: number;
  /** CPU over the round: every client process, and the server (restart: the new process's whole life). */
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
  /** Clients back per 500 ms after the cut: [0-0.5 s, 0.5-1 s, ...]. */
  readonly backPerHalfSecond: number[];
  /** Clients by connection attempts until back: [1 attempt, 2, 3, ...]. */
  readonly clientsByAttempts: number[];
  /** ms from the cut until the socket that got the client back opened (p50, p99), and from then until synced (p50, p99). */
  readonly openedP50: number;
  readonly openedP99: number;
  readonly openToSyncedP50: number;
  readonly openToSyncedP99: number;
  /** Connections the kernel dropped because the server's accept queue was full (the machine's TcpExtListenOverflows, during the round). */
  readonly listenOverflows: number;
}

export interface StormResult {
  readonly kind: StormClientSetup['kind'];
  readonly clients: number;
  readonly processes: number;
  readonly setupMs: number;
  readonly clientRssMiB: number[];
  readonly drop: StormRound;
  readonly restart: StormRound;
}

function message<T>(child: ChildProcess, type: string, ms: number): Promise<T> {
  return within(
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string } & T) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) => reject(new Error(`storm client process exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    }),
    ms,
    `storm clients '${type}'`,
  );
}

/** A process's CPU (user + system) so far, from /proc (Linux; clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The kernel's count of connections refused for a full accept queue, machine-wide (Linux; NaN elsewhere). */
function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]!.split(' ');
    const values = lines[1]!.split(' ');
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return NaN;
  }
}

async function round(children: ChildProcess[], server: () => StartedBenchServer, cut: () => Promise<{ at: number; restartMs?: number }>): Promise<StormRound> {
  await Promise.all(children.map((c) => (c.send({ type: 'arm' }), message(c, 'armed', 10_000))));
  const before = server();
  const serverCpuBefore = processCpuMs(before.pid);
  const overflowsBefore = listenOverflows();
  const { at, restartMs } = await cut();
  const replies = await Promise.all(
    children.map((c) => (c.send({ type: 'collect', timeoutMs: COLLECT_MS }), message<{ backAt: Array<number | null>; syncedNow: number; attempts: number[]; openedAt: Array<number | null>; cpuMs: number }>(c, 'back', COLLECT_MS + 30_000))),
  );
  const overflows = listenOverflows() - overflowsBefore;
  const after = server();
  const serverCpuMs = processCpuMs(after.pid) - (after === before ? serverCpuBefore : 0);
  const all = replies.flatMap((r) => r.backAt);
  const times = all.filter((b): b is number => b !== null).map((b) => b - at);
  const backPerHalfSecond = Array.from({ length: Math.ceil(Math.max(0, ...times) / 500) || 1 }, () => 0);
  for (const t of times) backPerHalfSecond[Math.min(backPerHalfSecond.length - 1, Math.floor(Math.max(0, t) / 500))]!++;
  const attempts = replies.flatMap((r) => r.attempts);
  const clientsByAttempts = Array.from({ length: Math.max(1, ...attempts) }, (_, i) => attempts.filter((a) => a === i + 1).length);
  const opened = replies.flatMap((r) => r.openedAt);
  const openedMs = opened.filter((o): o is number => o !== null).map((o) => o - at);
  const openToSynced = all.flatMap((b, i) => (b !== null && opened[i] !== null ? [b - opened[i]!] : []));
  return {
    clientsByAttempts,
    listenOverflows: overflows,
    openedP50: percentile(openedMs, 50),
    openedP99: percentile(openedMs, 99),
    openToSyncedP50: percentile(openToSynced, 50),
    openToSyncedP99: percentile(openToSynced, 99),
    clientCpuMs: replies.reduce((n, r) => n + r.cpuMs, 0),
    serverCpuMs,
    backPerHalfSecond,
    back: times.length,
    clients: all.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: Math.max(...times),
    restartMs,
    syncedAtEnd: replies.reduce((n, r) => n + r.syncedNow, 0),
  };
}

export async function storm(kind: StormClientSetup['kind'], o: { profiles: number; devices: number; processes: number }): Promise<StormResult> {
  const serverKind = kind === 'encrypted' ? 'relay' : 'hocuspocus';
  const dataDir = kind === 'encrypted' ? mkdtempSync(join(tmpdir(), 'fhv-s7-relay-')) : undefined;
  let server: StartedBenchServer = await startBenchServer(serverKind, { dataDir });
  const port = Number(new URL(server.url).port);
  const children: ChildProcess[] = [];
  try {
    const per = Math.ceil(o.profiles / o.processes);
    const readies: Array<Promise<{ clients: number; setupMs: number; rssMiB: number }>> = [];
    for (let shard = 0; shard < o.processes; shard++) {
      const profiles = Math.min(per, o.profiles - shard * per);
      if (profiles <= 0) break;
      const setup: StormClientSetup = { kind, url: server.url, profiles, devices: o.devices, shard };
      const child = fork(CLIENTS, [JSON.stringify(setup)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      readies.push(message(child, 'ready', 600_000));
    }
    const ready = await Promise.all(readies);
    const setupMs = Math.max(...ready.map((r) => r.setupMs));
    const clients = ready.reduce((n, r) => n + r.clients, 0);
    console.log(`  S7 storm ${kind}: ${clients} clients in ${children.length} processes synced in ${(setupMs / 1000).toFixed(1)} s`);
    const drop = await round(children, () => server, () => server.drop());
    console.log(`  S7 storm ${kind}, connections dropped: ${drop.back}/${drop.clients} back, p50 ${drop.p50.toFixed(0)} ms, p99 ${drop.p99.toFixed(0)} ms, max ${drop.max.toFixed(0)} ms; CPU clients ${drop.clientCpuMs.toFixed(0)} ms, server ${drop.serverCpuMs.toFixed(0)} ms; back per 0.5 s ${drop.backPerHalfSecond.join(' ')}; by attempts ${drop.clientsByAttempts.join(' ')}; socket open p50 ${drop.openedP50.toFixed(0)} p99 ${drop.openedP99.toFixed(0)}, open -> synced p50 ${drop.openToSyncedP50.toFixed(0)} p99 ${drop.openToSyncedP99.toFixed(0)}; accept-queue overflows ${drop.listenOverflows}`);
    const restart = await round(children, () => server, async () => {
      const at = await server.kill();
      server = await startBenchServer(serverKind, { dataDir, port });
      return { at, restartMs: performance.timeOrigin + performance.now() - at };
    });
    console.log(`  S7 storm ${kind}, server restarted (${restart.restartMs!.toFixed(0)} ms to listen): ${restart.back}/${restart.clients} back, p50 ${restart.p50.toFixed(0)} ms, p99 ${restart.p99.toFixed(0)} ms, max ${restart.max.toFixed(0)} ms; CPU clients ${restart.clientCpuMs.toFixed(0)} ms, server ${restart.serverCpuMs.toFixed(0)} ms; back per 0.5 s ${restart.backPerHalfSecond.join(' ')}; by attempts ${restart.clientsByAttempts.join(' ')}; socket open p50 ${restart.openedP50.toFixed(0)} p99 ${restart.openedP99.toFixed(0)}, open -> synced p50 ${restart.openToSyncedP50.toFixed(0)} p99 ${restart.openToSyncedP99.toFixed(0)}; accept-queue overflows ${restart.listenOverflows}`);
    return { kind, clients, processes: children.length, setupMs, clientRssMiB: ready.map((r) => r.rssMiB), drop, restart };
  } finally {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        c.send({ type: 'close' });
        await within(exited, 20_000, 'storm clients exit').catch(() => c.kill('SIGKILL'));
      }),
    );
    await server.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
