/**
 * Starts a benchmark's server side (bench/lib/servers.ts) either in a child process of its own
 * (server-child.ts; the default for S2 and S8: a server is its own machine, and every side gets
 * the same arrangement) or inline in the caller's process (the old arrangement, kept for info
 * rows). Either way the caller gets a URL, the proxy's counts (with `proxy: true`) and close().
 * `BENCH_SERVER_PROF=dir` runs a child with `--cpu-prof` into that directory.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, type ServerKind, type ServerOptions } from './servers.ts';
import type { CountingProxy } from './proxy.ts';
import { within } from './common.ts';

export type Counts = CountingProxy['counts'];
export type Placement = 'process' | 'inline';

export interface BenchServer {
  readonly url: string;
  readonly placement: Placement;
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
}

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const ZERO: Counts = { up: 0, down: 0, framesUp: 0, framesDown: 0 };

function next<T>(child: ChildProcess, type: string): Promise<T> {
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

async function inChild(kind: ServerKind, o: ServerOptions): Promise<StartedBenchServer> {
  const prof = process.env.BENCH_SERVER_PROF;
  const child = fork(CHILD, [kind, JSON.stringify(o)], {
    execArgv: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await within(next<{ url: string }>(child, 'ready'), 30_000, `${kind} server process ready`);
  const counts = async (): Promise<Counts> => {
    const reply = next<{ counts: Partial<Counts> }>(child, 'counts');
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
      const reply = next<{ at: number; count: number }>(child, 'dropped');
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

export function startBenchServer(kind: ServerKind, o: ServerOptions & { placement?: Placement } = {}): Promise<StartedBenchServer> {
  const { placement = 'process', ...rest } = o;
  return placement === 'process' ? inChild(kind, rest) : inline(kind, rest);
}
