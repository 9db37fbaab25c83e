/**
 * Attacking the reconsideration of leavers' refusals (sync/leaver-refusals.ts, threat model
 * 24c): a replica keeps a removed member's refused record and lets it count once a snapshot
 * covers its seq. Could that let anything in that a replica given everything in order refuses?
 *
 * Seeded runs: a removed editor (Leo), a viewer (Vic) and a stranger (Sam) add records through a
 * relay that takes whatever they send (the relay is not trusted here): Leo's next record after
 * his removal (an update or an audit entry), a record at a seq a snapshot covers (a fork of his
 * own chain), one far ahead; Vic's edit; Sam's edit and audit entry. Every edit carries a canary.
 * Fresh replicas then receive the relay's updates in seeded random orders. Each must end exactly
 * where a replica that got them in order ends (fields, note, audit trail, refused keys), and no
 * canary may reach any plain doc. More runs: FHV_LEAVER_RUNS=40; a given seed: TEST_SEED=….
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { nobleEngine, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { RecordType, Role, ZERO_HASH, type RoleCode } from '../../src/lib/protocol/index.ts';
import { auditEntryHash, signAuditEntry } from '../../src/lib/protocol/audit.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';
import { createPrng, withSeed, type Prng } from '../helpers/prng.ts';
import { setField } from '../helpers/raw-edits.ts';
import { envelopeOf, newMember, trackProfiles } from '../helpers/tracked-profiles.ts';
import { hasPending } from '../../src/lib/sync/yjs-internals.ts';

const FILE = 'tests/sync/leaver-hostile.test.ts';
const RUNS = Number(process.env.FHV_LEAVER_RUNS ?? 8);
const REPLICAS = 3;
const CANARY = 'CANARY-leaver-7f3a';

const { track } = trackProfiles();

async function deliver(to: Profile, update: Uint8Array): Promise<void> {
  Y.applyUpdate(envelopeOf(to), update, 'relay');
  await engineOf(to).sync.flush();
}

/**
 * Delivery as a client's gate does it (sync/client-gate.ts `pumpRemote`): the relay's
 * updates collect in a wire doc, and nothing reaches the envelope while the wire holds structs
 * Yjs could not integrate yet (else a compaction's deletes would land before its snapshot, which
 * waits for an earlier struct). The gate's own checks are not modelled: the inbox's are.
 */
async function deliverThroughWire(to: Profile, wire: Y.Doc, update: Uint8Array): Promise<void> {
  Y.applyUpdate(wire, update);
  if (hasPending(wire)) return;
  await deliver(to, Y.encodeStateAsUpdate(wire, Y.encodeStateVector(envelopeOf(to))));
}
const missing = (from: Y.Doc, to: Profile) => Y.encodeStateAsUpdate(from, Y.encodeStateVector(envelopeOf(to)));

/** What a replica shows: every field, the note, the audit trail and the keys it refused. */
async function viewOf(p: Profile) {
  const plain = engineOf(p).plainDoc;
  return {
    allergies: Object.fromEntries([...plain.getMap('allergies').entries()].sort()),
    note: plain.getText('note:shared').toString(),
    trail: (await p.auditTrail()).events.map((e) => `${e.actor}:${e.kind}:${e.at}`).sort(),
    refused: p.status.value.problems.map((x) => `${x.code}:${'key' in x ? x.key : ''}`).sort(),
  };
}

async function run(prng: Prng): Promise<void> {
  console.log(`${FILE}: seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} FHV_LEAVER_RUNS=1 npx vitest run ${FILE}`);
  const [alice, carol, leo, vic, sam] = [newMember(), newMember(), newMember(), newMember(), newMember()];
  const entry = (m: ReturnType<typeof newMember>, role: RoleCode) => ({ publicKey: m.signer.publicKey, boxKey: m.box.publicKey, role, expiresAt: 0 });
  const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000, members: [entry(carol, Role.editor), entry(leo, Role.editor), entry(vic, Role.viewer)] }));
  const access = () => ({ docId: a.access.docId, epoch: 0, epochKeys: new Map(a.access.epochKeys) });
  const docId = a.access.docId;
  const key0 = a.access.epochKeys.get(0)!;

  // The relay: a doc that takes every update anyone sends; what it forwards is logged in order.
  const relay = new Y.Doc();
  const log: Uint8Array[] = [];
  relay.on('update', (u: Uint8Array) => log.push(u));
  Y.applyUpdate(relay, Y.encodeStateAsUpdate(envelopeOf(a)), 'alice');
  envelopeOf(a).on('update', (u: Uint8Array) => Y.applyUpdate(relay, u, 'alice'));

  // Leo writes while a member (edits, sometimes an audit entry), seen by Alice.
  const l = track(await Profile.open({ ...leo, access: access() }));
  await deliver(l, Y.encodeStateAsUpdate(relay));
  const honest = prng.int(1, 4);
  for (let i = 0; i < honest; i++) {
    setField(l, 'allergies', `leo-${i}`, `seen-${i}`);
    await engineOf(l).sync.flush();
    if (prng.bool(0.4)) await l.audit('export');
    await engineOf(l).sync.flush();
  }
  Y.applyUpdate(relay, Y.encodeStateAsUpdate(envelopeOf(l), Y.encodeStateVector(relay)), 'leo');
  await deliver(a, missing(relay, a));
  if (prng.bool(0.5)) await engineOf(a).sync.compact();
  setField(a, 'allergies', 'alice', 'before-removal');
  await engineOf(a).sync.flush();
  await a.removeMember(leo.signer.publicKey);
  await engineOf(a).sync.flush();

  // Hostile records, each its own update through the relay, in a seeded order.
  const leoHead = engineOf(l).sync.chainOf(toHex(leo.signer.publicKey));
  const canaryEdit = (who: string) => (doc: Y.Doc) => doc.getMap('allergies').set(`${who}-canary`, CANARY);
  // Audit entries that continue the author's own audit chain (a well-formed, signed entry).
  const auditBy = async (m: { signer: SigningKeyPair }, from: Profile) => {
    const mine = engineOf(from).sync.auditEntries().get(toHex(m.signer.publicKey)) ?? [];
    const last = mine.at(-1);
    const entry = { kind: 'export' as const, at: Date.now(), actor: m.signer.publicKey, detail: 'hostile', seq: mine.length + 1, prev: last ? auditEntryHash(last) : new Uint8Array(32) };
    return signAuditEntry({ entry, secretKey: m.signer.secretKey, engine: nobleEngine });
  };
  const hostile = [
    async () => forgeRecord({ signer: leo.signer, docId, key: key0, seq: leoHead.seq + 1, prev: leoHead.head, edit: canaryEdit('leo-next') }),
    async () => forgeRecord({ signer: leo.signer, docId, key: key0, seq: leoHead.seq + 1, prev: leoHead.head, type: RecordType.audit, payload: await auditBy(leo, l) }),
    async () => ({ ...(await forgeRecord({ signer: leo.signer, docId, key: key0, seq: prng.int(1, leoHead.seq), prev: ZERO_HASH, edit: canaryEdit('leo-fork') })), fork: true }),
    async () => forgeRecord({ signer: leo.signer, docId, key: key0, seq: leoHead.seq + prng.int(2, 50), prev: leoHead.head, edit: canaryEdit('leo-ahead') }),
    async () => forgeRecord({ signer: vic.signer, docId, key: key0, seq: 1, edit: canaryEdit('vic') }),
    async () => forgeRecord({ signer: sam.signer, docId, key: key0, seq: 1, edit: canaryEdit('sam') }),
    async () => forgeRecord({ signer: sam.signer, docId, key: key0, seq: 2, type: RecordType.audit, payload: await auditBy(sam, l) }),
  ];
  const forks = new Set<string>();
  for (const make of prng.shuffled(hostile).slice(0, prng.int(3, hostile.length))) {
    const r: { key: string; bytes: Uint8Array; fork?: boolean } = await make();
    inject(relay, r.key, r.bytes);
    if (r.fork) forks.add(r.key);
  }

  // A replica given everything in order, then fresh replicas given the same updates shuffled.
  const reference = track(await Profile.open({ ...carol, access: access() }));
  for (const u of log) await deliver(reference, u);
  const expected = await viewOf(reference);
  expect(JSON.stringify(expected)).not.toContain(CANARY);
  expect(expected.allergies).toMatchObject({ alice: 'before-removal', 'leo-0': 'seen-0' });
  // Nothing Leo sent after his removal counts: his entries and fields are what Alice saw.
  const byLeo = (trail: string[]) => trail.filter((e) => e.startsWith(toHex(leo.signer.publicKey)));
  const alices = await viewOf(a);
  expect(byLeo(expected.trail)).toEqual(byLeo(alices.trail));
  expect(expected.allergies).toEqual(alices.allergies);
  const leoHex = toHex(leo.signer.publicKey);
  expect(engineOf(reference).sync.chainOf(leoHex).seq).toBe(leoHead.seq);
  for (let i = 0; i < REPLICAS; i++) {
    const c = track(await Profile.open({ ...carol, access: access() }));
    // Whether one of Leo's forged records landed while this replica still counted him a member:
    // the relay showed it before the removal (threat model, Known limits).
    let early = false;
    const wire = new Y.Doc();
    for (const u of prng.shuffled(log)) {
      // Odd replicas take the relay's updates straight into the envelope, as if no gate held them.
      if (i % 2 === 0) await deliverThroughWire(c, wire, u);
      else await deliver(c, u);
      const member = engineOf(c).sync.index.membership.state().members.has(leoHex);
      const leoCanary = [...engineOf(c).plainDoc.getMap('allergies').keys()].some((k) => k.startsWith('leo-') && k.endsWith('-canary'));
      if (member && (leoCanary || engineOf(c).sync.chainOf(leoHex).seq > leoHead.seq)) early = true;
    }
    expect(hasPending(i % 2 === 0 ? wire : envelopeOf(c))).toBe(false);
    const view = await viewOf(c);
    // The viewer's, the stranger's and the record far ahead never land, in any order.
    const landed = Object.keys(view.allergies).filter((k) => k.endsWith('-canary'));
    expect(landed.filter((k) => k !== 'leo-next-canary' && k !== 'leo-fork-canary')).toEqual([]);
    if (!early) {
      // A second record at a seq Leo used is refused (RECORD_BAD_CHAIN) by a replica that sees it
      // before the snapshot covering that seq, and dropped unreported behind it ('covered',
      // sync/chain-rules.ts): either way it changes nothing, which the rest of the view shows.
      const unforked = (v: typeof view) => ({ ...v, refused: v.refused.filter((x) => ![...forks].some((k) => x.endsWith(`:${k}`))) });
      expect(unforked(view)).toEqual(unforked(expected));
      continue;
    }
    // The known limits (threat model, "Known limits"): what this replica took from Leo before it
    // saw his removal stays here: his next record, or a second record at a seq he had used. The
    // second is equivocation: when his first record at that seq arrives it is refused
    // (RECORD_FORK), and so is every snapshot that names it, so this replica stops following
    // those snapshots' authors, visibly. Either way nobody else's writing is forged here.
    const others = (v: typeof view) => ({
      allergies: Object.fromEntries(Object.entries(v.allergies).filter(([k]) => !k.startsWith('leo-'))),
      trail: v.trail.filter((e) => !e.startsWith(leoHex)),
    });
    const wedged = view.refused.some((x) => x.startsWith('RECORD_FORK:'));
    console.log(`${FILE}: replica ${i} took a forged record of Leo's before seeing his removal (known limit, threat model 24c)${wedged ? '; it refuses the snapshots naming his first record (RECORD_FORK)' : ''}`);
    if (!wedged) expect(others(view)).toEqual(others(expected));
    // Wedged, it shows less, never something else: what it shows of others is theirs.
    else expect(expected.allergies).toMatchObject(others(view).allergies), expect(others(expected).trail).toEqual(expect.arrayContaining(others(view).trail));
    expect(byLeo(view.trail).length - byLeo(expected.trail).length).toBeLessThanOrEqual(1);
    await c.close();
  }
}

/**
 * Counter-examples found by this test, rerun first every time: 230254697 (a compaction's deletes
 * integrated before its snapshot, which waited in Yjs's pending structs: the inbox reported
 * ENVELOPE_RECORD_ERASED for good; it now waits while the envelope holds pending structs),
 * 127594434 (a fork refused as RECORD_BAD_CHAIN here, dropped behind a snapshot there),
 * 1051828507 and 1122013975 (a fork taken before the removal: equivocation, the known limit).
 */
const FIXTURES = [230254697, 127594434, 1051828507, 1122013975];

describe('hostile records around a member’s removal, in any order', () => {
  it('the counter-examples found so far still hold', { timeout: 120_000 }, async () => {
    for (const seed of FIXTURES) {
      try {
        await run(createPrng(seed));
      } catch (e) {
        (e as Error).message += `\n  seed: ${seed}\n  rerun: TEST_SEED=${seed} FHV_LEAVER_RUNS=1 npx vitest run ${FILE}`;
        throw e;
      }
    }
  });

  it('every replica ends where the in-order one does, but for what it applied before seeing the removal', { timeout: 240_000 }, async () => {
    for (let i = 0; i < RUNS; i++) await withSeed(FILE, 'every replica ends where the in-order one does', (prng) => run(prng));
  });
});
