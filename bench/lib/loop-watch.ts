/**
 * S3's instrument for one process (the server child and each client process): over a window
 * (the edit phase) its event-loop delay (perf_hooks.monitorEventLoopDelay), its garbage
 * collections and its stalls, each with its start on the machine-wide monotonic clock
 * (process.hrtime, CLOCK_MONOTONIC: comparable across processes, unlike performance.now(),
 * whose origin is each process's start), and its CPU time. A tail arrival can then be laid
 * against what each process was doing at that moment. For each stall, the main thread's own CPU
 * time in it and its time waiting for a core (Linux /proc/self/schedstat: on-CPU ns, run-queue
 * wait ns) tell the process's own work (JS, GC) from the scheduler giving the core to others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** performance.now() plus this = milliseconds on CLOCK_MONOTONIC (both read uv_hrtime). */
const OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();
export const hrMs = (): number => performance.now() + OFFSET;
export const toHr = (performanceMs: number): number => performanceMs + OFFSET;

/** A span from `at` (hr ms) lasting `ms`; a stall also has [cpu ms, run-queue wait ms] in it. */
export type Span = [at: number, ms: number, ...rest: number[]];

/** The main thread's [on-CPU ms, waiting-for-a-core ms] so far (zeros off Linux). */
function schedstat(): [number, number] {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  } catch {
    return [0, 0];
  }
}

export interface LoopReport {
  readonly wallMs: number;
  /** CPU time over the window as a share of one core. */
  readonly cpuShare: number;
  /** Event-loop delay (ms) beyond the monitor's 10 ms resolution. */
  readonly delay: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number; readonly pauses: Span[] };
  /** Sampler stalls over STALL_MS (a 5 ms interval timer that fired this late): [at, ms, cpu ms, wait ms]. */
  readonly stalls: Span[];
  /** The main thread's time waiting for a core over the window (ms), and its on-CPU time. */
  readonly runQueueMs: number;
  readonly onCpuMs: number;
  /** Every thread of the process over the window, by name (/proc/self/task/<tid>/comm): on-CPU and run-queue ms; busiest first. */
  readonly threads: { readonly name: string; readonly onCpuMs: number; readonly waitMs: number }[];
}

/** Each thread's [name, on-CPU ms, run-queue ms] so far, by thread id. */
function threadStats(): Map<string, [string, number, number]> {
  const out = new Map<string, [string, number, number]>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ');
        out.set(tid, [readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').trim(), Number(run) / 1e6, Number(wait) / 1e6]);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

const SAMPLE_MS = 5;
const STALL_MS = 10;

export interface LoopWatch {
  start(): void;
  stop(): LoopReport;
}

export function loopWatch(): LoopWatch {
  let histogram: IntervalHistogram | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let pauses: Span[] = [];
  let stalls: Span[] = [];
  let startedAt = 0;
  let cpu = process.cpuUsage();
  let sched0: [number, number] = [0, 0];
  let threads0 = new Map<string, [string, number, number]>();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as unknown as { detail?: { flags?: number } }).detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) continue;
      pauses.push([toHr(e.startTime), e.duration]);
    }
  });
  return {
    start() {
      pauses = [];
      stalls = [];
      startedAt = hrMs();
      cpu = process.cpuUsage();
      histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      observer.observe({ entryTypes: ['gc'] });
      sched0 = schedstat();
      threads0 = threadStats();
      let last = hrMs();
      let lastSched = sched0;
      sampler = setInterval(() => {
        const t = hrMs();
        const now = schedstat();
        if (t - last - SAMPLE_MS > STALL_MS) stalls.push([last, t - last - SAMPLE_MS, now[0] - lastSched[0], now[1] - lastSched[1]]);
        last = t;
        lastSched = now;
      }, SAMPLE_MS);
    },
    stop() {
      clearInterval(sampler);
      observer.disconnect();
      histogram!.disable();
      const h = histogram!;
      const ms = (ns: number) => Math.max(0, ns / 1e6 - 10);
      const wallMs = hrMs() - startedAt;
      const used = process.cpuUsage(cpu);
      const sched = schedstat();
      const byName = new Map<string, { name: string; onCpuMs: number; waitMs: number }>();
      for (const [tid, [name, run, wait]] of threadStats()) {
        const [, run0, wait0] = threads0.get(tid) ?? [name, 0, 0];
        const t = byName.get(name) ?? { name, onCpuMs: 0, waitMs: 0 };
        t.onCpuMs += run - run0;
        t.waitMs += wait - wait0;
        byName.set(name, t);
      }
      return {
        threads: [...byName.values()].filter((t) => t.onCpuMs >= 1).sort((a, b) => b.onCpuMs - a.onCpuMs),
        runQueueMs: sched[1] - sched0[1],
        onCpuMs: sched[0] - sched0[0],
        wallMs,
        cpuShare: (used.user + used.system) / 1000 / wallMs,
        delay: { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) },
        gc: { count: pauses.length, totalMs: pauses.reduce((a, p) => a + p[1], 0), maxMs: Math.max(0, ...pauses.map((p) => p[1])), pauses },
        stalls,
      };
    },
  };
}
