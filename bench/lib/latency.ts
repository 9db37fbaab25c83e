/**
 * Edit -> peer latency, shared by S2 (single edits) and S4 (across relay instances): one small
 * edit every SPACING_MS so no batch window delays a seal; latency from the writer's edit call to
 * the reader seeing it (observed, not polled); the first WARMUP edits are dropped.
 */
import { now, percentile, round, sleep, within } from './common.ts';

export const SPACING_MS = 25;
export const WARMUP = 20;

export interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export const stats = (xs: number[]): Stats => ({
  n: xs.length,
  p50: round(percentile(xs, 50), 3),
  p90: round(percentile(xs, 90), 3),
  p99: round(percentile(xs, 99), 3),
  max: round(Math.max(...xs), 3),
  mean: round(xs.reduce((a, b) => a + b, 0) / xs.length, 3),
});

/**
 * Drives `count` edits: `edit(i)` makes edit i on the writer; the caller reports arrivals with
 * `arrived(k)` = how many edits the reader now sees. Returns per-edit latencies in ms.
 */
export async function drive(count: number, edit: (i: number) => void, hook: (arrived: (seen: number) => void) => void): Promise<number[]> {
  const sent: number[] = [];
  const lat: number[] = new Array(count);
  let seenSoFar = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  hook((seen) => {
    const t = now();
    for (; seenSoFar < seen && seenSoFar < count; seenSoFar++) lat[seenSoFar] = t - sent[seenSoFar]!;
    if (seenSoFar >= count) resolveAll();
  });
  for (let i = 0; i < count; i++) {
    sent[i] = now();
    edit(i);
    await sleep(SPACING_MS);
  }
  await within(all, 30_000, 'all edits reach the reader');
  return lat.slice(WARMUP);
}


/** One writer → reader pair for `driveInterleaved`: `edit(i)` on the writer, `hook` as for `drive`. */
export interface LatencyPair {
  edit(i: number): void;
  hook(arrived: (seen: number) => void): void;
}

/**
 * `drive` for several pairs in the same seconds: each pair gets one edit every SPACING_MS, the
 * pairs' edits evenly spaced between, so a load that drifts over the run weighs on every pair
 * alike (S4: one instance and across instances, measured side by side). Latencies per pair.
 */
export async function driveInterleaved(count: number, pairs: readonly LatencyPair[]): Promise<number[][]> {
  const sent = pairs.map(() => [] as number[]);
  const lat = pairs.map(() => new Array<number>(count));
  const done = pairs.map((p, k) => {
    let seenSoFar = 0;
    return new Promise<void>((resolve) =>
      p.hook((seen) => {
        const t = now();
        for (; seenSoFar < seen && seenSoFar < count; seenSoFar++) lat[k]![seenSoFar] = t - sent[k]![seenSoFar]!;
        if (seenSoFar >= count) resolve();
      }),
    );
  });
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < pairs.length; k++) {
      sent[k]![i] = now();
      pairs[k]!.edit(i);
      await sleep(SPACING_MS / pairs.length);
    }
  }
  await within(Promise.all(done), 30_000, 'all edits reach the readers');
  return lat.map((l) => l.slice(WARMUP));
}
