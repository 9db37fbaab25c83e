/**
 * `npm run fuzz`: the envelope fuzzer's volume tier at scale, over worker threads.
 *   npm run fuzz -- [cases=1000000] [workers=2] [firstSeed=1]
 * Progress every 10,000 cases per worker; the first failure stops everything and prints the
 * seed and the rerun command. A checkpoint file (test-results/fuzz-checkpoint.json) records the
 * seeds done so far, so a long run that is stopped can be resumed from where it was.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runCase } from './envelope-case.ts';
import { buildWorld } from './envelope-world.ts';

interface Job {
  readonly from: number;
  readonly to: number;
}

if (!isMainThread) {
  const { from, to } = workerData as Job;
  const world = await buildWorld();
  for (let seed = from; seed < to; seed++) {
    const r = await runCase(world, seed);
    if (r.failure) {
      parentPort!.postMessage({ kind: 'failure', seed, failure: r.failure });
      process.exit(1);
    }
    if ((seed - from + 1) % 10_000 === 0) parentPort!.postMessage({ kind: 'progress', seed });
  }
  parentPort!.postMessage({ kind: 'done', seed: to });
} else {
  const [cases = '1000000', workers = '2', first = ''] = process.argv.slice(2);
  const checkpointFile = 'test-results/fuzz-checkpoint.json';
  const resumed = first === '' && existsSync(checkpointFile) ? (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { next: number }).next : undefined;
  const start = first !== '' ? Number(first) : (resumed ?? 1);
  const total = Number(cases);
  const n = Math.max(1, Number(workers));
  const per = Math.ceil(total / n);
  const started = Date.now();
  let done = 0;
  let finished = 0;
  mkdirSync('test-results', { recursive: true });
  console.log(`fuzz: ${total} cases from seed ${start} on ${n} worker(s)`);
  for (let w = 0; w < n; w++) {
    const job: Job = { from: start + w * per, to: Math.min(start + total, start + (w + 1) * per) };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.on('message', (m: { kind: string; seed: number; failure?: string }) => {
      if (m.kind === 'failure') {
        console.log(`FAILED: ${m.failure}\n  seed: ${m.seed}\n  rerun: FUZZ_SEED=${m.seed} FUZZ_CASES=1 npx vitest run tests/fuzz/envelope-volume.test.ts -t "random cases"`);
        process.exit(1);
      }
      if (m.kind === 'progress') {
        done += 10_000;
        writeFileSync(checkpointFile, JSON.stringify({ next: start + done }));
        console.log(`fuzz: ${done} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
      if (m.kind === 'done' && ++finished === n) {
        console.log(`fuzz: ${total} cases passed in ${((Date.now() - started) / 1000).toFixed(0)} s (seeds ${start}..${start + total - 1})`);
        writeFileSync(checkpointFile, JSON.stringify({ next: start + total }));
        process.exit(0);
      }
    });
    worker.on('error', (e) => {
      console.log(`FAILED: worker error ${e.message}`);
      process.exit(1);
    });
  }
}
