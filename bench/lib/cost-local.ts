/**
 * S13's device-side paths over one point's documents, each paired with its plain Yjs peer:
 *  - cold open of every document: `Profile.open` from the sealed cache (decision 0020), and the
 *    full path (every record verified before open resolves); peer `Y.applyUpdate` of each plain
 *    state into a fresh doc;
 *  - one edit, sealed by the writer and applied by a second device of the same document (its
 *    engine verifies and decrypts the record); peer: a plain transaction with an update listener
 *    (Yjs encodes the update) and `Y.applyUpdate` on a second doc. With every document of the
 *    point open on the writer's device, as after the cold open.
 */
import * as Y from 'yjs';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { storedDevice } from '../s5-coldload.ts';
import { sameState, type DocSet } from './cost-docs.ts';
import { median, now, within } from './common.ts';
import { deviceEngine } from './sides.ts';

export interface Pair {
  readonly ours: number;
  readonly peer: number;
}

export interface LocalCosts {
  /** Every document of the point, from the sealed cache: until the last `open` resolved. */
  readonly cacheOpen: Pair;
  /** The same, until every document's background check is over. */
  readonly cacheVerified: Pair;
  /** Every document, every record verified before `open` resolves (no cache). */
  readonly fullOpen: Pair;
  /** One edit: sealed (writer) + applied (second device); medians of the sum and its parts. */
  readonly edit: Pair;
  readonly editSeal: Pair;
  readonly editApply: Pair;
}

/** Opens every document on one fresh device; the plain content is checked against the peer's. */
async function openAll(set: DocSet, fromCache: boolean): Promise<{ shown: number; verified: number; profiles: Profile[] }> {
  const engine = await deviceEngine();
  const profiles: Profile[] = [];
  const t0 = now();
  for (const d of set.docs) {
    const persistence = storedDevice(d.envelope, fromCache ? d.sealedCache : undefined);
    profiles.push(await Profile.open({ signer: set.owner, access: d.access, persistence, engine, plainCache: fromCache ? set.cache : undefined }));
  }
  const shown = now() - t0;
  for (const p of profiles) if ((await p.whenVerified()) !== 'verified') throw new Error('a stored envelope did not verify');
  const verified = now() - t0;
  set.docs.forEach((d, i) => {
    if (!sameState(engineOf(profiles[i]!).plainDoc, d.plain)) throw new Error(`document ${i} opened with other contents than stored`);
    if (fromCache && profiles[i]!.cacheRead !== 'hit') throw new Error(`document ${i} did not open from its cache (${profiles[i]!.cacheRead})`);
  });
  return { shown, verified, profiles };
}

function applyAll(set: DocSet): { ms: number; docs: Y.Doc[] } {
  const t0 = now();
  const docs = set.docs.map((d) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, d.plain);
    return doc;
  });
  return { ms: now() - t0, docs };
}

const closeAll = async (ps: readonly Profile[]) => {
  for (const p of ps) await p.close();
};

/**
 * Cold opens: trial 0 is a warm-up; pairs alternate which side goes first (S5). The last trial's
 * open profiles and plain docs stay open for the edit path.
 */
async function coldOpens(set: DocSet, trials: number): Promise<{ cache: number[]; verified: number[]; full: number[]; plain: number[]; open: Profile[]; plainDocs: Y.Doc[] }> {
  const r = { cache: [] as number[], verified: [] as number[], full: [] as number[], plain: [] as number[] };
  let open: Profile[] = [];
  let plainDocs: Y.Doc[] = [];
  for (let t = 0; t <= trials; t++) {
    const peerFirst = t % 2 === 0;
    const before = peerFirst ? applyAll(set) : undefined;
    const full = await openAll(set, false);
    await closeAll(full.profiles);
    const cached = await openAll(set, true);
    const peer = before ?? applyAll(set);
    if (t < trials) {
      await closeAll(cached.profiles);
      peer.docs.forEach((d) => d.destroy());
    } else {
      open = cached.profiles;
      plainDocs = peer.docs;
    }
    if (t === 0) continue;
    r.cache.push(cached.shown);
    r.verified.push(cached.verified);
    r.full.push(full.shown);
    r.plain.push(peer.ms);
  }
  return { ...r, open, plainDocs };
}

const WORD = 'follow-up ';

/** `count` edits after 3 warm-ups on the first document: writer seal, second device apply. */
async function edits(set: DocSet, writer: Profile, count: number): Promise<{ seal: number[]; apply: number[] }> {
  const d = set.docs[0]!;
  const reader = await Profile.open({ signer: set.owner, access: d.access, persistence: storedDevice(d.envelope), engine: await deviceEngine() });
  const w = engineOf(writer);
  const r = engineOf(reader);
  let sealed: Uint8Array[] = [];
  const onSealed = (u: Uint8Array) => sealed.push(u);
  w.envelopeDoc.on('update', onSealed);
  const seal: number[] = [];
  const apply: number[] = [];
  try {
    for (let i = 0; i < count + 3; i++) {
      sealed = [];
      const t0 = now();
      w.plainDoc.getText('note:visits').insert(0, WORD);
      await w.sync.flush();
      const t1 = now();
      const want = w.plainDoc.getText('note:visits').length;
      const arrived = new Promise<void>((resolve) => {
        const check = () => {
          if (r.plainDoc.getText('note:visits').length !== want) return;
          r.plainDoc.off('update', check);
          resolve();
        };
        r.plainDoc.on('update', check);
      });
      // What the relay forwards: the writer's envelope updates, applied as a remote change.
      Y.applyUpdate(r.envelopeDoc, Y.mergeUpdates(sealed), 'bench-relay');
      await within(arrived, 30_000, 'the second device applies the edit');
      const t2 = now();
      if (i < 3) continue;
      seal.push(t1 - t0);
      apply.push(t2 - t1);
    }
  } finally {
    w.envelopeDoc.off('update', onSealed);
    await reader.close();
  }
  return { seal, apply };
}

function plainEdits(writer: Y.Doc, state: Uint8Array, count: number): { seal: number[]; apply: number[] } {
  const reader = new Y.Doc();
  Y.applyUpdate(reader, state);
  let update: Uint8Array | undefined;
  const onUpdate = (u: Uint8Array) => (update = u);
  writer.on('update', onUpdate);
  const seal: number[] = [];
  const apply: number[] = [];
  for (let i = 0; i < count + 3; i++) {
    const t0 = now();
    writer.getText('note:visits').insert(0, WORD);
    const t1 = now();
    Y.applyUpdate(reader, update!);
    const t2 = now();
    if (reader.getText('note:visits').length !== writer.getText('note:visits').length) throw new Error('plain edit not applied');
    if (i < 3) continue;
    seal.push(t1 - t0);
    apply.push(t2 - t1);
  }
  writer.off('update', onUpdate);
  reader.destroy();
  return { seal, apply };
}

export async function localCosts(set: DocSet, o: { trials: number; edits: number }): Promise<LocalCosts> {
  const cold = await coldOpens(set, o.trials);
  let ours: { seal: number[]; apply: number[] };
  let peer: { seal: number[]; apply: number[] };
  try {
    ours = await edits(set, cold.open[0]!, o.edits);
    peer = plainEdits(cold.plainDocs[0]!, set.docs[0]!.plain, o.edits);
  } finally {
    await closeAll(cold.open);
    cold.plainDocs.forEach((d) => d.destroy());
  }
  const sum = (x: { seal: number[]; apply: number[] }) => x.seal.map((s, i) => s + x.apply[i]!);
  return {
    cacheOpen: { ours: median(cold.cache), peer: median(cold.plain) },
    cacheVerified: { ours: median(cold.verified), peer: median(cold.plain) },
    fullOpen: { ours: median(cold.full), peer: median(cold.plain) },
    edit: { ours: median(sum(ours)), peer: median(sum(peer)) },
    editSeal: { ours: median(ours.seal), peer: median(peer.seal) },
    editApply: { ours: median(ours.apply), peer: median(peer.apply) },
  };
}
