/**
 * S5: cold load of years of daily vitals (one list entry per day, each sealed as its own
 * record, snapshot every 300 records as the app does). No relay. One profile is built up to 20
 * years; at 1, 5, 10 and 20 years its stored envelope, its plain state and its sealed plain-state
 * cache (vault/plain-cache.ts, AES-GCM under a non-extractable WebCrypto key) are kept.
 *
 * Ours: `Profile.open` with a persistence whose cache store returns that sealed cache and whose
 * envelope loads that state, timed until it resolves with the plain doc materialised from the
 * cache (docs/decisions/0020: the envelope is loaded and every record verified right after, in
 * the background; that time is reported too). Peer: `Y.applyUpdate` of the same final plain
 * state into a fresh doc. Fresh WebCrypto Ed25519 engine per trial; median of 5 after a warm-up.
 * Target: <= 1.3x at 5 and 10 years; 1 and 20 years are the curve (info). The old full path
 * (every record verified before open resolves) is kept as an info row.
 */
import * as Y from 'yjs';
import { createWebCryptoEngine, defaultEd25519Engine, generateSigningKeyPair, type Ed25519Engine, type SigningKeyPair } from '../src/lib/crypto/index.ts';
import { Profile, type ProfileAccess } from '../src/lib/vault/profile.ts';
import { createPlainCacheKey, sealPlainCache, type PlainCacheOptions } from '../src/lib/vault/plain-cache.ts';
import type { Persistence } from '../src/lib/storage/types.ts';
import { environment, fmtBytes, fmtMs, median, now, QUICK, round, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

const TRIALS = 9;
const COMPACT_EVERY = 300;

interface Point {
  readonly label: string;
  readonly days: number;
  /** Rows with a target (5 and 10 years); the others are the curve. */
  readonly targeted: boolean;
  envelopeState?: Uint8Array;
  plainState?: Uint8Array;
  sealedCache?: Uint8Array;
  records?: number;
  /** Median of encoding the plain state and sealing it (what a cache write costs, store aside). */
  writeMs?: number;
}

const POINTS: Point[] = QUICK
  ? [
      { label: '100 days', days: 100, targeted: false },
      { label: '400 days', days: 400, targeted: true },
    ]
  : [
      { label: '1 year', days: 365, targeted: false },
      { label: '5 years', days: 1825, targeted: true },
      { label: '10 years', days: 3650, targeted: true },
      { label: '20 years', days: 7300, targeted: false },
    ];

async function freshEngine(): Promise<Ed25519Engine> {
  const d = await defaultEd25519Engine();
  return d.name === 'webcrypto' ? createWebCryptoEngine() : d;
}

/** Builds one profile day by day, keeping each point's stored state and sealed cache. */
async function build(signer: SigningKeyPair, cache: PlainCacheOptions): Promise<{ access: ProfileAccess; buildMs: number }> {
  const t0 = now();
  const profile = await Profile.create({ signer, compactEvery: COMPACT_EVERY });
  const start = Date.UTC(2000, 0, 1);
  const last = POINTS[POINTS.length - 1]!.days;
  for (let d = 0, p = 0; d < last; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    // The same list workload as the committed runs (the engine door: benchmarks may use it).
    engineOf(profile).plainDoc.getArray('list:vitals').push([{ date, systolic: 110 + (d % 25), diastolic: 70 + (d % 15), hr: 55 + (d % 30), weight: Math.round((72 + Math.sin(d / 60) * 3) * 10) / 10 }]);
    await engineOf(profile).sync.flush();
    const point = POINTS[p]!;
    if (d + 1 !== point.days) continue;
    p++;
    const sync = engineOf(profile).sync;
    point.envelopeState = Y.encodeStateAsUpdate(engineOf(profile).envelopeDoc);
    point.plainState = Y.encodeStateAsUpdate(engineOf(profile).plainDoc);
    point.records = engineOf(profile).envelopeDoc.getMap('r').size;
    const writes: number[] = [];
    for (let t = 0; t <= TRIALS; t++) {
      const w0 = now();
      const contents = sync.cacheableState();
      if (!contents) throw new Error('nothing cacheable: edits still queued');
      point.sealedCache = await sealPlainCache({ ...contents, writer: true }, profile.access.docId, cache);
      if (t > 0) writes.push(now() - w0);
    }
    point.writeMs = median(writes);
    console.log(`  S5 ${point.label}: ${point.records} records, envelope ${fmtBytes(point.envelopeState.length)}, plain ${fmtBytes(point.plainState.length)}, cache ${fmtBytes(point.sealedCache!.length)}`);
  }
  const access = profile.access;
  await profile.close();
  return { access, buildMs: now() - t0 };
}

/** A device's store for one document: the stored envelope, and (optionally) its sealed cache (S13 reuses it). */
export function storedDevice(envelopeState: Uint8Array, sealedCache?: Uint8Array): Persistence {
  const load = (envelope: Y.Doc) => {
    Y.applyUpdate(envelope, envelopeState);
    return () => {};
  };
  if (!sealedCache) return load;
  return Object.assign(load, { plainCache: () => ({ read: async () => sealedCache, write: async () => {}, clear: async () => {} }) });
}

/**
 * Cold opens: until `Profile.open` resolves (shown), and until the background check is over
 * (verified). Each trial is paired with a peer trial, alternately before and right after it
 * (before the background check starts), so both see the same machine (it is shared and its
 * load moves) and neither always runs in the other's garbage.
 */
async function timeOpen(point: Point, signer: SigningKeyPair, access: ProfileAccess, cache: PlainCacheOptions | undefined): Promise<{ shown: number[]; verified: number[]; plain: number[] }> {
  const shown: number[] = [];
  const verified: number[] = [];
  const plain: number[] = [];
  for (let t = 0; t <= TRIALS; t++) {
    // Pairs alternate which side goes first, so neither always pays for the other's garbage.
    let peer = t % 2 === 0 ? timePlainOnce(point.plainState!, point.days) : NaN;
    const engine = await freshEngine();
    const persistence = storedDevice(point.envelopeState!, cache ? point.sealedCache : undefined);
    const t0 = now();
    const p = await Profile.open({ signer, access, persistence, engine, plainCache: cache });
    const ms = now() - t0;
    if (Number.isNaN(peer)) peer = timePlainOnce(point.plainState!, point.days);
    const n = p.readList('vitals').length;
    const outcome = await p.whenVerified();
    const verifiedMs = now() - t0;
    const problems = p.status.value.problems;
    const from = p.cacheRead;
    await p.close();
    if (cache && from !== 'hit') throw new Error(`the cache was not used (${from})`);
    if (n !== point.days || outcome !== 'verified') throw new Error(`cold load showed ${n} of ${point.days} entries, check ${outcome} (problems: ${JSON.stringify(problems.slice(0, 3))})`);
    if (t > 0) {
      shown.push(ms); // trial 0 is a warm-up
      verified.push(verifiedMs);
      plain.push(peer);
    }
  }
  return { shown, verified, plain };
}

function timePlainOnce(state: Uint8Array, days: number): number {
  const t0 = now();
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const ms = now() - t0;
  if (doc.getArray('list:vitals').length !== days) throw new Error('plain load incomplete');
  doc.destroy();
  return ms;
}

export async function runS5(): Promise<BenchResult> {
  const signer = generateSigningKeyPair();
  // Native AES-GCM, as the browser would: WebCrypto in Node (globalThis.crypto.subtle).
  const cache: PlainCacheOptions = { key: await createPlainCacheKey(globalThis.crypto.subtle) };
  const { access, buildMs } = await build(signer, cache);
  console.log(`  S5 built ${POINTS[POINTS.length - 1]!.days} days in ${fmtMs(buildMs)}`);

  const rows: RatioRow[] = [];
  const data: Record<string, unknown> = {};
  let fullPath: Record<string, unknown> | undefined;
  for (const point of POINTS) {
    const cached = await timeOpen(point, signer, access, cache);
    const plain = cached.plain;
    const mShown = median(cached.shown);
    const mVerified = median(cached.verified);
    const mPlain = median(plain);
    const ratio = mShown / mPlain;
    console.log(`  S5 ${point.label}: shown from cache ${fmtMs(mShown)}, verified ${fmtMs(mVerified)}, plain Yjs ${fmtMs(mPlain)} (${round(ratio, 2)}x)`);
    rows.push({
      metric: `cold load from cache, ${point.label} (${point.records} records)`,
      ours: fmtMs(mShown),
      peer: fmtMs(mPlain),
      ratio: round(ratio, 2),
      target: point.targeted ? '<= 1.3x' : '(info)',
      met: point.targeted ? ratio <= 1.3 : null,
    });
    data[point.label] = {
      days: point.days,
      records: point.records,
      envelopeBytes: point.envelopeState!.length,
      plainBytes: point.plainState!.length,
      cacheBytes: point.sealedCache!.length,
      shownMedianMs: round(mShown, 3),
      shownTrialsMs: cached.shown.map((x) => round(x, 3)),
      verifiedMedianMs: round(mVerified, 3),
      verifiedTrialsMs: cached.verified.map((x) => round(x, 3)),
      plainMedianMs: round(mPlain, 3),
      plainTrialsMs: plain.map((x) => round(x, 3)),
      cacheWriteMedianMs: round(point.writeMs!, 3),
      ratio: round(ratio, 3),
    };
    if (point.targeted && point === POINTS.find((p) => p.targeted)) {
      // The reference point (5 years): the old full path, the background check, the write cost.
      const full = await timeOpen(point, signer, access, undefined);
      const mFull = median(full.shown);
      const mFullPeer = median(full.plain);
      console.log(`  S5 ${point.label}: full path (every record verified first) ${fmtMs(mFull)}`);
      rows.push({ metric: `cold load full path, ${point.label} (snapshot+tail, every record verified first)`, ours: fmtMs(mFull), peer: fmtMs(mFullPeer), ratio: round(mFull / mFullPeer, 1), target: '(info)', met: null });
      rows.push({ metric: `until verified in the background, ${point.label}`, ours: fmtMs(mVerified), peer: fmtMs(mPlain), ratio: round(mVerified / mPlain, 1), target: '(info)', met: null });
      rows.push({ metric: `cache write (encode + seal), ${point.label}`, ours: fmtMs(point.writeMs!), peer: fmtMs(mPlain), ratio: round(point.writeMs! / mPlain, 2), target: '(info)', met: null });
      rows.push({ metric: `sealed cache size vs plain state, ${point.label}`, ours: fmtBytes(point.sealedCache!.length), peer: fmtBytes(point.plainState!.length), ratio: round(point.sealedCache!.length / point.plainState!.length, 2), target: '(info)', met: null });
      fullPath = { label: point.label, medianMs: round(mFull, 3), trialsMs: full.shown.map((x) => round(x, 3)), plainTrialsMs: full.plain.map((x) => round(x, 3)) };
    }
  }

  const result: BenchResult = {
    id: 'S5',
    title: `S5 cold load from the plain-state cache, ${POINTS.map((p) => p.label).join(' / ')} of daily vitals`,
    env: environment(),
    rows,
    notes: [
      `One entry {date, systolic, diastolic, hr, weight} per day, each flushed as its own record, snapshot every ${COMPACT_EVERY} records; no relay.`,
      `Median of ${TRIALS} trials after one warm-up; "from cache" is timed from Profile.open until it resolves with the plain doc materialised from the sealed cache (read, AES-GCM decrypt under a non-extractable WebCrypto key, one Y.applyUpdate); the stored envelope is then loaded and every record verified in the background ("until verified", from the same start). Fresh WebCrypto Ed25519 engine per trial.`,
      'Cache write: encoding the plain state and sealing it (AES-GCM), the store write aside; done after changes settle (debounced) and on close, never per edit.',
      'Peer: Y.applyUpdate of the same final plain-doc state into a fresh Y.Doc, timed in a pair with each of our trials (pairs share the machine\'s load; they alternate which side goes first).',
    ],
    data: { trials: TRIALS, compactEvery: COMPACT_EVERY, buildMs: round(buildMs), points: data, fullPath },
  };
  writeResult(result);
  return result;
}
