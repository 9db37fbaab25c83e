/**
 * S3's client fleet: `workers` child processes (scale-worker.ts), each holding the raw WebSocket
 * clients of the documents assigned to it (document d to process d mod workers, so a writer and
 * its peers share a clock). Each process's open-file limit is raised for its sockets.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './common.ts';
import { nextMessage as reply, raiseNofile } from './server-process.ts';
import type { SocketSpec } from './scale-worker.ts';
import type { LoopReport } from './loop-watch.ts';

/** One peer's arrival: [doc, edit index, sent, arrived] (machine-wide monotonic ms). */
export type Arrival = [doc: number, k: number, sent: number, arrived: number];

const WORKER = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));

export interface Opened {
  readonly ok: number;
  readonly failed: number;
  /** Failure reasons and how often each occurred. */
  readonly errors: Record<string, number>;
}

export interface Edited {
  readonly latencies: number[];
  readonly arrivals: Arrival[];
  /** Each client process's loop over the edit phase (loop-watch.ts). */
  readonly loops: LoopReport[];
  readonly sent: number;
  readonly missing: number;
  /** Sockets the server closed (or that failed) since they opened, by close code and reason. */
  readonly dropped: Record<string, number>;
  /** The client processes' CPU over the edit phase, summed, as a share of one core. */
  readonly cpuShare: number;
}

export interface ClientFleet {
  /** The client processes' ids (S3_CLIENT_NICE renices them). */
  readonly pids: number[];
  open(url: string, sockets: SocketSpec[], timeoutMs: number): Promise<Opened>;
  edits(periodMs: number, durationMs: number): Promise<Edited>;
  /** Closes every socket of these documents; answers how many sockets that was. */
  closeDocs(docs: number[]): Promise<number>;
  close(): Promise<void>;
}

export async function startClientFleet(workers: number, nofile: number): Promise<ClientFleet> {
  const children = Array.from({ length: workers }, () => fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(children.map((c) => within(reply(c, 'ready'), 30_000, 'scale client process ready')));
  for (const c of children) raiseNofile(c.pid!, nofile);
  const ask = async <T>(type: string, message: (i: number) => object | undefined, timeoutMs: number): Promise<T[]> =>
    Promise.all(
      children.map((c, i) => {
        const m = message(i);
        if (!m) return undefined as T;
        const answer = reply<T>(c, type);
        c.send(m);
        return within(answer, timeoutMs, `scale clients: ${type}`);
      }),
    ).then((xs) => xs.filter((x) => x !== undefined));
  return {
    pids: children.map((c) => c.pid!),
    async open(url, sockets, timeoutMs) {
      const parts = children.map((_, i) => sockets.filter((s) => s.doc % workers === i));
      const answers = await ask<Opened>('opened', (i) => (parts[i]!.length > 0 ? { type: 'open', url, sockets: parts[i] } : undefined), timeoutMs);
      const errors: Record<string, number> = {};
      for (const a of answers) for (const [k, n] of Object.entries(a.errors)) errors[k] = (errors[k] ?? 0) + n;
      return { ok: answers.reduce((n, a) => n + a.ok, 0), failed: answers.reduce((n, a) => n + a.failed, 0), errors };
    },
    async edits(periodMs, durationMs) {
      const answers = await ask<Omit<Edited, 'loops'> & { loop: LoopReport }>('edited', () => ({ type: 'edits', periodMs, durationMs }), durationMs + 60_000);
      const dropped: Record<string, number> = {};
      for (const a of answers) for (const [k, n] of Object.entries(a.dropped)) dropped[k] = (dropped[k] ?? 0) + n;
      return { latencies: answers.flatMap((a) => a.latencies), arrivals: answers.flatMap((a) => a.arrivals), loops: answers.map((a) => a.loop), sent: answers.reduce((n, a) => n + a.sent, 0), missing: answers.reduce((n, a) => n + a.missing, 0), dropped, cpuShare: answers.reduce((n, a) => n + a.cpuShare, 0) };
    },
    async closeDocs(docs) {
      const answers = await ask<{ closed: number }>('closed', (i) => ({ type: 'close', docs: docs.filter((d) => d % workers === i) }), 30_000);
      return answers.reduce((n, a) => n + a.closed, 0);
    },
    async close() {
      await Promise.all(
        children.map((c) => {
          if (c.exitCode !== null) return undefined;
          const exited = new Promise<void>((r) => c.once('exit', () => r()));
          c.send({ type: 'close' });
          return within(exited, 15_000, 'scale client process exit').catch(() => c.kill('SIGKILL'));
        }),
      );
    },
  };
}
