/**
 * One fuzz case: a sequence of generated updates against a copy of the world's envelope, each
 * checked by the shared policy exactly as the relay does. After every accepted update the
 * *effects* are checked on the doc Yjs actually produced, independently of the policy's own
 * bookkeeping; a refused one must leave everything as it was. Returns a failure description,
 * or undefined.
 */
import * as Y from 'yjs';
import { toHex } from '../../src/lib/crypto/index.ts';
import {
  checkEnvelopeUpdate,
  ENVELOPE_MAP,
  isWriterRole,
  parseRecord,
  rebuildEnvelopeIndex,
  recordKey,
  RecordType,
  snapshotCovers,
  snapshotExtOf,
  verifyRecord,
  type EnvelopeIndex,
  type ParsedRecord,
  type SnapshotExt,
} from '../../src/lib/protocol/index.ts';
import { createPrng } from '../helpers/prng.ts';
import { honestCompaction, honestRecord, hostileUpdate, type Current, type Generated } from './hostile.ts';
import { engine, itemsOf, T0, type World } from './envelope-world.ts';
import { hasPending } from '../../src/lib/sync/yjs-internals.ts';

export interface CaseResult {
  readonly accepted: number;
  readonly refused: number;
  readonly codes: Map<string, number>;
  readonly failure?: string;
}

const liveRecords = (doc: Y.Doc): Map<string, Uint8Array> => new Map(doc.getMap<Uint8Array>(ENVELOPE_MAP).entries());
const membersOf = (index: EnvelopeIndex) => JSON.stringify([...index.membership.members()].map(([k, m]) => [k, m.role, m.expiresAt]).sort());

export async function runCase(world: World, seed: number, steps = 4, trace = false): Promise<CaseResult> {
  const prng = createPrng(seed);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, world.state);
  const index = rebuildEnvelopeIndex(world.docId, world.state, world.bindings).index;
  const codes = new Map<string, number>();
  let accepted = 0;
  let refused = 0;
  /** clientID → signer of the records seen on it (the oracle's own binding, from the docs). */
  const binding = new Map<number, string>();
  const bind = (state: Uint8Array) => {
    for (const it of itemsOf(state)) {
      if (!it.bytes) continue;
      const r = parseRecord(it.bytes);
      if (r.ok && !binding.has(it.client)) binding.set(it.client, toHex(r.value.header.author));
    }
  };
  bind(world.state);
  const own = prng.int(1, 2 ** 32 - 1);
  for (let step = 0; step < steps; step++) {
    const before = Y.encodeStateAsUpdate(doc);
    const cur: Current = { items: itemsOf(before), stateOf: (c) => Y.getState(doc.store, c) };
    const roll = prng.next();
    // Honest steps by whoever is still a writer (an owner's legitimate op may have removed one).
    const writers = (['owner', 'editor'] as const).filter((r) => isWriterRole(index.membership.roleOf(world.keys[r].publicKey, T0)));
    const ownerWrites = writers.includes('owner');
    const gen: Generated =
      roll < 0.12 && writers.length > 0 ? await honestRecord(prng, world, cur, { seq: 10_000 + step, writers })
      : roll < 0.17 && ownerWrites ? await honestCompaction(prng, world, cur, { seq: 10_000 + step })
      : hostileUpdate(prng, world, cur, own);
    const liveBefore = liveRecords(doc);
    if (trace) console.log(`step ${step}: ${gen.label}`);
    const membersBefore = membersOf(index);
    const verdict = await checkEnvelopeUpdate(gen.bytes, index, {
      engine,
      now: T0,
      stateOf: (c) => Y.getState(doc.store, c),
      sender: toHex(world.keys[gen.sender].publicKey),
    });
    if (trace) console.log(`  -> ${verdict.ok ? 'accepted' : verdict.code}`);
    if (!verdict.ok) {
      refused++;
      codes.set(verdict.code, (codes.get(verdict.code) ?? 0) + 1);
      if (gen.honest) return { accepted, refused, codes, failure: `honest update refused (${verdict.code}): ${gen.label}` };
      if (membersOf(index) !== membersBefore) return { accepted, refused, codes, failure: `refused update changed the index: ${gen.label}` };
      continue;
    }
    accepted++;
    codes.set(gen.honest ? "accepted-honest" : "accepted-hostile", (codes.get(gen.honest ? "accepted-honest" : "accepted-hostile") ?? 0) + 1);
    verdict.value.commit();
    try {
      Y.applyUpdate(doc, gen.bytes);
    } catch (e) {
      return { accepted, refused, codes, failure: `accepted update throws in Yjs (${(e as Error).message}): ${gen.label}` };
    }
    const problem = await checkEffects({ world, doc, index, liveBefore, membersBefore, gen, binding, deleted: verdict.value.deleted });
    if (problem) return { accepted, refused, codes, failure: `${problem}: ${gen.label}` };
    bind(Y.encodeStateAsUpdate(doc));
  }
  return { accepted, refused, codes };
}

async function checkEffects(o: {
  world: World;
  doc: Y.Doc;
  index: EnvelopeIndex;
  liveBefore: Map<string, Uint8Array>;
  membersBefore: string;
  gen: Generated;
  binding: Map<number, string>;
  deleted: readonly string[];
}): Promise<string | undefined> {
  const { doc, index, liveBefore } = o;
  if (hasPending(doc)) return 'update left pending structs or deletes in Yjs';
  const liveAfter = liveRecords(doc);
  const parsedAfter = new Map<string, ParsedRecord>();
  for (const [k, bytes] of liveAfter) {
    if (!(bytes instanceof Uint8Array)) return `live key ${k.slice(0, 8)} holds a non-binary value`;
    const r = parseRecord(bytes);
    if (!r.ok || recordKey(r.value) !== k) return `live key ${k.slice(0, 8)} does not hold its own record`;
    parsedAfter.set(k, r.value);
  }
  // I1: every live record stays live unless a snapshot (live before or after) covers it.
  const snapshots: SnapshotExt[] = [];
  for (const bytes of [...liveBefore.values(), ...liveAfter.values()]) {
    const r = parseRecord(bytes);
    const ext = r.ok ? snapshotExtOf(r.value) : undefined;
    if (ext) snapshots.push(ext);
  }
  for (const [k, bytes] of liveBefore) {
    if (liveAfter.has(k)) {
      if (Buffer.compare(Buffer.from(liveAfter.get(k)!), Buffer.from(bytes)) !== 0) return `live key ${k.slice(0, 8)} changed value`;
      continue;
    }
    const r = parseRecord(bytes);
    if (!r.ok) return 'a lost value was not a record';
    const target = snapshotExtOf(r.value);
    if (!snapshots.some((s) => s !== target && snapshotCovers(s, r.value, target))) return `record ${k.slice(0, 8)} (type ${r.value.header.type}) lost without a covering snapshot`;
    if (!o.deleted.includes(k)) return `record ${k.slice(0, 8)} lost but not reported as deleted`;
  }
  // I5: every new live record verifies and its signer may write its type.
  const items = new Map(itemsOf(Y.encodeStateAsUpdate(doc)).map((i) => [i.key, i]));
  const newOnClient = new Map<number, string[]>();
  for (const [k, r] of parsedAfter) {
    if (liveBefore.has(k)) continue;
    if (!(await verifyRecord(r, engine)).ok) return `new record ${k.slice(0, 8)} does not verify`;
    const role = index.membership.roleOf(r.header.author, T0);
    const t = r.header.type;
    if ((t === RecordType.update || t === RecordType.snapshot) && !isWriterRole(role)) return `record of type ${t} from a non-writer`;
    if (t === RecordType.lockbox && role !== 1) return 'lockbox from a non-owner';
    if (t === RecordType.erase) return role === 1 ? 'an erase order the pool holds only malformed' : 'erase from a non-owner';
    const it = items.get(k)!;
    const list = newOnClient.get(it.client) ?? [];
    list.push(toHex(r.header.author));
    newOnClient.set(it.client, list);
  }
  // I4: a clientID that carried someone's records carries only theirs.
  for (const [client, authors] of newOnClient) {
    const owner = o.binding.get(client);
    if (owner !== undefined && authors.some((a) => a !== owner)) return `clientID ${client} of one signer now carries another's record`;
  }
  // The relay's index equals the doc, and so does an index rebuilt from storage (a restart).
  const indexKeys = index.liveKeys().sort().join();
  const docKeys = [...liveAfter.keys()].sort().join();
  if (indexKeys !== docKeys) return 'relay index differs from the live keys';
  const rebuilt = rebuildEnvelopeIndex(o.world.docId, Y.encodeStateAsUpdate(doc), index.clientBindings());
  if (rebuilt.quarantined.length > 0) return `rebuild quarantined ${rebuilt.quarantined.map((q) => q.code).join()}`;
  if (rebuilt.index.liveKeys().sort().join() !== docKeys) return 'rebuilt index differs from the live keys';
  if (membersOf(rebuilt.index) !== membersOf(index)) return 'rebuilt membership differs from the live fold';
  // Membership changes only by an owner's records.
  if (membersOf(index) !== o.membersBefore) {
    const byOwner = [...parsedAfter].some(([k, r]) => !liveBefore.has(k) && r.header.type === RecordType.membership);
    if (!byOwner) return 'membership changed without a membership record';
  }
  return undefined;
}
