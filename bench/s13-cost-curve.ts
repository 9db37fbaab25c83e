/**
 * S13: the cost curve (issue 14). The main paths, each against its plaintext peer in the same
 * run, along three dimensions:
 *  - documents a device and the relay hold (one owner's profiles, 10 edits each);
 *  - history length of one profile (edits, each sealed as its own record, default compaction);
 *  - members per profile (owner + editors taking turns over 1,000 edits).
 * Paths: cold open from the sealed cache and the full path (peer `Y.applyUpdate`), one edit
 * sealed and applied on a second device (peer: plain transaction + encode + apply), relay accept
 * of an update (peer: stock Hocuspocus apply), and sync of a fresh device (peer: stock
 * providers). Workload and setup: bench/lib/cost-docs.ts, cost-local.ts, cost-relay.ts. The
 * curves are drawn to bench/cost-curve.png (bench/lib/plot-curve.ts, Chromium + uPlot).
 */
import { loadavg } from 'node:os';
import { generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { createPlainCacheKey, type PlainCacheOptions } from '../src/lib/vault/plain-cache.ts';
import { environment, fmtMs, now, QUICK, round, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';
import { historyDocs, manyDocs, membersDoc, type CurveDoc, type DocSet } from './lib/cost-docs.ts';
import { localCosts, type Pair } from './lib/cost-local.ts';
import { relayCosts } from './lib/cost-relay.ts';
import { plotCurves, type Dimension } from './lib/plot-curve.ts';

const DOCS = QUICK ? [1, 10, 100] : [1, 10, 100, 1000];
const EDITS_PER_DOC = 10;
const HISTORY = QUICK ? [500, 2_000] : [1_000, 5_000, 20_000, 50_000];
const MEMBERS = QUICK ? [1, 5, 20] : [1, 2, 5, 10, 20];
const MEMBER_EDITS = QUICK ? 200 : 1_000;
const EDITS = QUICK ? 10 : 40;
/** Fewer trials where one trial is long (every document, or a long history, opened each time). */
const trialsFor = (docs: number, edits: number) => (docs >= 1000 ? 2 : docs >= 100 || edits >= 20_000 ? 3 : 5);

/** The paths plotted and reported, in order. */
export const PATHS = [
  ['cacheOpen', 'cold open from cache'],
  ['fullOpen', 'cold open, every record verified'],
  ['edit', 'one edit: seal + apply on a 2nd device'],
  ['accept', 'relay accept of an update'],
  ['freshSync', 'sync of a fresh device'],
] as const;
export type PathId = (typeof PATHS)[number][0];

export interface CurvePoint {
  readonly x: number;
  readonly records: number;
  readonly plainBytes: number;
  readonly envelopeBytes: number;
  readonly ms: number;
  readonly costs: Record<string, Pair>;
}

async function measure(set: DocSet, x: number, historyEdits: number): Promise<CurvePoint> {
  const t0 = now();
  const trials = trialsFor(set.docs.length, historyEdits);
  const local = await localCosts(set, { trials, edits: EDITS });
  const relay = await relayCosts(set, { trials, edits: EDITS });
  const sum = (f: (d: CurveDoc) => number) => set.docs.reduce((a, d) => a + f(d), 0);
  return { x, records: sum((d) => d.records), plainBytes: sum((d) => d.plain.length), envelopeBytes: sum((d) => d.envelope.length), ms: now() - t0, costs: { ...local, ...relay } };
}

function log(dim: string, p: CurvePoint): void {
  const parts = PATHS.map(([id, name]) => `${name} ${fmtMs(p.costs[id]!.ours)}/${fmtMs(p.costs[id]!.peer)}`);
  console.log(`  S13 ${dim} ${p.x} (${p.records} records, ${round(p.ms / 1000, 1)} s): ${parts.join('; ')}`);
}

async function documentsCurve(cache: PlainCacheOptions): Promise<CurvePoint[]> {
  const owner = generateSigningKeyPair();
  const all = await manyDocs(owner, cache, DOCS[DOCS.length - 1]!, EDITS_PER_DOC);
  const points: CurvePoint[] = [];
  for (const n of DOCS) {
    points.push(await measure({ owner, cache, docs: all.slice(0, n) }, n, EDITS_PER_DOC));
    log('documents', points[points.length - 1]!);
  }
  return points;
}

async function historyCurve(cache: PlainCacheOptions): Promise<CurvePoint[]> {
  const owner = generateSigningKeyPair();
  const kept = await historyDocs(owner, cache, HISTORY);
  const points: CurvePoint[] = [];
  for (let i = 0; i < HISTORY.length; i++) {
    points.push(await measure({ owner, cache, docs: [kept[i]!] }, HISTORY[i]!, HISTORY[i]!));
    log('history', points[points.length - 1]!);
  }
  return points;
}

async function membersCurve(cache: PlainCacheOptions): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const m of MEMBERS) {
    const owner = generateSigningKeyPair();
    const doc = await membersDoc(owner, cache, m, MEMBER_EDITS);
    points.push(await measure({ owner, cache, docs: [doc] }, m, MEMBER_EDITS));
    log('members', points[points.length - 1]!);
  }
  return points;
}

/** Per document where a path covers every document (open, fresh sync), so flat means linear. */
const PER_DOC: ReadonlySet<PathId> = new Set(['cacheOpen', 'fullOpen', 'freshSync']);

export async function runS13(): Promise<BenchResult> {
  const cache: PlainCacheOptions = { key: await createPlainCacheKey(globalThis.crypto.subtle) };
  const documents = await documentsCurve(cache);
  const history = await historyCurve(cache);
  const members = await membersCurve(cache);
  const dims: Dimension[] = [
    { id: 'documents', title: 'Documents held', xLabel: `documents on the device and the relay (${EDITS_PER_DOC} edits each)`, points: documents, perDoc: PER_DOC },
    { id: 'history', title: 'History length', xLabel: 'edits in the history (one record each)', points: history, perDoc: new Set() },
    { id: 'members', title: 'Members per profile', xLabel: `members (${MEMBER_EDITS} edits among them)`, points: members, perDoc: new Set() },
  ];
  const rows: RatioRow[] = [];
  for (const d of dims) {
    const first = d.points[0]!;
    const last = d.points[d.points.length - 1]!;
    for (const [id, name] of PATHS) {
      const per = d.perDoc.has(id) ? last.x : 1;
      const a = first.costs[id]!;
      const b = last.costs[id]!;
      rows.push({
        metric: `${d.id} ${last.x}: ${name}${per > 1 ? ', per document' : ''} (ratio at ${first.x}: ${round(a.ours / a.peer, 2)}x)`,
        ours: fmtMs(b.ours / per),
        peer: fmtMs(b.peer / per),
        ratio: round(b.ours / b.peer, 2),
        target: '(info)',
        met: null,
      });
    }
  }
  const env = environment();
  const caption = `${env.date.slice(0, 16).replace('T', ' ')} UTC, Node ${env.node}, ${env.cpu} (${env.cores} cores, shared), load average ${loadavg()[0]!.toFixed(1)}${QUICK ? ', BENCH_QUICK' : ''}. Medians; one run (node bench/run.ts S13). Documents: one owner's profiles of ${EDITS_PER_DOC} edits; history: S10's seeded edits, one record each; members: ${MEMBER_EDITS} edits written in turns.`;
  const png = await plotCurves(dims, PATHS, caption);
  const result: BenchResult = {
    id: 'S13',
    title: 'S13 cost curve: main paths against documents, history length and members',
    env,
    rows,
    notes: [
      `Curves: ${png} (ratio to the plaintext peer on top, absolute times below, log x).`,
      `Documents: one owner's ${DOCS.join('/')} profiles of ${EDITS_PER_DOC} seeded edits each; cold open and fresh-device sync cover every document (per document in the rows), the edit and the accept one document while all are open/loaded. History: one profile at ${HISTORY.join('/')} seeded edits (S10's workload, each its own record, default compaction). Members: ${MEMBERS.join('/')} members (owner + editors added by membership records) writing ${MEMBER_EDITS} edits in turns.`,
      `Medians: cold opens and fresh syncs of ${trialsFor(1, 0)} trials (3 at 100 documents or >= 20k edits, 2 at 1000 documents) after a warm-up; ${EDITS} edits and accepts after 3 warm-ups. Cold-open pairs alternate which side goes first; the relay side runs all its trials, then the peer its own.`,
      `Accept is timed inside the server, from Connection.handleMessage of the update to its sync-status acknowledgement: ours checks policy and appends durably (SQLite, fsync) before the ack; stock Hocuspocus applies and acks (stores nothing). A ratio that rises along a dimension means our cost grows faster than the plaintext peer's does there.`,
    ],
    data: { dims: dims.map((d) => ({ ...d, perDoc: [...d.perDoc] })), paths: PATHS, caption, editsPerDoc: EDITS_PER_DOC, memberEdits: MEMBER_EDITS, edits: EDITS },
  };
  writeResult(result);
  return result;
}
