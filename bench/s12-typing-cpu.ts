/**
 * S12 (info): the writer's CPU per keystroke, edit -> sealed record in the envelope, on one local
 * Profile (no relay), against plain Yjs making the same edits (with an update listener, as a
 * provider has). Also what building the sealed update costs: merging the queued updates
 * (`Y.mergeUpdatesV2`, what ProfileSync.sealUpdate does) against encoding from the last sealed
 * state vector (`Y.encodeStateAsUpdateV2(doc, sv)`), on a document the size of friendsforever's
 * end state. The latter is a LOWER bound for that alternative: it also carries the document's
 * whole delete set (every author's), which would still have to be filtered down to this
 * replica's own deletions before sealing. And the one Ed25519 signature each record needs.
 * Process CPU time (process.cpuUsage), so the relay-less Profile's own threads count too.
 */
import { loadavg } from 'node:os';
import * as Y from 'yjs';
import { environment, fmtMs, loadNote, QUICK, round, writeResult, type BenchResult } from './lib/common.ts';
import { loadConcurrentTrace, planReplay } from './lib/concurrent-trace.ts';
import { generateSigningKeyPair, signDetached } from '../src/lib/crypto/index.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { defaultEd25519Engine } from '../src/lib/crypto/index.ts';

const KEYS = QUICK ? 1000 : 4000;

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

/** CPU ms per 1,000 keystrokes typed at the end of a note, `burst` keystrokes per sealed record. */
async function sealedTyping(burst: number): Promise<number> {
  const p = await Profile.create({ signer: generateSigningKeyPair(), compactEvery: 1e9 });
  try {
    const sync = engineOf(p).sync;
    const note = p.note('typing');
    for (let i = 0; i < 200; i++) {
      note.replace(note.text.length, 0, 'w');
      await sync.flush();
    }
    const c0 = process.cpuUsage();
    for (let i = 0; i < KEYS; i += burst) {
      for (let j = 0; j < burst; j++) note.replace(note.text.length, 0, 'a');
      await sync.flush();
    }
    return (cpuMs(process.cpuUsage(c0)) / KEYS) * 1000;
  } finally {
    await p.close();
  }
}

function plainTyping(): number {
  const doc = new Y.Doc();
  const text = doc.getText('typing');
  let bytes = 0;
  doc.on('updateV2', (u: Uint8Array) => void (bytes += u.length));
  for (let i = 0; i < 200; i++) text.insert(text.length, 'w');
  const c0 = process.cpuUsage();
  for (let i = 0; i < KEYS; i++) text.insert(text.length, 'a');
  const ms = (cpuMs(process.cpuUsage(c0)) / KEYS) * 1000;
  if (bytes === 0) throw new Error('no updates');
  return ms;
}

/** friendsforever's txns as updates in replay order, planned once (each measurement replays them into a doc of its own). */
let friendsforever: ReturnType<typeof planReplay> | undefined;
function friendsforeverPlan(): ReturnType<typeof planReplay> {
  return (friendsforever ??= planReplay(loadConcurrentTrace('friendsforever.json.gz'), { clientIds: [1, 2], start: Y.encodeStateAsUpdateV2(new Y.Doc()), root: 't' }));
}

/** µs to build one record's update from `k` queued keystrokes, both ways, on a friendsforever-sized doc. */
function sealInput(k: number, reps: number): { mergeUs: number; svUs: number; mergeBytes: number; svBytes: number } {
  const plan = friendsforeverPlan();
  const doc = new Y.Doc();
  doc.clientID = 3;
  doc.transact(() => {
    for (const p of plan) Y.applyUpdateV2(doc, p.update);
  });
  const text = doc.getText('t');
  let cursor = Math.floor(text.length / 2);
  let mergeUs = 0;
  let svUs = 0;
  let mergeBytes = 0;
  let svBytes = 0;
  for (let r = 0; r < reps; r++) {
    const sv = Y.encodeStateVector(doc);
    const queue: Uint8Array[] = [];
    const grab = (u: Uint8Array) => void queue.push(u);
    doc.on('updateV2', grab);
    for (let i = 0; i < k; i++) {
      if (i % 6 === 5) text.delete(--cursor, 1); // a backspace now and then: own deletions
      else text.insert(cursor++, 'q');
    }
    doc.off('updateV2', grab);
    let t0 = performance.now();
    const merged = queue.length === 1 ? queue[0]! : Y.mergeUpdatesV2(queue);
    mergeUs += (performance.now() - t0) * 1000;
    t0 = performance.now();
    const fromSv = Y.encodeStateAsUpdateV2(doc, sv);
    svUs += (performance.now() - t0) * 1000;
    mergeBytes += merged.length;
    svBytes += fromSv.length;
  }
  return { mergeUs: mergeUs / reps, svUs: svUs / reps, mergeBytes: mergeBytes / reps, svBytes: svBytes / reps };
}

/**
 * ms to apply a received plain state (friendsforever's end, a catch-up's size) into a fresh doc
 * that listens as the profile's plain doc does during a remote apply: before decision 0066 an
 * 'updateV2' listener (the outbox) and, with the plain-state cache, an 'update' listener, so Yjs
 * encoded the applied update twice; now none. Median of interleaved trials; peer: no listener.
 */
function remoteApplyMs(reps: number): { before: number; now: number; bytes: number } {
  const plan = friendsforeverPlan();
  const source = new Y.Doc();
  for (const p of plan) Y.applyUpdateV2(source, p.update);
  const state = Y.encodeStateAsUpdateV2(source);
  const apply = (listen: boolean): number => {
    const doc = new Y.Doc();
    if (listen) {
      doc.on('updateV2', () => undefined);
      doc.on('update', () => undefined);
    }
    const t0 = performance.now();
    Y.applyUpdateV2(doc, state);
    return performance.now() - t0;
  };
  const before: number[] = [];
  const now: number[] = [];
  for (let i = 0; i < reps; i++) {
    before.push(apply(true));
    now.push(apply(false));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return { before: median(before), now: median(now), bytes: state.length };
}

async function signMs(n: number): Promise<number> {
  const engine = await defaultEd25519Engine();
  const keys = generateSigningKeyPair();
  const msg = new Uint8Array(300).fill(7);
  for (let i = 0; i < 100; i++) await signDetached(engine, msg, keys.secretKey);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await signDetached(engine, msg, keys.secretKey);
  return cpuMs(process.cpuUsage(c0)) / n;
}

export async function runS12(): Promise<BenchResult> {
  const loadBefore = loadavg()[0]!;
  const plain = plainTyping();
  const one = await sealedTyping(1);
  const twenty = await sealedTyping(20);
  const sign = await signMs(KEYS);
  const k20 = sealInput(20, QUICK ? 50 : 200);
  const k1 = sealInput(1, QUICK ? 50 : 200);
  const remote = remoteApplyMs(QUICK ? 5 : 15);
  console.log(`  S12 plain Yjs ${fmtMs(plain)}/1000 keys; sealed one record per key ${fmtMs(one)}/1000; 20 keys per record ${fmtMs(twenty)}/1000; Ed25519 sign ${fmtMs(sign)} CPU each`);
  console.log(`  S12 seal input, 20 queued keys: merge ${round(k20.mergeUs, 0)} µs (${round(k20.mergeBytes, 0)} B), from sv ${round(k20.svUs, 0)} µs (${round(k20.svBytes, 0)} B); 1 key: ${round(k1.mergeUs, 0)} µs vs ${round(k1.svUs, 0)} µs`);
  const us = (x: number) => `${round(x, 0)} µs`;
  const result: BenchResult = {
    id: 'S12',
    title: 'S12 writer CPU per keystroke sealed',
    env: environment(),
    rows: [
      { metric: 'CPU per 1,000 keystrokes, one record each, vs plain Yjs', ours: fmtMs(one), peer: fmtMs(plain), ratio: round(one / plain, 1), target: '(info)', met: null },
      { metric: 'CPU per 1,000 keystrokes, 20 per record, vs plain Yjs', ours: fmtMs(twenty), peer: fmtMs(plain), ratio: round(twenty / plain, 1), target: '(info)', met: null },
      { metric: 'share of one record\'s CPU that is its Ed25519 signature', ours: fmtMs(sign), peer: fmtMs(one / 1000), ratio: round(sign / (one / 1000), 2), target: '(info)', met: null },
      { metric: 'seal input, 20 queued keystrokes: merge queue vs encode from last sealed sv (lower bound)', ours: us(k20.mergeUs), peer: us(k20.svUs), ratio: round(k20.mergeUs / k20.svUs, 2), target: '(info)', met: null },
      { metric: 'seal input, 1 queued keystroke: queue as is vs encode from last sealed sv (lower bound)', ours: us(k1.mergeUs), peer: us(k1.svUs), ratio: round(k1.mergeUs / Math.max(k1.svUs, 1e-3), 2), target: '(info)', met: null },
      { metric: `applying a received plain state (${round(remote.bytes / 1024, 1)} KiB): the plain doc's listeners before decision 0066 (update + updateV2) vs none (now)`, ours: fmtMs(remote.before), peer: fmtMs(remote.now), ratio: round(remote.before / remote.now, 2), target: '(info)', met: null },
    ],
    notes: [
      `${KEYS} keystrokes appended to a note per variant on a relay-less Profile (compaction off), each batch awaited with flush().`,
      loadNote(loadBefore),
      'Received plain state: friendsforever end state applied with Y.applyUpdateV2 into a fresh doc, with an update and an updateV2 listener (what the plain doc had during a remote apply before decision 0066, with the plain-state cache on) and with none (now), interleaved, median; Yjs encodes the applied update once for each listened event.',
      "'encode from last sealed sv' carries the whole document's delete set (every author's deletions): its bytes and time are a lower bound for that design, before filtering to this replica's own deletions.",
    ],
    data: { remoteApply: remote, keys: KEYS, plainMsPer1000: round(plain, 3), sealedOneMsPer1000: round(one, 3), sealedTwentyMsPer1000: round(twenty, 3), signCpuMs: round(sign, 4), sealInput20: k20, sealInput1: k1 },
  };
  writeResult(result);
  return result;
}
