/**
 * A live envelope to attack, built the honest way (real Profiles, in memory) from fixed seeds so
 * every fuzz case starts from the same bytes: an owner, an editor, a viewer, a clinician with a
 * time limit, a removed editor who wrote before removal, a stranger; edits by several authors, a
 * compaction (so deleted keys exist), more edits after it, and audit entries. Also a pool of
 * fresh, well-signed records of every type from every role, for generators to place anywhere.
 */
import * as Y from 'yjs';
import { createNodeCryptoEngine } from '../../src/lib/crypto/ed25519-node.ts';
import { generateSigningKeyPair, seededRandom, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import {
  encodeMembershipExt,
  encodeEraseExt,
  encodeSnapshotExt,
  encodeUpdatePayload,
  ENVELOPE_MAP,
  parseRecord,
  recordKey,
  RecordType,
  Role,
  sealRecord,
  ZERO_HASH,
  type ParsedRecord,
  type RecordTypeCode,
} from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

export const T0 = Date.UTC(2026, 11, 1, 12);
export const engine = createNodeCryptoEngine();

export type RoleName = 'owner' | 'editor' | 'viewer' | 'clinician' | 'removed' | 'stranger';
export const ROLES: readonly RoleName[] = ['owner', 'editor', 'viewer', 'clinician', 'removed', 'stranger'];

export interface ExistingItem {
  readonly client: number;
  readonly clock: number;
  readonly key: string;
  readonly live: boolean;
  readonly bytes: Uint8Array | undefined;
}

export interface PoolRecord {
  readonly role: RoleName;
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly record: ParsedRecord;
}

export interface World {
  readonly docId: Uint8Array;
  readonly state: Uint8Array;
  readonly keys: Readonly<Record<RoleName, SigningKeyPair>>;
  readonly items: readonly ExistingItem[];
  readonly clients: readonly number[];
  /** Fresh well-signed records (not in the envelope) by role. */
  readonly pool: readonly PoolRecord[];
  readonly ownerClient: number;
  /** Who owns each envelope clientID (what the relay persists beside the doc). */
  readonly bindings: ReadonlyArray<readonly [number, string]>;
  readonly epoch: number;
  /** The creator's genesis nonce: what lets the owner connect to a relay that has nothing yet. */
  readonly genesisNonce: Uint8Array;
  readonly epochKey: import('../../src/lib/crypto/index.ts').SymmetricKey;
}

const relayAll = (from: Profile, to: Profile) => Y.applyUpdate(engineOf(to).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));

export function itemsOf(state: Uint8Array): ExistingItem[] {
  const { structs, ds } = Y.decodeUpdate(state);
  const deleted = (client: number, clock: number) => (ds.clients.get(client) ?? []).some((r) => clock >= r.clock && clock < r.clock + r.len);
  const out: ExistingItem[] = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item) || typeof s.parentSub !== 'string') continue;
    const bytes = s.content instanceof Y.ContentBinary ? s.content.content : undefined;
    out.push({ client: s.id.client, clock: s.id.clock, key: s.parentSub, live: bytes !== undefined && !deleted(s.id.client, s.id.clock), bytes });
  }
  return out;
}

let cached: Promise<World> | undefined;
export const buildWorld = (): Promise<World> => (cached ??= build());

async function build(): Promise<World> {
  const rnd = seededRandom(20261201);
  const keys = Object.fromEntries(ROLES.map((r) => [r, generateSigningKeyPair(rnd)])) as Record<RoleName, SigningKeyPair>;
  const now = () => T0;
  const common = { engine, now, random: seededRandom(7), compactEvery: 100_000, batchWindowMs: 0 };
  const genesisNonce = rnd(16);
  const a = await Profile.create({
    ...common,
    signer: keys.owner,
    genesisNonce,
    members: [
      { publicKey: keys.editor.publicKey, role: Role.editor, expiresAt: 0 },
      { publicKey: keys.viewer.publicKey, role: Role.viewer, expiresAt: 0 },
      { publicKey: keys.clinician.publicKey, role: Role.clinician, expiresAt: T0 + 3_600_000 },
      { publicKey: keys.removed.publicKey, role: Role.editor, expiresAt: 0 },
    ],
  });
  const b = await Profile.open({ ...common, random: seededRandom(8), signer: keys.editor, access: a.access });
  const r = await Profile.open({ ...common, random: seededRandom(9), signer: keys.removed, access: a.access });
  engineOf(a).envelopeDoc.clientID = 1_000_000;
  engineOf(b).envelopeDoc.clientID = 2_000_000;
  engineOf(r).envelopeDoc.clientID = 3_000_000;
  let everyone = [a, b, r];
  const exchange = async () => {
    for (const x of everyone) await engineOf(x).sync.flush();
    for (const x of everyone) for (const y of everyone) if (x !== y) relayAll(x, y);
    for (const x of everyone) await engineOf(x).sync.flush();
  };
  await exchange();
  for (let i = 0; i < 4; i++) {
    setField(a, 'allergies', `a${i}`, `owner ${i}`);
    await engineOf(a).sync.flush();
    setField(b, 'conditions', `c${i}`, `editor ${i}`);
    await engineOf(b).sync.flush();
  }
  setField(r, 'medications', 'm0', 'from a relative later removed');
  await exchange();
  setField(b, 'conditions', 'late', 'the editor, just before a removal rotates the key');
  await exchange();
  await a.removeMember(keys.removed.publicKey);
  await exchange();
  await r.close(); // a removed member's replica waits for write access it will never get
  everyone = [a, b];
  await engineOf(a).sync.compact();
  await exchange();
  setField(a, 'allergies', 'after', 'after the snapshot');
  await engineOf(a).sync.flush();
  await a.audit('export');
  await exchange();
  const state = Y.encodeStateAsUpdate(engineOf(a).envelopeDoc);
  const docId = a.access.docId;
  const epochKey = a.access.epochKeys.get(engineOf(a).sync.currentEpoch) ?? a.access.epochKeys.get(0)!;
  const heads = new Map(ROLES.map((role) => [role, engineOf(a).sync.chainOf(toHex(keys[role].publicKey))]));
  const pool: PoolRecord[] = [];
  const seal = async (role: RoleName, type: RecordTypeCode, seq: number, o: { ext?: Uint8Array; prev?: Uint8Array } = {}) => {
    const plain = new Y.Doc();
    plain.clientID = 424242 + seq;
    plain.getMap('allergies').set(`forged-${role}-${seq}`, 'CANARY-FUZZ');
    const sealed = await sealRecord({
      header: { type, docId, epoch: engineOf(a).sync.currentEpoch, author: keys[role].publicKey, seq, prev: o.prev ?? ZERO_HASH, ext: o.ext ?? new Uint8Array(0) },
      payload: type === RecordType.membership || type === RecordType.lockbox || type === RecordType.erase ? new Uint8Array(0) : encodeUpdatePayload({ sessions: [1], update: Y.encodeStateAsUpdateV2(plain) }),
      key: epochKey,
      secretKey: keys[role].secretKey,
      engine,
      random: rnd,
    });
    const parsed = parseRecord(sealed.bytes);
    if (!parsed.ok) throw new Error(parsed.code);
    pool.push({ role, key: recordKey(parsed.value), bytes: sealed.bytes, record: parsed.value });
  };
  const clock = engineOf(a).sync.index.membership.nextClock;
  for (const role of ROLES) {
    const head = heads.get(role)!;
    await seal(role, RecordType.update, head.seq + 1, { prev: head.head });
    await seal(role, RecordType.update, head.seq + 2);
    await seal(role, RecordType.update, Math.max(1, head.seq)); // a fork or a replay of a used seq
    await seal(role, RecordType.audit, head.seq + 1, { prev: head.head });
    const coverage = [...heads.entries()].filter(([, h]) => h.seq > 0).map(([r, h]) => ({ author: keys[r].publicKey, seq: h.seq, head: h.head }));
    await seal(role, RecordType.snapshot, head.seq + 1, { prev: head.head, ext: encodeSnapshotExt({ prevSnapshot: ZERO_HASH, coverage }) });
    await seal(role, RecordType.membership, head.seq + 1, {
      prev: head.head,
      ext: encodeMembershipExt({ kind: 'set', clock, member: { publicKey: keys[role].publicKey, role: Role.owner, expiresAt: 0 } }),
    });
    await seal(role, RecordType.membership, head.seq + 1, {
      prev: head.head,
      ext: encodeMembershipExt({ kind: 'remove', clock, publicKey: keys.owner.publicKey }),
    });
    // Erase orders (decision 0035): every non-owner's, and the owner's malformed one, must be
    // refused. The owner's valid erase is not in the pool: it ends the document at the relay
    // (tests/server/erase-relay.test.ts), which the in-process model does not play.
    if (role !== 'owner') await seal(role, RecordType.erase, head.seq + 1, { prev: head.head, ext: encodeEraseExt({ erasedAt: 1 }) });
    else await seal(role, RecordType.erase, head.seq + 1, { prev: head.head, ext: new Uint8Array(3) });
  }
  const items = itemsOf(state);
  const clients = [...new Set(items.map((i) => i.client))];
  const owners = new Map<number, string>([
    [1_000_000, toHex(keys.owner.publicKey)],
    [2_000_000, toHex(keys.editor.publicKey)],
    [3_000_000, toHex(keys.removed.publicKey)],
  ]);
  for (const it of items) {
    const r = it.bytes ? parseRecord(it.bytes) : undefined;
    if (r?.ok && !owners.has(it.client)) owners.set(it.client, toHex(r.value.header.author));
  }
  for (const p of everyone) await p.close();
  return { docId, state, keys, items, clients, pool, ownerClient: 1_000_000, bindings: [...owners], epoch: engineOf(a).sync.currentEpoch, epochKey, genesisNonce };
}

export const liveKeysOf = (doc: Y.Doc): string[] => [...doc.getMap<Uint8Array>(ENVELOPE_MAP).keys()].sort();
