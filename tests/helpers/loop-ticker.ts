/**
 * Watches the event loop while a task runs: a setImmediate chain records each turn, so the
 * count is how many times the loop turned during the task and the longest gap is the longest
 * the loop was blocked (by the task or by anything else on a loaded machine). Compare against a
 * peer measured in the same run, never against a fixed time.
 */
export interface LoopWatch<T> {
  readonly result: T;
  /** Turns of the event loop while the task was in progress. */
  readonly turns: number;
  /** Longest gap between two turns (or between the start and the first turn), ms. */
  readonly maxGapMs: number;
  /** From start to the task's end, ms. */
  readonly totalMs: number;
}

export async function watchLoop<T>(task: () => T | Promise<T>): Promise<LoopWatch<T>> {
  let turns = 0;
  let maxGapMs = 0;
  let running = true;
  const start = performance.now();
  let last = start;
  const tick = () => {
    if (!running) return;
    const t = performance.now();
    maxGapMs = Math.max(maxGapMs, t - last);
    last = t;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  // The task starts on a later turn, as a request's handler would.
  const result = await new Promise<T>((resolve, reject) => setImmediate(() => Promise.resolve().then(task).then(resolve, reject)));
  const end = performance.now();
  running = false;
  maxGapMs = Math.max(maxGapMs, end - last);
  return { result, turns, maxGapMs, totalMs: end - start };
}
