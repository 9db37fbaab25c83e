/**
 * Child-process entry for a benchmark's server side (bench/lib/server-process.ts forks it; the
 * servers are in servers.ts). A family's devices and the relay are separate machines; running
 * the server here keeps its CPU (signature checks, SQLite hand-offs, Yjs merging on the
 * plaintext side) off the clients' event loop, the same way for every side.
 * Protocol over the IPC channel: it sends {type:'ready', url} once listening; it answers
 * {type:'counts'} with {type:'counts', counts}, {type:'reset'} zeroes the counters, and
 * {type:'drop'} cuts every client connection and answers {type:'dropped', at (epoch ms), count},
 * {type:'close'} shuts everything down and exits. {type:'memory'} is answered with
 * {type:'memory', usage, cpu, stats}: process.memoryUsage() after full collections (when forked with
 * --expose-gc) and what the server holds (bench/lib/servers.ts ServerStats; S3).
 * S3's edit phase: {type:'trace-start'} starts the loop watch (loop-watch.ts) and the edit trace
 * (edit-trace.ts); {type:'trace-stop'} is answered with {type:'trace', loop, edits}. With
 * `S3_PROFILE=dir` the edit phase alone is also CPU-profiled into dir (a .cpuprofile per side).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type ServerKind, type ServerOptions } from './servers.ts';
import { loopWatch } from './loop-watch.ts';
import { installEditTrace, startEditTrace, stopEditTrace } from './edit-trace.ts';

/** Garbage-collection pauses so far (S3: does a big heap's collection make the latency tail?). */
const gcPauses = { count: 0, totalMs: 0, maxMs: 0, maxSinceLastReadingMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    // Entries arrive late: the collections a reading forces would land in the next interval.
    if (((e as unknown as { detail?: { flags?: number } }).detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue;
    gcPauses.count++;
    gcPauses.totalMs += e.duration;
    gcPauses.maxMs = Math.max(gcPauses.maxMs, e.duration);
    gcPauses.maxSinceLastReadingMs = Math.max(gcPauses.maxSinceLastReadingMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  const o = JSON.parse(process.argv[3] ?? '{}') as ServerOptions;
  // S3 only (server-process.ts editTrace): before the first connection, see edit-trace.ts.
  if (process.env.BENCH_EDIT_TRACE === '1') installEditTrace();
  const server = await startServer(kind, o);
  const send = (m: unknown) => process.send!(m);
  const watch = loopWatch();
  const profile = process.env.S3_PROFILE ? profiler(process.env.S3_PROFILE) : undefined;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'counts') send({ type: 'counts', counts: { ...server.proxy?.counts } });
    else if (m.type === 'reset') server.proxy?.reset();
    else if (m.type === 'drop') send({ type: 'dropped', at: performance.timeOrigin + performance.now(), count: server.dropAll() });
    else if (m.type === 'memory') {
      void (async () => {
        // Twice, a turn apart: the first collection's finalizers free more for the second.
        const pauses = { ...gcPauses };
        gcPauses.maxSinceLastReadingMs = 0;
        const gc = (globalThis as { gc?: () => void }).gc;
        for (let i = 0; i < 2 && gc; i++) {
          gc();
          await new Promise((r) => setImmediate(r));
        }
        send({ type: 'memory', usage: process.memoryUsage(), cpu: process.cpuUsage(), gc: pauses, stats: server.stats() });
      })();
    }
    else if (m.type === 'trace-start') {
      watch.start();
      startEditTrace();
      void profile?.start();
    } else if (m.type === 'trace-stop') {
      void (async () => {
        const loop = watch.stop();
        const edits = stopEditTrace();
        await profile?.stop(kind);
        send({ type: 'trace', loop, edits });
      })();
    }
    else if (m.type === 'close') {
      void (async () => {
        await server.close();
        process.disconnect();
        // Exit normally so a --cpu-prof profile is written.
        process.exit(0);
      })();
    }
  });
  // If the parent goes away, do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: server.url });
}

/** The inspector's CPU profiler over one window, written to dir/<kind>-<pid>.cpuprofile. */
function profiler(dir: string) {
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop(kind: string) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(dir, `${kind}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

void main().catch((e: unknown) => {
  console.error('[bench server]', e);
  process.exit(1);
});
