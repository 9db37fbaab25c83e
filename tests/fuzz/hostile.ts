/**
 * Seeded generators of envelope updates: hostile ones from every role (random structs, keys
 * drawn from existing keys, clientIDs below and above honest ones, origins pointing at existing
 * items, delete sets, every content kind, copies of others' history, GC and skip structs) and
 * honest ones (a writer's next record, an owner's compaction) that the policy must accept.
 */
import { toHex } from '../../src/lib/crypto/index.ts';
import { decodeSnapshotExt, encodeSnapshotExt, encodeUpdatePayload, parseRecord, recordKey, RecordType, sealRecord, ZERO_HASH, type RecordTypeCode } from '../../src/lib/protocol/index.ts';
import type { Prng } from '../helpers/prng.ts';
import { encodeRawUpdate, structLength, type RawBlock, type RawContent, type RawDeleteRange, type RawStruct } from './raw-update.ts';
import { engine, ROLES, type ExistingItem, type RoleName, type World } from './envelope-world.ts';

export interface Current {
  readonly items: readonly ExistingItem[];
  stateOf(client: number): number;
}

export interface Generated {
  readonly bytes: Uint8Array;
  readonly sender: RoleName;
  /** Honest updates must be accepted. */
  readonly honest: boolean;
  readonly label: string;
}

const fuzzKey = (prng: Prng) => Buffer.from(prng.bytes(prng.pick([1, 8, 32]))).toString('base64url');

function pickClient(prng: Prng, world: World, cur: Current, own: number): number {
  const victim = prng.pick(cur.items.length > 0 ? cur.items.map((i) => i.client) : world.clients);
  return prng.pick([victim, victim, own, own, victim + 1, Math.max(1, victim - 1), 1, 2 ** 40 + prng.int(0, 9), prng.int(1, 2 ** 32 - 1)]);
}

function pickClock(prng: Prng, state: number): number {
  return prng.pick([state, state, state, Math.max(0, state - 1), state + prng.int(1, 3), 0, prng.int(0, 2 ** 20)]);
}

function content(prng: Prng, world: World, cur: Current): { content: RawContent; key?: string } {
  const roll = prng.next();
  if (roll < 0.55) {
    const p = prng.pick(world.pool);
    return { content: { kind: 'binary', bytes: p.bytes }, key: p.key };
  }
  if (roll < 0.65) {
    const withBytes = cur.items.filter((i) => i.bytes);
    const it = withBytes.length > 0 ? prng.pick(withBytes) : undefined;
    if (it?.bytes) return { content: { kind: 'binary', bytes: it.bytes }, key: it.key };
  }
  if (roll < 0.68) return { content: { kind: 'binary', bytes: prng.bytes(prng.int(0, 300)) } };
  if (roll < 0.9) return { content: { kind: 'deleted', len: prng.pick([1, 1, 1, 2, 3, 1000]) } };
  const other: RawContent[] = [
    { kind: 'string', text: prng.word() },
    { kind: 'any', values: [prng.word(), prng.int(0, 9)] },
    { kind: 'json', values: [{ a: 1 }] },
    { kind: 'type', typeRef: prng.int(0, 6) },
    { kind: 'doc', guid: prng.word() },
    { kind: 'embed', value: { e: 1 } },
    { kind: 'format', key: 'bold', value: true },
  ];
  return { content: prng.pick(other) };
}

function hostileStruct(prng: Prng, world: World, cur: Current): RawStruct {
  const roll = prng.next();
  if (roll < 0.02) return { kind: 'gc', len: prng.int(1, 3) };
  if (roll < 0.04) return { kind: 'skip', len: prng.int(1, 3) };
  const existing = cur.items.length > 0 ? prng.pick(cur.items) : undefined;
  const anyId = () => (existing && prng.bool(0.8) ? { client: existing.client, clock: existing.clock } : { client: prng.int(1, 2 ** 32), clock: prng.int(0, 50) });
  const c = content(prng, world, cur);
  const keyRoll = prng.next();
  const live = cur.items.filter((i) => i.live);
  const dead = cur.items.filter((i) => !i.live);
  const parentSub =
    keyRoll < 0.45 && c.key ? c.key
    : keyRoll < 0.6 && live.length > 0 ? prng.pick(live).key
    : keyRoll < 0.7 && dead.length > 0 ? prng.pick(dead).key
    : keyRoll < 0.9 ? fuzzKey(prng)
    : null;
  return {
    kind: 'item',
    origin: prng.bool(0.1) ? anyId() : null,
    rightOrigin: prng.bool(0.05) ? anyId() : null,
    parent: prng.bool(0.95) ? 'r' : prng.bool(0.5) ? prng.pick(['x', 'R', '']) : anyId(),
    parentSub,
    content: c.content,
  };
}

function hostileDeletes(prng: Prng, cur: Current, blocks: readonly RawBlock[]): RawDeleteRange[] {
  const out: RawDeleteRange[] = [];
  for (let i = prng.int(0, 3); i > 0; i--) {
    const roll = prng.next();
    if (roll < 0.6 && cur.items.length > 0) {
      const it = prng.pick(cur.items);
      out.push({ client: it.client, clock: Math.max(0, it.clock - prng.int(0, 1)), len: prng.int(1, 3) });
    } else if (roll < 0.8 && blocks.length > 0) {
      const b = prng.pick(blocks);
      out.push({ client: b.client, clock: b.clock, len: prng.int(1, 4) });
    } else {
      const client = cur.items.length > 0 && prng.bool() ? prng.pick(cur.items).client : prng.int(1, 2 ** 32);
      out.push({ client, clock: cur.stateOf(client) + prng.int(0, 5), len: prng.int(1, 100) });
    }
  }
  return out;
}

export function hostileUpdate(prng: Prng, world: World, cur: Current, own: number): Generated {
  const sender = prng.pick(ROLES);
  const blocks: RawBlock[] = [];
  for (let b = prng.int(prng.bool(0.1) ? 0 : 1, prng.bool(0.6) ? 1 : 3); b > 0; b--) {
    const client = prng.bool(0.08) && blocks.length > 0 ? blocks[0]!.client : pickClient(prng, world, cur, own);
    const clock = pickClock(prng, cur.stateOf(client));
    const structs = Array.from({ length: prng.int(1, prng.bool(0.7) ? 1 : 3) }, () => hostileStruct(prng, world, cur));
    blocks.push({ client, clock, structs });
  }
  const deletes = hostileDeletes(prng, cur, blocks);
  return { bytes: encodeRawUpdate(blocks, deletes), sender, honest: false, label: `hostile from ${sender}: ${describe(blocks, deletes)}` };
}

function describe(blocks: readonly RawBlock[], deletes: readonly RawDeleteRange[]): string {
  const b = blocks.map((x) => `${x.client}@${x.clock}[${x.structs.map((s) => (s.kind === 'item' ? `${s.content.kind}${s.origin ? '+o' : ''}${s.rightOrigin ? '+ro' : ''}${typeof s.parent === 'string' ? `/${s.parent}` : '/nested'}:${s.parentSub?.slice(0, 6) ?? 'null'}` : s.kind)).join(',')}]`);
  return `${b.join(' ')} ds:${deletes.map((d) => `${d.client}@${d.clock}+${d.len}`).join(',')}`;
}

/** A writer's next record at its own clientID's next clock, sealed now: must be accepted. */
export async function honestRecord(prng: Prng, world: World, cur: Current, o: { seq: number; writers: readonly RoleName[] }): Promise<Generated> {
  const role: RoleName = prng.pick(o.writers);
  const type: RecordTypeCode = prng.pick([RecordType.update, RecordType.update, RecordType.audit]);
  const bytes = await seal(world, role, type, o.seq, new Uint8Array(0), prng);
  const client = role === 'owner' ? world.ownerClient : 2_000_000;
  const block: RawBlock = { client, clock: cur.stateOf(client), structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: recordKey(parse(bytes)), content: { kind: 'binary', bytes } }] };
  return { bytes: encodeRawUpdate([block], []), sender: role, honest: true, label: `honest ${role} record seq ${o.seq}` };
}

/** The owner compacts: a snapshot covering every live update record, deleting them in the same update. */
export async function honestCompaction(prng: Prng, world: World, cur: Current, o: { seq: number }): Promise<Generated> {
  const heads = new Map<string, { seq: number; id: Uint8Array }>();
  const doomed: ExistingItem[] = [];
  for (const it of cur.items) {
    if (!it.live || !it.bytes) continue;
    const r = parse(it.bytes);
    if (r.header.type !== RecordType.update && r.header.type !== RecordType.snapshot) continue;
    doomed.push(it);
    if (r.header.type !== RecordType.update) continue;
    const a = toHex(r.header.author);
    if ((heads.get(a)?.seq ?? 0) < r.header.seq) heads.set(a, { seq: r.header.seq, id: r.id });
  }
  // An older snapshot's coverage must be carried on, or the new one does not replace it.
  for (const it of doomed) {
    const r = parse(it.bytes!);
    if (r.header.type !== RecordType.snapshot) continue;
    const ext = decodeSnapshotExt(r.header.ext);
    if (!ext.ok) continue;
    for (const c of ext.value.coverage) {
      const a = toHex(c.author);
      if ((heads.get(a)?.seq ?? 0) < c.seq) heads.set(a, { seq: c.seq, id: c.head });
    }
    const a = toHex(r.header.author);
    if ((heads.get(a)?.seq ?? 0) < r.header.seq) heads.set(a, { seq: r.header.seq, id: r.id });
  }
  const coverage = [...heads].map(([a, h]) => ({ author: Uint8Array.from(Buffer.from(a, 'hex')) as never, seq: h.seq, head: h.id }));
  const seq = Math.max(o.seq, (heads.get(toHex(world.keys.owner.publicKey))?.seq ?? 0) + 1);
  const bytes = await seal(world, 'owner', RecordType.snapshot, seq, encodeSnapshotExt({ prevSnapshot: ZERO_HASH, coverage }), prng);
  const client = world.ownerClient;
  const block: RawBlock = { client, clock: cur.stateOf(client), structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: recordKey(parse(bytes)), content: { kind: 'binary', bytes } }] };
  const deletes = doomed.map((d) => ({ client: d.client, clock: d.clock, len: 1 }));
  return { bytes: encodeRawUpdate([block], deletes), sender: 'owner', honest: true, label: `honest owner compaction of ${doomed.length} records` };
}

const parse = (bytes: Uint8Array) => {
  const p = parseRecord(bytes);
  if (!p.ok) throw new Error(p.code);
  return p.value;
};

async function seal(world: World, role: RoleName, type: RecordTypeCode, seq: number, ext: Uint8Array, prng: Prng): Promise<Uint8Array> {
  const sealed = await sealRecord({
    header: { type, docId: world.docId, epoch: world.epoch, author: world.keys[role].publicKey, seq, prev: ZERO_HASH, ext },
    payload: encodeUpdatePayload({ sessions: [1], update: new Uint8Array([0, 0]) }),
    key: world.epochKey,
    secretKey: world.keys[role].secretKey,
    engine,
    random: (n) => prng.bytes(n),
  });
  return sealed.bytes;
}

export { structLength };
