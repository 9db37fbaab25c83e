/**
 * Starts a benchmark's server side (bench/lib/servers.ts) either in a child process of its own
 * (server-child.ts; the default for S2 and S8: a server is its own machine, and every side gets
 * the same arrangement) or inline in the caller's process (the old arrangement, kept for info
 * rows). Either way the caller gets a URL, the proxy's counts (with `proxy: true`) and close().
 * `BENCH_SERVER_PROF=dir` runs a child with `--cpu-prof` into that directory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { startServer, type ServerKind, type ServerOptions, type ServerStats } from './servers.ts';
import type { CountingProxy } from './proxy.ts';
import { within } from './common.ts';
import type { LoopReport } from './loop-watch.ts';
import type { EditTrace } from './edit-trace.ts';

export type Counts = CountingProxy['counts'];
export type Placement = 'process' | 'inline';

export interface ServerMemory {
  readonly usage: NodeJS.MemoryUsage;
  /** The server process's CPU time so far (process.cpuUsage(), microseconds). */
  readonly cpu: NodeJS.CpuUsage;
  /** Garbage-collection pauses so far, not counting the ones this reading forced (child only). */
  readonly gc?: { readonly count: number; readonly totalMs: number; readonly maxMs: number; readonly maxSinceLastReadingMs: number };
  readonly stats: ServerStats;
}

/** For S3: a collectable heap in the child, and room for many sockets. */
export interface ChildOptions {
  /** Fork with --expose-gc, so memory() collects before it reads. */
  readonly gc?: boolean;
  /** Raise the child's open-file limit (soft and hard) to this, with prlimit(1). */
  readonly nofile?: number;
  /** S3: patch the child's Hocuspocus to trace edits (edit-trace.ts; other benchmarks' servers stay unpatched). */
  readonly editTrace?: boolean;
}

/**
 * Raises a running process's open-file limit (`prlimit` from util-linux; raising the hard limit
 * needs root or CAP_SYS_RESOURCE, else only up to the current hard limit). Answers the limit set.
 */
export function raiseNofile(pid: number, wanted: number): number {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${wanted}:${wanted}`], { stdio: 'ignore', timeout: 10_000 });
    return wanted;
  } catch {
    const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8', timeout: 10_000 }).trim());
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore', timeout: 10_000 });
    return hard;
  }
}

export interface BenchServer {
  readonly url: string;
  readonly placement: Placement;
  /** Memory and holdings of the server (its process: only meaningful in 'process' placement). */
  memory?(): Promise<ServerMemory>;
  /** The counting proxy's totals (zero without `proxy: true`). */
  counts(): Promise<Counts>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** What startBenchServer hands out: a BenchServer that S7 can also drop or kill. */
export interface StartedBenchServer extends BenchServer {
  /** The server's process id when it runs in a child (its CPU can be read from /proc). */
  readonly pid: number | undefined;
  /** Cuts every client connection at once; answers when (epoch ms) and how many. */
  drop(): Promise<{ at: number; count: number }>;
  /** The server process dies at once (SIGKILL; inline: a close), as in a crash; answers when (epoch ms). */
  kill(): Promise<number>;
  /** S3, child only: watch the loop and trace edits from now; stop answers what was seen. */
  traceStart?(): void;
  traceStop?(): Promise<{ loop: LoopReport; edits: Record<string, EditTrace[]> }>;
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const ZERO: Counts = { up: 0, down: 0, framesUp: 0, framesDown: 0 };

/** The child's next IPC message of this type (rejects if it exits first). */
export function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string } & T) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`bench server exited (${code}) before '${type}'`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function inChild(kind: ServerKind, o: ServerOptions, c: ChildOptions): Promise<StartedBenchServer> {
  const prof = process.env.BENCH_SERVER_PROF;
  const child = fork(CHILD, [kind, JSON.stringify(o)], {
    execArgv: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(c.gc ? ['--expose-gc'] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...(c.editTrace ? { BENCH_EDIT_TRACE: '1' } : {}) },
  });
  if (c.nofile) raiseNofile(child.pid!, c.nofile);
  const ready = await within(nextMessage<{ url: string }>(child, 'ready'), 30_000, `${kind} server process ready`);
  const counts = async (): Promise<Counts> => {
    const reply = nextMessage<{ counts: Partial<Counts> }>(child, 'counts');
    child.send({ type: 'counts' });
    return { ...ZERO, ...(await within(reply, 10_000, 'proxy counts')).counts };
  };
  let closed = false;
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  return {
    url: ready.url,
    placement: 'process',
    pid: child.pid,
    counts,
    async drop() {
      const reply = nextMessage<{ at: number; count: number }>(child, 'dropped');
      child.send({ type: 'drop' });
      const { at, count } = await within(reply, 10_000, 'drop connections');
      return { at, count };
    },
    async kill() {
      closed = true;
      const at = performance.timeOrigin + performance.now();
      child.kill('SIGKILL');
      await within(exited, 15_000, `${kind} server process killed`);
      return at;
    },
    async memory() {
      const reply = nextMessage<ServerMemory>(child, 'memory');
      child.send({ type: 'memory' });
      return within(reply, 60_000, `${kind} server memory`);
    },
    traceStart() {
      child.send({ type: 'trace-start' });
    },
    async traceStop() {
      const reply = nextMessage<{ loop: LoopReport; edits: Record<string, EditTrace[]> }>(child, 'trace');
      child.send({ type: 'trace-stop' });
      return within(reply, 60_000, `${kind} server trace`);
    },
    async reset() {
      child.send({ type: 'reset' });
      await counts(); // IPC is ordered: once this answers, the reset is done
    },
    async close() {
      if (closed) return;
      closed = true;
      child.send({ type: 'close' });
      await within(exited, 15_000, `${kind} server process exit`).catch(() => child.kill('SIGKILL'));
    },
  };
}

async function inline(kind: ServerKind, o: ServerOptions): Promise<StartedBenchServer> {
  const server = await startServer(kind, o);
  return {
    url: server.url,
    placement: 'inline',
    pid: undefined,
    memory: async () => ({ usage: process.memoryUsage(), cpu: process.cpuUsage(), stats: server.stats() }),
    counts: async () => ({ ...ZERO, ...server.proxy?.counts }),
    reset: async () => server.proxy?.reset(),
    drop: async () => ({ count: server.dropAll(), at: performance.timeOrigin + performance.now() }),
    async kill() {
      const at = performance.timeOrigin + performance.now();
      await server.close();
      return at;
    },
    close: () => server.close(),
  };
}

export function startBenchServer(kind: ServerKind, o: ServerOptions & ChildOptions & { placement?: Placement } = {}): Promise<StartedBenchServer> {
  const { placement = 'process', gc, nofile, editTrace, ...rest } = o;
  return placement === 'process' ? inChild(kind, rest, { gc, nofile, editTrace }) : inline(kind, rest);
}
