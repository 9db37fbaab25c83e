/**
 * S9 FHIR import (issue 12, docs/decisions/0029): a generated 0.5 MB Synthea-style patient bundle
 * (tests/interop/synthea.ts) imported into a relay-less `Profile`: file bytes → parse → plan →
 * diff → validated writes → sealed records. Peer: a plain `JSON.parse` of the same text, the
 * floor any import pays. Reported: resources/s, the ratio to JSON.parse, the plan alone, a
 * re-import of the same file (all unchanged), and the cost curve for 1, 10 and 100 such bundles
 * (distinct patients, --force) imported one after another into one profile.
 * Target: the 0.5 MB bundle imports in under a second (issue 12: "well under a second on a desktop").
 */
import { generateBoxKeyPair, generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { planImport } from '../src/lib/interop/fhir/import-plan.ts';
import { importFhir } from '../src/lib/vault/fhir-import.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { createPrng } from '../tests/helpers/prng.ts';
import { syntheaBundle } from '../tests/interop/synthea.ts';
import { environment, fmtBytes, fmtMs, fmtOps, median, now, QUICK, round, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';

/** Encounters that make the generated bundle about 0.5 MB of JSON. */
const ENCOUNTERS = 29;
const TARGET_MS = 1000;

const bundleText = (seed: number) => JSON.stringify(syntheaBundle(createPrng(seed).next, { encounters: ENCOUNTERS }));
const freshProfile = () => Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

async function timedImport(p: Profile, text: string, force = false): Promise<{ ms: number; resources: number; written: number }> {
  const t = now();
  const r = await importFhir(p, text, { fileName: 'bench.json', force });
  await p.flush();
  const ms = now() - t;
  return { ms, resources: r.resources, written: [...Object.values(r.records), ...Object.values(r.kept)].reduce((a, n) => a + n, 0) };
}

export async function runS9(): Promise<BenchResult> {
  const runs = QUICK ? 3 : 7;
  const text = bundleText(1);
  const bytes = new TextEncoder().encode(text).length;
  console.log(`  bundle: ${fmtBytes(bytes)}`);

  const parseMs: number[] = [];
  const planMs: number[] = [];
  const importMs: number[] = [];
  const reimportMs: number[] = [];
  let resources = 0;
  let written = 0;
  for (let i = 0; i < runs; i++) {
    let t = now();
    JSON.parse(text);
    parseMs.push(now() - t);
    t = now();
    const plan = planImport(JSON.parse(text), { fileName: 'bench.json', now: Date.now });
    planMs.push(now() - t);
    if (!plan.ok) throw new Error(`the generated bundle was refused: ${plan.code}`);
    const p = await freshProfile();
    const first = await timedImport(p, text);
    importMs.push(first.ms);
    resources = first.resources;
    written = first.written;
    const again = await timedImport(p, text);
    if (again.written !== 0) throw new Error('a re-import wrote records');
    reimportMs.push(again.ms);
    await p.close();
  }
  const parse = median(parseMs);
  const plan = median(planMs);
  const full = median(importMs);
  const reimport = median(reimportMs);
  const perSec = (resources * 1000) / full;
  console.log(`  JSON.parse ${fmtMs(parse)}   plan ${fmtMs(plan)}   import ${fmtMs(full)} (${resources} resources, ${written} records; ${fmtOps(perSec)})   re-import ${fmtMs(reimport)}`);

  const curve: { bundles: number; ms: number; msPerBundle: number }[] = [];
  for (const n of QUICK ? [1, 10] : [1, 10, 100]) {
    const p = await freshProfile();
    const texts = Array.from({ length: n }, (_, i) => bundleText(100 + i));
    const t = now();
    for (const s of texts) await timedImport(p, s, true);
    const ms = now() - t;
    curve.push({ bundles: n, ms: round(ms, 1), msPerBundle: round(ms / n, 1) });
    console.log(`  ${String(n).padStart(3)} bundles: ${fmtMs(ms)} (${fmtMs(ms / n)} per bundle)`);
    await p.close();
  }

  const rows: RatioRow[] = [
    { metric: `import of a ${fmtBytes(bytes)} Synthea-style bundle (${resources} resources) vs JSON.parse of it`, ours: fmtMs(full), peer: fmtMs(parse), ratio: round(full / parse, 1), target: `< ${TARGET_MS} ms`, met: full < TARGET_MS },
    { metric: 'import throughput (resources/s)', ours: fmtOps(perSec), peer: '–', ratio: null, target: '(info)', met: null },
    { metric: 'plan only (parse, map, validate; no profile) vs JSON.parse', ours: fmtMs(plan), peer: fmtMs(parse), ratio: round(plan / parse, 1), target: '(info)', met: null },
    { metric: 're-import of the same bundle (all unchanged) vs JSON.parse', ours: fmtMs(reimport), peer: fmtMs(parse), ratio: round(reimport / parse, 1), target: '(info)', met: null },
    ...curve.map((c) => ({ metric: `${c.bundles} bundle(s) into one profile, per bundle (vs 1 bundle)`, ours: fmtMs(c.msPerBundle), peer: fmtMs(curve[0]!.msPerBundle), ratio: round(c.msPerBundle / curve[0]!.msPerBundle, 2), target: '(info)', met: null })),
  ];
  const result: BenchResult = {
    id: 'S9',
    title: 'FHIR R4 import',
    env: environment(),
    rows,
    notes: [`medians of ${runs} runs; import = bytes to sealed records in a relay-less Profile (flush included)`],
    data: { bytes, resources, written, parseMs, planMs, importMs, reimportMs, curve },
  };
  writeResult(result);
  return result;
}
