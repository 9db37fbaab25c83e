/**
 * S10: envelope bytes against history length. One writer `Profile` (no relay) makes a seeded
 * realistic history, each edit flushed as its own record: vitals appended (45%), a note edited
 * (40%: a few words inserted, sometimes a range deleted), map keys overwritten or deleted (15%,
 * a small settings map whose old values compaction removes). At each checkpoint it reports the
 * stored envelope (`Y.encodeStateAsUpdate` of the envelope doc) against the plain doc's state
 * (the peer: plain Yjs stores that), and the bytes sent to the relay (every envelope update
 * this device produced) against the plain doc's own updates (what a plain Yjs client sends).
 * Two compaction policies run the same history: the byte-ratio trigger (the default, decision
 * 0023) and the old fixed count (a snapshot every 300 records), shown as info rows. Also: what
 * Yjs keeps per deleted map key with v1 keys (43 characters) and v2 keys (22), measured on the
 * keys of real records.
 */
import * as Y from 'yjs';
import { generateSigningKeyPair } from '../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, recordKey, RecordType, RecordVersion, sealRecord, ZERO_HASH } from '../src/lib/protocol/index.ts';
import { defaultEd25519Engine, generateSymmetricKey, secureRandom } from '../src/lib/crypto/index.ts';
import { DEFAULT_COMPACTION, type CompactionPolicy } from '../src/lib/sync/compaction.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { Profile } from '../src/lib/vault/profile.ts';
import { environment, fmtBytes, fmtMs, median, now, prng, QUICK, round, writeResult, type BenchResult, type RatioRow } from './lib/common.ts';

const CHECKPOINTS = QUICK ? [500, 2_000, 5_000] : [1_000, 5_000, 20_000, 50_000];
const OLD_EVERY = 300;
/** The default policy; S10_TAIL_RATIO=0.25 (say) measures another ratio without editing code. */
const TAIL_POLICY: CompactionPolicy = process.env.S10_TAIL_RATIO ? { ...DEFAULT_COMPACTION, tailRatio: Number(process.env.S10_TAIL_RATIO) } as CompactionPolicy : DEFAULT_COMPACTION;
const WORDS = ['blood', 'pressure', 'stable', 'follow-up', 'in', 'two', 'weeks', 'dose', 'reduced', 'no', 'side', 'effects', 'sleep', 'better'];

interface Point {
  readonly edits: number;
  readonly storedBytes: number;
  readonly sentBytes: number;
  readonly plainStateBytes: number;
  readonly plainSentBytes: number;
  readonly snapshotBytesSealed: number;
  readonly snapshots: number;
  readonly liveRecords: number;
  readonly liveRecordBytes: number;
  readonly deletedKeys: number;
  readonly liveSnapshotBytes: number;
  /** Live update records (the tail since the snapshot): bytes, count, largest. */
  readonly tailBytes: number;
  readonly tailRecords: number;
  readonly largestTailRecord: number;
  readonly ms: number;
}

interface ColdLoad {
  readonly medianMs: number;
  readonly trialsMs: number[];
  readonly records: number;
}

/** What a cold load needs: the stored envelope and the keys to open it. */
interface Stored {
  readonly envelope: Uint8Array;
  readonly plain: Uint8Array;
  readonly signer: ReturnType<typeof generateSigningKeyPair>;
  readonly access: Profile['access'];
  readonly records: number;
}

const COLD_TRIALS = 5;

async function openCold(s: Stored): Promise<number> {
  const engine = await defaultEd25519Engine();
  const t0 = now();
  const p = await Profile.open({ signer: s.signer, access: s.access, engine, persistence: (e) => (Y.applyUpdate(e, s.envelope), () => {}) });
  const ms = now() - t0;
  if (p.status.value.problems.length > 0) throw new Error(`cold load problems: ${JSON.stringify(p.status.value.problems.slice(0, 2))}`);
  await p.close();
  return ms;
}

function applyPlain(state: Uint8Array): number {
  const t0 = now();
  const d = new Y.Doc();
  Y.applyUpdate(d, state);
  const ms = now() - t0;
  d.destroy();
  return ms;
}

/**
 * The trade the byte-ratio trigger makes: a longer tail to verify and apply at cold load.
 * Profile.open over each policy's final stored envelope (fresh engine, no relay), the two
 * policies and the plain peer (Y.applyUpdate of the plain state) interleaved trial by trial so
 * load on the shared machine hits all three alike; median after a warm-up.
 */
async function coldLoads(ratio: Stored, every: Stored): Promise<{ ratio: ColdLoad; every: ColdLoad; plain: ColdLoad }> {
  const t = { ratio: [] as number[], every: [] as number[], plain: [] as number[] };
  for (let i = 0; i <= COLD_TRIALS; i++) {
    const r = await openCold(ratio);
    const e = await openCold(every);
    const p = applyPlain(ratio.plain);
    if (i === 0) continue; // warm-up
    t.ratio.push(r);
    t.every.push(e);
    t.plain.push(p);
  }
  const of = (ms: number[], records: number): ColdLoad => ({ medianMs: median(ms), trialsMs: ms.map((x) => round(x, 1)), records });
  return { ratio: of(t.ratio, ratio.records), every: of(t.every, every.records), plain: of(t.plain, 0) };
}

/** One edit of the seeded history workload (S13 reuses it for its documents). */
export function historyEdit(plain: Y.Doc, i: number, rnd: () => number): void {
  const r = rnd();
  if (r < 0.45) {
    const d = i;
    plain.getArray('list:vitals').push([{ date: new Date(Date.UTC(2020, 0, 1) + d * 3_600_000).toISOString(), systolic: 110 + (d % 25), diastolic: 70 + (d % 15), hr: 55 + (d % 30) }]);
  } else if (r < 0.85) {
    const note = plain.getText('note:visits');
    if (note.length > 400 && rnd() < 0.3) {
      const at = Math.floor(rnd() * (note.length - 40));
      note.delete(at, 1 + Math.floor(rnd() * 30));
    } else {
      const words = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
      note.insert(Math.floor(rnd() * (note.length + 1)), words + ' ');
    }
  } else {
    const settings = plain.getMap('settings');
    const key = `k${Math.floor(rnd() * 12)}`;
    if (rnd() < 0.3) settings.delete(key);
    else settings.set(key, { unit: rnd() < 0.5 ? 'mmHg' : 'kPa', at: i, reminder: Math.floor(rnd() * 1440) });
  }
}

async function history(policy: 'ratio' | 'every'): Promise<{ points: Point[]; stored: Stored }> {
  const signer = generateSigningKeyPair();
  const profile = await Profile.create(policy === 'every' ? { signer, compactEvery: OLD_EVERY } : { signer, compaction: TAIL_POLICY });
  const { plainDoc: plain, envelopeDoc: envelope, sync } = engineOf(profile);
  let sent = 0;
  let plainSent = 0;
  let snapshotBytes = 0;
  let snapshots = 0;
  envelope.on('update', (u: Uint8Array) => (sent += u.length));
  plain.on('update', (u: Uint8Array) => (plainSent += u.length));
  const map = envelope.getMap<Uint8Array>(ENVELOPE_MAP);
  const everUsed = new Set<string>(map.keys());
  map.observe((e) => {
    for (const [key, change] of e.changes.keys) {
      if (change.action !== 'add') continue;
      everUsed.add(key);
      const v = map.get(key);
      if (v && v[3] === RecordType.snapshot) {
        snapshots++;
        snapshotBytes += v.length;
      }
    }
  });
  // The genesis and lockbox were written before the counters: the plain doc is empty then.
  const rnd = prng(10);
  const points: Point[] = [];
  const t0 = now();
  let done = 0;
  for (const target of CHECKPOINTS) {
    for (; done < target; done++) {
      historyEdit(plain, done, rnd);
      await sync.flush();
    }
    await sync.compactIfDue(); // a compaction the last seal started has finished
    let liveRecordBytes = 0;
    let liveSnapshotBytes = 0;
    let tailBytes = 0;
    let tailRecords = 0;
    let largestTailRecord = 0;
    for (const v of map.values()) {
      liveRecordBytes += v.length;
      if (v[3] === RecordType.snapshot) liveSnapshotBytes += v.length;
      if (v[3] === RecordType.update) {
        tailBytes += v.length;
        tailRecords++;
        largestTailRecord = Math.max(largestTailRecord, v.length);
      }
    }
    points.push({
      edits: target,
      storedBytes: Y.encodeStateAsUpdate(envelope).length,
      sentBytes: sent,
      plainStateBytes: Y.encodeStateAsUpdate(plain).length,
      plainSentBytes: plainSent,
      snapshotBytesSealed: snapshotBytes,
      snapshots,
      liveRecords: map.size,
      liveRecordBytes,
      deletedKeys: everUsed.size - map.size,
      liveSnapshotBytes,
      tailBytes,
      tailRecords,
      largestTailRecord,
      ms: now() - t0,
    });
    const p = points[points.length - 1]!;
    console.log(`  S10 ${policy} ${target} edits: stored ${fmtBytes(p.storedBytes)} (plain ${fmtBytes(p.plainStateBytes)}), sent ${fmtBytes(p.sentBytes)} (plain ${fmtBytes(p.plainSentBytes)}), ${p.snapshots} snapshots, ${p.deletedKeys} deleted keys, ${fmtMs(p.ms)}`);
  }
  const stored: Stored = { envelope: Y.encodeStateAsUpdate(envelope), plain: Y.encodeStateAsUpdate(plain), signer, access: profile.access, records: map.size };
  await profile.close();
  return { points, stored };
}

/**
 * What Yjs keeps for each deleted map key: N real records inserted under their v1 or v2 key
 * into an envelope doc by one client, then deleted by another (as a compaction does); the
 * stored state's growth over an empty doc, divided by N.
 */
async function residuePerKey(n: number): Promise<{ v1: number; v2: number; v1KeyChars: number; v2KeyChars: number }> {
  const engine = await defaultEd25519Engine();
  const signer = generateSigningKeyPair();
  const key = generateSymmetricKey();
  const docId = secureRandom(16);
  const out: Record<number, { perKey: number; chars: number }> = {};
  for (const version of [RecordVersion.v1, RecordVersion.v2]) {
    const writer = new Y.Doc();
    const keys: string[] = [];
    for (let seq = 1; seq <= n; seq++) {
      const sealed = await sealRecord({ header: { type: RecordType.update, docId, epoch: 0, author: signer.publicKey, seq, prev: ZERO_HASH, ext: new Uint8Array(0) }, payload: new Uint8Array(20), key, secretKey: signer.secretKey, engine, random: secureRandom, version });
      const parsed = parseRecord(sealed.bytes);
      if (!parsed.ok) throw new Error(parsed.code);
      keys.push(recordKey(parsed.value));
      writer.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKey(parsed.value), sealed.bytes);
    }
    const compactor = new Y.Doc();
    Y.applyUpdate(compactor, Y.encodeStateAsUpdate(writer));
    compactor.transact(() => keys.forEach((k) => compactor.getMap(ENVELOPE_MAP).delete(k)));
    const empty = Y.encodeStateAsUpdate(new Y.Doc()).length;
    out[version] = { perKey: (Y.encodeStateAsUpdate(compactor).length - empty) / n, chars: keys[0]!.length };
  }
  return { v1: out[RecordVersion.v1]!.perKey, v2: out[RecordVersion.v2]!.perKey, v1KeyChars: out[RecordVersion.v1]!.chars, v2KeyChars: out[RecordVersion.v2]!.chars };
}

const perEdit = (a: Point, b: Point, f: (p: Point) => number): number => (f(b) - f(a)) / (b.edits - a.edits);

export async function runS10(): Promise<BenchResult> {
  const residue = await residuePerKey(QUICK ? 200 : 2_000);
  console.log(`  S10 residue per deleted key: v1 (${residue.v1KeyChars} chars) ${round(residue.v1, 1)} B, v2 (${residue.v2KeyChars} chars) ${round(residue.v2, 1)} B`);
  const { points: ratio, stored: storedRatio } = await history('ratio');
  const { points: every, stored: storedEvery } = await history('every');
  const cold = await coldLoads(storedRatio, storedEvery);
  const { ratio: coldRatio, every: coldEvery } = cold;
  console.log(`  S10 cold load: byte-ratio ${fmtMs(coldRatio.medianMs)} (${coldRatio.records} records), every ${OLD_EVERY} ${fmtMs(coldEvery.medianMs)} (${coldEvery.records} records), plain ${fmtMs(cold.plain.medianMs)}`);
  const rows: RatioRow[] = [];
  for (const p of ratio) {
    rows.push({ metric: `stored envelope after ${p.edits} edits (byte-ratio compaction)`, ours: fmtBytes(p.storedBytes), peer: fmtBytes(p.plainStateBytes), ratio: round(p.storedBytes / p.plainStateBytes, 2), target: '(info)', met: null });
  }
  for (const p of ratio) {
    rows.push({ metric: `bytes sent after ${p.edits} edits (byte-ratio compaction)`, ours: fmtBytes(p.sentBytes), peer: fmtBytes(p.plainSentBytes), ratio: round(p.sentBytes / p.plainSentBytes, 2), target: '(info)', met: null });
  }
  for (const p of every) {
    rows.push({ metric: `bytes sent after ${p.edits} edits (old: snapshot every ${OLD_EVERY} records)`, ours: fmtBytes(p.sentBytes), peer: fmtBytes(p.plainSentBytes), ratio: round(p.sentBytes / p.plainSentBytes, 2), target: '(info)', met: null });
  }
  const lastR = ratio[ratio.length - 1]!;
  const lastE = every[every.length - 1]!;
  rows.push({ metric: `stored envelope after ${lastE.edits} edits (old: snapshot every ${OLD_EVERY} records)`, ours: fmtBytes(lastE.storedBytes), peer: fmtBytes(lastE.plainStateBytes), ratio: round(lastE.storedBytes / lastE.plainStateBytes, 2), target: '(info)', met: null });
  // Linear in history: bytes sent per edit over the last stretch against the stretch before it
  // (a policy that seals the whole document every N records grows this with the document).
  const stretch = (points: Point[], label: string, target: string): RatioRow => {
    const [a, b, c] = points.slice(-3) as [Point, Point, Point];
    const late = perEdit(b, c, (p) => p.sentBytes);
    const before = perEdit(a, b, (p) => p.sentBytes);
    return { metric: `bytes sent per edit, edits ${b.edits}-${c.edits} vs ${a.edits}-${b.edits} (${label})`, ours: `${round(late, 0)} B`, peer: `${round(before, 0)} B`, ratio: round(late / before, 2), target, met: target === '(info)' ? null : late / before <= 1.25 };
  };
  rows.push(stretch(ratio, 'byte-ratio', '<= 1.25x (linear)'));
  rows.push(stretch(every, `old every ${OLD_EVERY}`, '(info)'));
  // Stored growth per edit over the last stretch: the plain state's growth plus the residue.
  {
    const [b, c] = ratio.slice(-2) as [Point, Point];
    const stored = perEdit(b, c, (p) => p.storedBytes);
    const plainGrowth = perEdit(b, c, (p) => p.plainStateBytes);
    rows.push({ metric: `stored bytes per edit, edits ${b.edits}-${c.edits} (byte-ratio; peer: plain state growth)`, ours: `${round(stored, 0)} B`, peer: `${round(plainGrowth, 0)} B`, ratio: round(stored / plainGrowth, 2), target: '(info)', met: null });
  }
  // What grows without bound: the deleted keys. Everything else is the snapshot and its tail.
  const residueNow = lastR.storedBytes - lastR.liveRecordBytes;
  rows.push({ metric: `stored bytes that are not live records, per deleted key, after ${lastR.edits} edits`, ours: `${round(residueNow / lastR.deletedKeys, 1)} B`, peer: `${round(residue.v1, 1)} B (v1 keys)`, ratio: round(residueNow / lastR.deletedKeys / residue.v1, 2), target: '(info)', met: null });
  rows.push({ metric: `Yjs residue per deleted map key, v2 key (${residue.v2KeyChars} chars) vs v1 (${residue.v1KeyChars})`, ours: `${round(residue.v2, 1)} B`, peer: `${round(residue.v1, 1)} B`, ratio: round(residue.v2 / residue.v1, 2), target: '(info)', met: null });
  // The bound: live records are one snapshot chain and a tail bounded by the trigger.
  // The bound: the live tail stays under the record floor or under ratio x the live snapshot.
  const ratioOf = TAIL_POLICY.kind === 'tail-ratio' ? TAIL_POLICY : { tailRatio: 0, minTailRecords: 0 };
  const tailBound = (p: Point) => ratioOf.tailRatio * p.liveSnapshotBytes + p.largestTailRecord;
  const bounded = ratio.every((p) => p.tailRecords < ratioOf.minTailRecords || p.tailBytes <= tailBound(p));
  rows.push({ metric: `live tail after ${lastR.edits} edits (${lastR.tailRecords} records) vs ${ratioOf.tailRatio} x live snapshot + one record (or < ${ratioOf.minTailRecords} records)`, ours: fmtBytes(lastR.tailBytes), peer: fmtBytes(tailBound(lastR)), ratio: round(lastR.tailBytes / tailBound(lastR), 2), target: 'within at every point', met: bounded });

  const plainMs = cold.plain.medianMs;
  rows.push({ metric: `cold load after ${lastR.edits} edits, byte-ratio (${coldRatio.records} live records)`, ours: fmtMs(coldRatio.medianMs), peer: fmtMs(plainMs), ratio: round(coldRatio.medianMs / plainMs, 1), target: '(info)', met: null });
  rows.push({ metric: `cold load after ${lastE.edits} edits, old every ${OLD_EVERY} (${coldEvery.records} live records)`, ours: fmtMs(coldEvery.medianMs), peer: fmtMs(plainMs), ratio: round(coldEvery.medianMs / plainMs, 1), target: '(info)', met: null });

  const result: BenchResult = {
    id: 'S10',
    title: `S10 envelope growth over ${lastR.edits} edits`,
    env: environment(),
    rows,
    notes: [
      `One writer, no relay; each edit flushed as its own record (45% vitals appended, 40% note edits, 15% settings-map overwrites/deletes), seeded, the same history for both policies.`,
      `The two policies replay the same edits, but each profile has its own random Yjs clientIDs, so plain sizes differ by a few percent between them (each row uses its own plain peer).`,
      `Stored = Y.encodeStateAsUpdate(envelope doc); sent = every envelope update the device produced (what its provider sends, without framing); peers: the plain doc's state and its own updates.`,
      `Byte-ratio compaction: snapshot once the live tail is >= ${TAIL_POLICY.kind === 'tail-ratio' ? TAIL_POLICY.tailRatio : '?'} x the live snapshot bytes and >= ${TAIL_POLICY.kind === 'tail-ratio' ? TAIL_POLICY.minTailRecords : '?'} records. Old: snapshot every ${OLD_EVERY} live records.`,
      `Cold load: Profile.open over the final stored envelope with a fresh engine, no relay, both policies and the peer (Y.applyUpdate of the plain state) interleaved trial by trial, median of ${COLD_TRIALS} after a warm-up. The byte-ratio trigger trades a longer tail at cold load for linear bytes sent.`,
      `Stored bytes grow by the deleted-key residue only (${round(residue.v2, 1)} B per compacted record with v2 keys, ${round(residue.v1, 1)} B with v1): bounded per record, unbounded in total until an envelope rollover (decision 0023).`,
    ],
    data: { checkpoints: CHECKPOINTS, residue, ratio, every, oldEvery: OLD_EVERY, coldLoad: { ...cold, trials: COLD_TRIALS } },
  };
  writeResult(result);
  return result;
}
