/**
 * Runs the benchmark suite: `node bench/run.ts [S0|S1|S2|S3|S4|S5|S6|S7|S8|S9|S10|S11|S12|S13 ...]` (default: all);
 * `node bench/run.ts --table` only rebuilds the README table from the results files present.
 * BENCH_QUICK=1 runs smaller versions. Each benchmark writes bench/results/<id>.json; this
 * script then rebuilds the results table in bench/README.md from every results file present
 * and prints it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, environment, now, QUICK, RESULTS_DIR, type BenchResult } from './lib/common.ts';
import { runS0 } from './s0-crypto.ts';
import { runS1 } from './s1-trace.ts';
import { runS2 } from './s2-latency.ts';
import { runS3 } from './s3-scale.ts';
import { runS4 } from './s4-cluster.ts';
import { runS5 } from './s5-coldload.ts';
import { runS6 } from './s6-firstload.ts';
import { runS7 } from './s7-catchup-storm.ts';
import { runS8 } from './s8-coedit.ts';
import { runS9 } from './s9-import.ts';
import { runS10 } from './s10-growth.ts';
import { runS11 } from './s11-reconnect.ts';
import { runS12 } from './s12-typing-cpu.ts';
import { runS13 } from './s13-cost-curve.ts';


const BENCHES: Record<string, () => Promise<BenchResult>> = { S0: runS0, S1: runS1, S2: runS2, S3: runS3, S4: runS4, S5: runS5, S6: runS6, S7: runS7, S8: runS8, S9: runS9, S10: runS10, S11: runS11, S12: runS12, S13: runS13 };
const ORDER = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12', 'S13'];

function table(results: BenchResult[]): string {
  const lines = ['| Bench | Metric | Ours | Peer | Ratio | Target | Met |', '|---|---|---|---|---|---|---|'];
  for (const r of results) {
    for (const row of r.rows) {
      const met = row.met === null ? '–' : row.met ? 'yes' : '**no**';
      lines.push(`| ${r.id} | ${row.metric} | ${row.ours} | ${row.peer} | ${row.ratio === null ? '–' : `${row.ratio}x`} | ${row.target} | ${met} |`);
    }
  }
  return lines.join('\n');
}

function readResults(): BenchResult[] {
  if (!existsSync(RESULTS_DIR)) return [];
  const byId = new Map<string, BenchResult>();
  for (const f of readdirSync(RESULTS_DIR)) {
    if (!f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult;
      if (r.id && Array.isArray(r.rows)) byId.set(r.id, r);
    } catch {
      // a half-written or foreign file: skip it
    }
  }
  return ORDER.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
}

function updateReadme(results: BenchResult[]): void {
  const file = join(BENCH_DIR, 'README.md');
  if (!existsSync(file)) return;
  const readme = readFileSync(file, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) return;
  const envs = [...new Set(results.map((r) => `${r.id}: ${r.env.date.slice(0, 16).replace('T', ' ')} UTC, Node ${r.env.node}, ${r.env.cpu} (${r.env.cores} cores)${r.env.quick ? ', BENCH_QUICK' : ''}`))];
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.id}: ${n}`));
  const block = [start, '', table(results), '', ...envs.map((e) => `- ${e}`), ...notes, '', end].join('\n');
  writeFileSync(file, readme.slice(0, i) + block + readme.slice(j + end.length));
}

async function main(): Promise<number> {
  if (process.argv[2] === '--table') {
    updateReadme(readResults());
    return 0;
  }
  const wanted = process.argv.slice(2).map((a) => a.toUpperCase());
  const ids = wanted.length > 0 ? wanted : ORDER;
  const unknown = ids.filter((id) => !BENCHES[id]);
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ORDER.join(', ')}`);
    return 2;
  }
  const env = environment();
  console.log(`bench: ${ids.join(', ')} on Node ${env.node}, ${env.cpu} x${env.cores}${QUICK ? ' (BENCH_QUICK)' : ''}`);
  let failed = 0;
  for (const id of ids) {
    const t0 = now();
    console.log(`${id}...`);
    try {
      await BENCHES[id]!();
      console.log(`${id} done in ${((now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed++;
      console.error(`${id} FAILED: ${(e as Error).stack ?? e}`);
    }
  }
  const results = readResults();
  updateReadme(results);
  console.log('\n' + table(results));
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
