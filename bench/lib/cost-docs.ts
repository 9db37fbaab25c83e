/**
 * S13's documents: what one device (and the relay) holds at each point of a cost curve, built
 * without a relay with the seeded history workload of S10 (`historyEdit`: vitals appended, note
 * edits, settings-map overwrites; each edit flushed as its own record, default compaction).
 * Each document is kept as a device keeps it: the stored envelope, the plain state (what plain
 * Yjs would store: the peer's document) and the sealed plain-state cache (decision 0020).
 */
import * as Y from 'yjs';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { sealPlainCache, type PlainCacheOptions } from '../../src/lib/vault/plain-cache.ts';
import { Profile, type ProfileAccess } from '../../src/lib/vault/profile.ts';
import { storedDevice } from '../s5-coldload.ts';
import { historyEdit } from '../s10-growth.ts';
import { prng } from './common.ts';

export interface CurveDoc {
  readonly access: ProfileAccess;
  /** The device's stored envelope (what the relay holds too). */
  readonly envelope: Uint8Array;
  /** The plain doc's state: the peer stores and loads this. */
  readonly plain: Uint8Array;
  readonly sealedCache: Uint8Array;
  /** Live records in the envelope (a snapshot chain and its tail, after compaction). */
  readonly records: number;
  /**
   * How it reaches a relay, in the order it was written: each writer's device with the envelope
   * as it left it (a device sends the relay only its own person's writing, and a compaction's
   * deletes only once the relay holds what they delete).
   */
  readonly uploads: readonly Upload[];
}

export interface Upload {
  readonly signer: SigningKeyPair;
  readonly envelope: Uint8Array;
}

/** One point of a curve: the documents, whose device opens them (the owner) and its cache key. */
export interface DocSet {
  readonly owner: SigningKeyPair;
  readonly cache: PlainCacheOptions;
  readonly docs: CurveDoc[];
}

/** Everything sealed and compaction settled, then the device's three stored forms. */
async function keep(profile: Profile, cache: PlainCacheOptions, signer: SigningKeyPair, before: readonly Upload[] = []): Promise<CurveDoc> {
  const { envelopeDoc, plainDoc, sync } = engineOf(profile);
  await sync.flush();
  await sync.compactIfDue();
  const contents = sync.cacheableState();
  if (!contents) throw new Error('nothing cacheable: edits still queued');
  const envelope = Y.encodeStateAsUpdate(envelopeDoc);
  return {
    access: profile.access,
    envelope,
    plain: Y.encodeStateAsUpdate(plainDoc),
    sealedCache: await sealPlainCache({ ...contents, writer: true }, profile.access.docId, cache),
    records: envelopeDoc.getMap(ENVELOPE_MAP).size,
    uploads: [...before, { signer, envelope }],
  };
}

/** `edits` seeded edits on `profile`, each sealed as its own record; returns the next index. */
async function write(profile: Profile, from: number, edits: number, rnd: () => number): Promise<number> {
  const { plainDoc, sync } = engineOf(profile);
  for (let i = from; i < from + edits; i++) {
    historyEdit(plainDoc, i, rnd);
    await sync.flush();
  }
  return from + edits;
}

/** One profile's history, kept at each checkpoint (edit counts, ascending). */
export async function historyDocs(owner: SigningKeyPair, cache: PlainCacheOptions, checkpoints: readonly number[]): Promise<CurveDoc[]> {
  const profile = await Profile.create({ signer: owner });
  const rnd = prng(13);
  const kept: CurveDoc[] = [];
  let done = 0;
  for (const target of checkpoints) {
    done = await write(profile, done, target - done, rnd);
    kept.push(await keep(profile, cache, owner));
  }
  await profile.close();
  return kept;
}

/** `count` profiles of one owner (a family's), `edits` edits each. */
export async function manyDocs(owner: SigningKeyPair, cache: PlainCacheOptions, count: number, edits: number): Promise<CurveDoc[]> {
  const rnd = prng(1313);
  const docs: CurveDoc[] = [];
  for (let n = 0; n < count; n++) {
    const profile = await Profile.create({ signer: owner });
    await write(profile, 0, edits, rnd);
    docs.push(await keep(profile, cache, owner));
    await profile.close();
  }
  return docs;
}

/**
 * One profile with `members` members (the owner and members - 1 editors, each added by the
 * owner's membership record) who take turns writing `edits` edits in all: each member's device
 * opens the envelope as the others left it (every record verified), writes its share and hands
 * its envelope on, as a relay would.
 */
export async function membersDoc(owner: SigningKeyPair, cache: PlainCacheOptions, members: number, edits: number): Promise<CurveDoc> {
  const others = Array.from({ length: members - 1 }, () => generateSigningKeyPair());
  const created = await Profile.create({ signer: owner });
  for (const m of others) await created.addMember({ publicKey: m.publicKey, role: Role.editor, expiresAt: 0 });
  const access = created.access;
  const relayed = new Y.Doc();
  const uploads: Upload[] = [];
  const handOn = (p: Profile, signer: SigningKeyPair) => {
    Y.applyUpdate(relayed, Y.encodeStateAsUpdate(engineOf(p).envelopeDoc));
    uploads.push({ signer, envelope: Y.encodeStateAsUpdate(relayed) });
  };
  const rnd = prng(131);
  const share = Math.floor(edits / members);
  let done = await write(created, 0, edits - share * (members - 1), rnd);
  await engineOf(created).sync.flush();
  handOn(created, owner);
  await created.close();
  for (const m of others) {
    const p = await Profile.open({ signer: m, access, persistence: storedDevice(Y.encodeStateAsUpdate(relayed)) });
    done = await write(p, done, share, rnd);
    await engineOf(p).sync.flush();
    handOn(p, m);
    await p.close();
  }
  const last = await Profile.open({ signer: owner, access, persistence: storedDevice(Y.encodeStateAsUpdate(relayed)) });
  if (last.status.value.problems.length > 0) throw new Error(`members doc problems: ${JSON.stringify(last.status.value.problems.slice(0, 2))}`);
  const doc = await keep(last, cache, owner, uploads);
  await last.close();
  return doc;
}

/** Whether `doc` holds exactly the state `update` encodes (same clients, same clocks). */
export function sameState(doc: Y.Doc, update: Uint8Array): boolean {
  const want = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update));
  const have = Y.decodeStateVector(Y.encodeStateVector(doc));
  return want.size === have.size && [...want].every(([client, clock]) => have.get(client) === clock);
}
