/**
 * S5: cold load of five years of daily vitals (1,825 days; one list entry per day, each sealed
 * as its own record). No relay. The stored envelope state is loaded into a fresh Y.Doc and
 * `Profile.open` (persistence = that state, no relay) runs until the plain doc is materialised (every record parsed, verified,
 * chain-checked, decrypted and applied), with a fresh WebCrypto engine per trial so imported
 * keys are not reused. Forms: (a) all records (compactEvery 1e9), (b) snapshot + tail
 * (compactEvery 300). Peer: Y.applyUpdate of the same final plain-doc state into a fresh doc.
 * Median of 5 trials after one warm-up. Target: snapshot+tail <= 1.3x plain.
 */
import * as Y from 'yjs';
import { createWebCryptoEngine, defaultEd25519Engine, generateSigningKeyPair, type Ed25519Engine, type SigningKeyPair } from '../src/lib/crypto/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { environment, fmtBytes, fmtMs, median, now, QUICK, round, writeResult, type BenchResult } from './lib/common.ts';
import { engineOf } from '../src/lib/vault/engine.ts';

const TRIALS = 5;

interface Built {
  readonly envelopeState: Uint8Array;
  readonly plainState: Uint8Array;
  readonly records: number;
  readonly buildMs: number;
  readonly profile: Profile;
  readonly signer: SigningKeyPair;
}

async function build(days: number, compactEvery: number): Promise<Built> {
  const signer = generateSigningKeyPair();
  const t0 = now();
  const profile = await Profile.create({ signer, compactEvery });
  const start = Date.UTC(2020, 0, 1);
  for (let d = 0; d < days; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    // The same list workload as the committed runs (the engine door: benchmarks may use it).
    engineOf(profile).plainDoc.getArray('list:vitals').push([{ date, systolic: 110 + (d % 25), diastolic: 70 + (d % 15), hr: 55 + (d % 30), weight: Math.round((72 + Math.sin(d / 60) * 3) * 10) / 10 }]);
    await engineOf(profile).sync.flush();
  }
  const buildMs = now() - t0;
  const records = engineOf(profile).envelopeDoc.getMap('r').size;
  return { envelopeState: Y.encodeStateAsUpdate(engineOf(profile).envelopeDoc), plainState: Y.encodeStateAsUpdate(engineOf(profile).plainDoc), records, buildMs, profile, signer };
}

async function freshEngine(): Promise<Ed25519Engine> {
  const d = await defaultEd25519Engine();
  return d.name === 'webcrypto' ? createWebCryptoEngine() : d;
}

/**
 * Cold start the way a device does it: Profile.open with a persistence function that loads the
 * stored envelope state, and no relay. Profile.open resolves after ProfileSync.open has drained
 * every stored record into the plain doc.
 */
async function timeEncrypted(b: Built, days: number): Promise<number[]> {
  const times: number[] = [];
  for (let t = 0; t <= TRIALS; t++) {
    const engine = await freshEngine();
    const persistence = (envelope: Y.Doc) => {
      Y.applyUpdate(envelope, b.envelopeState);
      return () => {};
    };
    const t0 = now();
    const p = await Profile.open({ signer: b.signer, access: b.profile.access, persistence, engine });
    const ms = now() - t0;
    const n = p.readList('vitals').length;
    const problems = p.status.value.problems;
    await p.close();
    if (n !== days) throw new Error(`cold load materialised ${n} of ${days} entries (problems: ${JSON.stringify(problems.slice(0, 3))})`);
    if (t > 0) times.push(ms); // trial 0 is a warm-up
  }
  return times;
}

function timePlain(state: Uint8Array, days: number): number[] {
  const times: number[] = [];
  for (let t = 0; t <= TRIALS; t++) {
    const t0 = now();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const ms = now() - t0;
    if (doc.getArray('list:vitals').length !== days) throw new Error('plain load incomplete');
    doc.destroy();
    if (t > 0) times.push(ms);
  }
  return times;
}

export async function runS5(): Promise<BenchResult> {
  const days = QUICK ? 400 : 1825;
  const all = await build(days, 1e9);
  console.log(`  S5 built all-records envelope: ${all.records} records, ${fmtBytes(all.envelopeState.length)} in ${fmtMs(all.buildMs)}`);
  const snap = await build(days, 300);
  console.log(`  S5 built snapshot+tail envelope: ${snap.records} records, ${fmtBytes(snap.envelopeState.length)} in ${fmtMs(snap.buildMs)}`);

  const allTimes = await timeEncrypted(all, days);
  const snapTimes = await timeEncrypted(snap, days);
  const plainTimes = timePlain(snap.plainState, days);
  const mAll = median(allTimes);
  const mSnap = median(snapTimes);
  const mPlain = median(plainTimes);
  console.log(`  S5 cold load: all records ${fmtMs(mAll)}, snapshot+tail ${fmtMs(mSnap)}, plain Yjs ${fmtMs(mPlain)}`);
  await all.profile.close();
  await snap.profile.close();

  const result: BenchResult = {
    id: 'S5',
    title: `S5 cold load, ${days} days of vitals`,
    env: environment(),
    rows: [
      { metric: `cold load snapshot+tail (${snap.records} records)`, ours: fmtMs(mSnap), peer: fmtMs(mPlain), ratio: round(mSnap / mPlain, 1), target: '<= 1.3x', met: mSnap / mPlain <= 1.3 },
      { metric: `cold load all records (${all.records} records)`, ours: fmtMs(mAll), peer: fmtMs(mPlain), ratio: round(mAll / mPlain, 1), target: '(info)', met: null },
      { metric: 'stored size snapshot+tail vs plain state', ours: fmtBytes(snap.envelopeState.length), peer: fmtBytes(snap.plainState.length), ratio: round(snap.envelopeState.length / snap.plainState.length, 2), target: '(info)', met: null },
    ],
    notes: [
      `${days} days, one entry {date, systolic, diastolic, hr, weight} per day, each flushed as its own record; no relay.`,
      `Median of ${TRIALS} trials after one warm-up; timed from loading the stored envelope state into a fresh Y.Doc until Profile.open resolves (plain doc materialised); fresh WebCrypto engine per trial.`,
      'Peer: Y.applyUpdate of the final plain-doc state into a fresh Y.Doc.',
    ],
    data: {
      days,
      trials: TRIALS,
      allRecords: { records: all.records, envelopeBytes: all.envelopeState.length, buildMs: round(all.buildMs), medianMs: round(mAll, 3), trialsMs: allTimes.map((x) => round(x, 3)) },
      snapshotTail: { records: snap.records, envelopeBytes: snap.envelopeState.length, buildMs: round(snap.buildMs), medianMs: round(mSnap, 3), trialsMs: snapTimes.map((x) => round(x, 3)) },
      plain: { stateBytes: snap.plainState.length, medianMs: round(mPlain, 3), trialsMs: plainTimes.map((x) => round(x, 3)) },
      ratios: { snapshotTailVsPlain: round(mSnap / mPlain, 2), allRecordsVsPlain: round(mAll / mPlain, 2) },
    },
  };
  writeResult(result);
  return result;
}
