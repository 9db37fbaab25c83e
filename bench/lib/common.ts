/** Shared helpers for the benchmark suite: environment, results files, timing and statistics. */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const QUICK = process.env.BENCH_QUICK === '1';

/**
 * The machine's load over the run, for a result's notes: `before` is `loadavg()[0]` taken when
 * the run started. Above the core count, absolute figures are not comparable across runs.
 */
export function loadNote(before: number): string {
  const after = loadavg()[0]!;
  const cores = cpus().length;
  const busy = Math.max(before, after) > cores;
  return `Machine load average (1 min) ${before.toFixed(1)} before the run, ${after.toFixed(1)} after it, on ${cores} cores${busy ? ': above the core count, compare absolute figures across runs only with care' : ''}.`;
}

export function environment() {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    date: new Date().toISOString(),
    quick: QUICK,
  };
}

/** One row of the ratio table printed by run.ts and written into README.md. */
export interface RatioRow {
  readonly metric: string;
  readonly ours: string;
  readonly peer: string;
  readonly ratio: number | null;
  readonly target: string;
  readonly met: boolean | null;
}

export interface BenchResult {
  readonly id: string;
  readonly title: string;
  readonly env: ReturnType<typeof environment>;
  readonly rows: RatioRow[];
  readonly notes: string[];
  readonly data: unknown;
}

export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.id}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

export const now = (): number => performance.now();
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `op` (sequential; may be async) repeatedly for about `budgetMs` after a short warm-up and
 * returns operations per second.
 */
export async function opsPerSecond(op: () => unknown | Promise<unknown>, budgetMs = 1000, warmupMs = 150): Promise<{ opsPerSec: number; ops: number; ms: number }> {
  let end = now() + warmupMs;
  while (now() < end) await op();
  let ops = 0;
  const start = now();
  end = start + budgetMs;
  let t = start;
  while (t < end) {
    // Batches of 8 keep the clock reads out of the measurement for fast ops.
    for (let i = 0; i < 8; i++) await op();
    ops += 8;
    t = now();
  }
  const ms = t - start;
  return { opsPerSec: (ops * 1000) / ms, ops, ms };
}

/** Like opsPerSecond but keeps `inFlight` promises outstanding at once. */
export async function opsPerSecondParallel(op: () => Promise<unknown>, inFlight: number, budgetMs = 1000, warmupMs = 150): Promise<{ opsPerSec: number; ops: number; ms: number }> {
  const runFor = async (ms: number) => {
    let ops = 0;
    const start = now();
    const end = start + ms;
    const worker = async () => {
      while (now() < end) {
        await op();
        ops++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return { ops, ms: now() - start };
  };
  await runFor(warmupMs);
  const r = await runFor(budgetMs);
  return { opsPerSec: (r.ops * 1000) / r.ms, ops: r.ops, ms: r.ms };
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function fmtBytes(b: number): string {
  if (b >= 1024 * 1024) return `${(b / 1024 / 1024).toFixed(2)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

export function fmtOps(o: number): string {
  if (o >= 1e6) return `${(o / 1e6).toFixed(2)} M/s`;
  if (o >= 1e3) return `${(o / 1e3).toFixed(1)} k/s`;
  return `${o.toFixed(0)} /s`;
}

/** Races a promise against a timeout, with a readable error. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** mulberry32: a small seeded PRNG (deterministic synthetic workloads). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
