/**
 * S7's catch-up (issue 14 item 4): a family profile lives through 30 days of activity while some
 * of its devices are offline; then each offline device reconnects alone and catches up.
 *  - encrypted: four members' `Profile`s (owner + three editors) write through the vault facade
 *    each day (seeded: vitals, doses, symptom journal entries, now and then a medication, a few
 *    words in the family note), each edit flushed as its own record (spread over a day, edits do
 *    not share a batch window), to a relay in a child process; the offline devices (editors, each
 *    its own key and engine) reach the relay through the counting proxy, synced before the history
 *    and disconnected during it.
 *  - plaintext: the same edits (every plain-doc update each member's edit made, captured as it
 *    was made) applied as local transactions on stock `HocuspocusProvider`s' plain `Y.Doc`s,
 *    started from the same day-0 state, to stock Hocuspocus in a child process; the offline
 *    devices' providers through their own counting proxy.
 * Catch-up: from `connect()` until the device says synced (encrypted: the pill's 'synced';
 * plain: the provider's `synced` with no unsynced changes), and every frame both ways meanwhile.
 * Each caught-up replica must equal a writer's (Yjs snapshots: same state vector and deletions).
 */
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { deviceEngine } from './sides.ts';
import { now, prng, within } from './common.ts';
import { startCountingProxy, type CountingProxy } from './proxy.ts';
import { startBenchServer } from './server-process.ts';

export interface CatchupOptions {
  readonly days: number;
  readonly writers: number;
  /** Devices offline for the whole history; each catches up once (the trials). */
  readonly offline: number;
  readonly seed: number;
}

export interface CatchupTrial {
  readonly ms: number;
  readonly up: number;
  readonly down: number;
  readonly frames: number;
}

export interface CatchupResult {
  readonly encrypted: CatchupTrial[];
  readonly plain: CatchupTrial[];
  readonly edits: number;
  readonly historyMs: number;
  /** The encrypted and the plain replicas hold the same plain content after catching up. */
  readonly sameContent: boolean;
}

const WORDS = ['slept', 'well', 'headache', 'gone', 'appointment', 'friday', 'refill', 'ordered', 'walked', 'twenty', 'minutes', 'dizzy', 'after', 'lunch', 'better', 'today'];

/** One member's plain-doc updates from one edit, in order. */
interface Edit {
  readonly writer: number;
  readonly updates: Uint8Array[];
}

const counted = (proxy: CountingProxy) => ({ up: proxy.counts.up, down: proxy.counts.down, frames: proxy.counts.framesUp + proxy.counts.framesDown });
const sameState = (a: Y.Doc, b: Y.Doc) => Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b));

/** The day's edits of one member, through the facade (records validate, as in the app). */
function dayOf(p: Profile, next: () => number, day: number): Array<() => void> {
  const n = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const edits: Array<() => void> = [];
  for (let i = n(1, 3); i > 0; i--) edits.push(() => void p.records.put('list:vitals', generateRecord('list:vitals', next)));
  for (let i = n(0, 3); i > 0; i--) edits.push(() => void p.records.put('list:doses', generateRecord('list:doses', next)));
  if (next() < 0.3) edits.push(() => void p.records.put('list:journal', generateRecord('list:journal', next)));
  if (next() < 0.1) edits.push(() => void p.records.put('medications', generateRecord('medications', next)));
  if (next() < 0.6) {
    const words = Array.from({ length: n(3, 12) }, () => WORDS[n(0, WORDS.length - 1)]).join(' ');
    edits.push(() => {
      const note = p.note('family');
      note.replace(note.text.length, 0, `day ${day}: ${words}\n`);
    });
  }
  return edits;
}

async function encryptedSide(o: CatchupOptions): Promise<{ trials: CatchupTrial[]; edits: Edit[]; init: Uint8Array; historyMs: number; replica: Y.Doc; close(): Promise<void> }> {
  const server = await startBenchServer('relay', {});
  const proxy = await startCountingProxy(server.url);
  const writerKeys = Array.from({ length: o.writers }, () => generateSigningKeyPair());
  const offlineKeys = Array.from({ length: o.offline }, () => generateSigningKeyPair());
  const editors = [...writerKeys.slice(1), ...offlineKeys].map((k) => ({ publicKey: k.publicKey, role: Role.editor, expiresAt: 0 }));
  const owner = await Profile.create({ relayUrl: server.url, engine: await deviceEngine(), signer: writerKeys[0]!, members: editors });
  await within(owner.flush(), 30_000, 'owner genesis');
  const open = async (k: SigningKeyPair, url: string) => Profile.open({ relayUrl: url, engine: await deviceEngine(), signer: k, access: owner.access });
  const writers = [owner, ...(await Promise.all(writerKeys.slice(1).map((k) => open(k, server.url))))];
  const offline = await Promise.all(offlineKeys.map((k) => open(k, proxy.url)));
  const all = [...writers, ...offline];
  try {
    await Promise.all(all.map((p) => p.status.when((s) => s.state === 'synced', 60_000)));
    for (const d of offline) d.disconnect();
    const init = Y.encodeStateAsUpdate(engineOf(owner).plainDoc);
    const edits: Edit[] = [];
    let capturing: Edit | undefined;
    writers.forEach((w) => engineOf(w).plainDoc.on('update', (u: Uint8Array) => capturing?.updates.push(u)));
    const next = prng(o.seed);
    const t0 = now();
    for (let day = 0; day < o.days; day++) {
      for (let w = 0; w < writers.length; w++) {
        for (const edit of dayOf(writers[w]!, next, day)) {
          capturing = { writer: w, updates: [] };
          edit();
          edits.push(capturing);
          capturing = undefined;
          await within(writers[w]!.flush(), 30_000, 'edit acknowledged');
        }
      }
    }
    const historyMs = now() - t0;
    await Promise.all(writers.map((p) => p.status.when((s) => s.state === 'synced', 60_000)));
    const trials: CatchupTrial[] = [];
    for (const d of offline) {
      proxy.reset();
      const t = now();
      void d.connect();
      await d.status.when((s) => s.state === 'synced', 120_000);
      trials.push({ ms: now() - t, ...counted(proxy) });
      if (!sameState(engineOf(d).plainDoc, engineOf(owner).plainDoc)) throw new Error('an encrypted device caught up to a different state');
    }
    return {
      trials,
      edits,
      init,
      historyMs,
      replica: engineOf(offline[0]!).plainDoc,
      async close() {
        for (const p of all) await p.close().catch(() => undefined);
        await proxy.close();
        await server.close();
      },
    };
  } catch (e) {
    for (const p of all) await p.close().catch(() => undefined);
    await proxy.close();
    await server.close();
    throw e;
  }
}

function plainProvider(url: string, document: Y.Doc): Promise<HocuspocusProvider> {
  return within(
    new Promise<HocuspocusProvider>((resolve) => {
      const p: HocuspocusProvider = new HocuspocusProvider({ url, name: 's7-catchup', document, onSynced: ({ state }) => state && resolve(p) });
    }),
    30_000,
    'plain provider synced',
  );
}

/** Resolves once `ok()` holds, checked now and after each update of `doc`. */
function until(doc: Y.Doc, ok: () => boolean, ms: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => {
        if (!ok()) return;
        doc.off('update', check);
        resolve();
      };
      doc.on('update', check);
      check();
    }),
    ms,
    'plain replica has the earlier edits',
  );
}

/** Resolves once the provider is synced with nothing of its own unacknowledged. */
function plainSynced(p: HocuspocusProvider, ms: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = () => {
        if (!p.synced || p.hasUnsyncedChanges) return;
        p.off('synced', check);
        p.off('unsyncedChanges', check);
        resolve();
      };
      p.on('synced', check);
      p.on('unsyncedChanges', check);
      check();
    }),
    ms,
    'plain provider synced',
  );
}

async function plainSide(o: CatchupOptions, init: Uint8Array, edits: readonly Edit[]): Promise<{ trials: CatchupTrial[]; replica: Y.Doc; close(): Promise<void> }> {
  const server = await startBenchServer('hocuspocus', {});
  const proxy = await startCountingProxy(server.url);
  const docs = Array.from({ length: o.writers + o.offline }, () => {
    const d = new Y.Doc();
    Y.applyUpdate(d, init);
    return d;
  });
  const providers = await Promise.all(docs.map((d, i) => plainProvider(i < o.writers ? server.url : proxy.url, d)));
  const offline = providers.slice(o.writers);
  try {
    for (const p of offline) p.disconnect();
    // Each edit is made on a replica that already has every earlier edit, as on the encrypted
    // side (the captured update may build on them). Applied earlier, its structs would wait in the
    // doc as pending, and the provider never sends what integrates later from the server.
    const replayed = new Y.Doc();
    for (const e of edits) {
      const doc = docs[e.writer]!;
      await until(doc, () => sameState(doc, replayed), 30_000);
      for (const u of e.updates) {
        Y.applyUpdate(doc, u);
        Y.applyUpdate(replayed, u);
      }
      await plainSynced(providers[e.writer]!, 30_000);
    }
    const trials: CatchupTrial[] = [];
    for (let i = 0; i < offline.length; i++) {
      const p = offline[i]!;
      proxy.reset();
      const t = now();
      void p.connect();
      await plainSynced(p, 120_000);
      trials.push({ ms: now() - t, ...counted(proxy) });
      if (!sameState(docs[o.writers + i]!, docs[0]!)) throw new Error('a plain device caught up to a different state');
    }
    return { trials, replica: docs[o.writers]!, close: async () => (providers.forEach((p) => p.destroy()), await proxy.close(), await server.close()) };
  } catch (e) {
    providers.forEach((p) => p.destroy());
    await proxy.close();
    await server.close();
    throw e;
  }
}

export async function catchup(o: CatchupOptions): Promise<CatchupResult> {
  const enc = await encryptedSide(o);
  try {
    const plain = await plainSide(o, enc.init, enc.edits);
    try {
      return { encrypted: enc.trials, plain: plain.trials, edits: enc.edits.length, historyMs: enc.historyMs, sameContent: sameState(enc.replica, plain.replica) };
    } finally {
      await plain.close();
    }
  } finally {
    await enc.close();
  }
}
