/**
 * Records whose effect lives outside the plain doc (audit entries, membership, lockboxes) and
 * records of types this app does not know are kept for ever: a replica opened cold, after
 * compactions, rotations and ended sessions, folds them exactly as a live replica did.
 * Each test fails on the engine before the record-type table (audit entries behind a snapshot
 * were marked done unopened; an ended session's entries were refused; an unknown type stopped
 * its author's chain).
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair, nobleEngine, seededRandom } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, recordKey, RecordType, Role, sealRecord, type RecordTypeCode } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
});
const track = (p: Profile): Profile => (profiles.push(p), p);

/** Exchanges envelope state both ways, as a relay would, and lets both engines settle. */
async function exchange(...ps: Profile[]): Promise<void> {
  for (const from of ps) for (const to of ps) if (from !== to) Y.applyUpdate(engineOf(to).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc), 'relay');
  for (const p of ps) await engineOf(p).sync.flush();
}

const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const summary = async (p: Profile) => {
  const trail = await p.auditTrail();
  return { events: trail.events.map((e) => `${e.actor.slice(0, 8)}:${e.kind}:${e.at}`), failed: trail.chains.filter((c) => !c.ok).length };
};

describe('kept records on a cold replica', () => {
  it('the audit trail survives compaction: a cold replica shows every entry a live one shows', async () => {
    const alice = person();
    const bob = person();
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000 }));
    await a.addMember({ publicKey: bob.signer.publicKey, boxKey: bob.box.publicKey, role: Role.editor, expiresAt: 0 });
    setField(a, 'allergies', 'penicillin', 'anaphylaxis');
    await a.exportJSON(); // audited
    await engineOf(a).sync.flush();
    await engineOf(a).sync.compact();
    const live = await summary(a);
    expect(live.events.length).toBeGreaterThanOrEqual(2);
    const cold = track(await Profile.open({ ...bob, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, cold);
    expect(cold.getField('allergies', 'penicillin')).toBe('anaphylaxis');
    expect(await summary(cold)).toEqual(live);
    expect(cold.status.value.problems).toEqual([]);
  });

  it("a clinician's entries stay in the trail after the session ended and was swept: a replica that first syncs afterwards folds them too", async () => {
    let now = 1_000_000;
    const clock = () => now;
    const alice = person();
    const bob = person();
    const clin = person();
    const a = track(await Profile.create({ ...alice, now: clock, compactEvery: 1_000_000 }));
    await a.addMember({ publicKey: bob.signer.publicKey, boxKey: bob.box.publicKey, role: Role.editor, expiresAt: 0 });
    await a.addMember({ publicKey: clin.signer.publicKey, boxKey: clin.box.publicKey, role: Role.clinician, expiresAt: now + 60_000 });
    const c = track(await Profile.open({ ...clin, now: clock, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, c);
    expect(c.role).toBe(Role.clinician);
    await c.audit('clinician-view');
    await exchange(a, c);
    now += 120_000; // the session ended
    expect(await a.endExpiredAccess()).toBe(1);
    await engineOf(a).sync.flush();
    const live = await summary(a);
    expect(live.events.some((e) => e.startsWith(Buffer.from(clin.signer.publicKey).toString('hex').slice(0, 8)))).toBe(true);
    const late = track(await Profile.open({ ...bob, now: clock, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, late);
    expect(await summary(late)).toEqual(live);
    expect(late.status.value.problems).toEqual([]);
  });

  it("a record type this app does not know is kept, its author's chain continues through it, and compaction never deletes it", async () => {
    const alice = person();
    const bob = person();
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000, members: [{ publicKey: bob.signer.publicKey, role: Role.editor, expiresAt: 0 }] }));
    await engineOf(a).sync.flush();
    const FUTURE_TYPE = 9 as RecordTypeCode;
    const future = await sealRecord({
      header: { type: FUTURE_TYPE, docId: a.access.docId, epoch: 0, author: bob.signer.publicKey, seq: 1, prev: new Uint8Array(32), ext: new Uint8Array([1, 2, 3]) },
      payload: new Uint8Array(0),
      secretKey: bob.signer.secretKey,
      engine: nobleEngine,
      random: seededRandom(1),
    });
    expect(parseRecord(future.bytes).ok).toBe(false); // what the relay and the codec refuse by default
    const lenient = parseRecord(future.bytes, undefined, { unknownTypes: true });
    if (!lenient.ok) throw new Error(lenient.code);
    const futureKey = recordKey(lenient.value);
    const next = await forgeRecord({ signer: bob.signer, docId: a.access.docId, key: a.access.epochKeys.get(0)!, seq: 2, prev: future.id, edit: (d) => d.getMap('conditions').set('asthma', 'mild') });
    inject(engineOf(a).envelopeDoc, futureKey, future.bytes);
    inject(engineOf(a).envelopeDoc, next.key, next.bytes);
    await engineOf(a).sync.flush();
    await engineOf(a).sync.drain();
    expect(a.getField('conditions', 'asthma')).toBe('mild');
    expect(a.status.value.problems).toEqual([]);
    expect(a.status.value.gaps).toBe(0);
    await engineOf(a).sync.compact();
    const map = engineOf(a).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP);
    expect(map.has(futureKey)).toBe(true);
    expect(map.has(next.key)).toBe(false); // an update the snapshot covers
    const types = [...map.values()].map((b) => b[3]);
    expect(types).toContain(RecordType.snapshot);
  });

  it("a clinician is not held back by a record an offline editor sealed under the epoch before the session", async () => {
    const [alice, ed, clin] = [person(), person(), person()];
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000 }));
    await a.addMember({ publicKey: ed.signer.publicKey, boxKey: ed.box.publicKey, role: Role.editor, expiresAt: 0 });
    const e = track(await Profile.open({ ...ed, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, e);
    // The editor goes offline; the owner starts a session (a fresh epoch the clinician starts at).
    await a.addMember({ publicKey: clin.signer.publicKey, boxKey: clin.box.publicKey, role: Role.clinician, expiresAt: Date.now() + 3_600_000 });
    const c = track(await Profile.open({ ...clin, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, c);
    expect([...c.heldKeys().keys()]).toEqual([1]);
    // Offline, the editor seals under epoch 0; back online it learns the rotation and writes on.
    setField(e, 'conditions', 'offline', 'sealed under epoch 0');
    await engineOf(e).sync.flush();
    await exchange(a, e);
    expect(engineOf(e).sync.currentEpoch).toBe(1);
    setField(e, 'allergies', 'after', 'sealed under epoch 1');
    await engineOf(e).sync.flush();
    await exchange(a, e);
    await exchange(a, c);
    expect(c.getField('allergies', 'after')).toBe('sealed under epoch 1');
    expect(c.getField('conditions', 'offline')).toBeUndefined(); // before its access: never readable
    expect(c.status.value.gaps).toBe(0);
    expect(c.status.value.problems).toEqual([]);
  });

  it('flush returns (never spins) when the device holds no key for the current epoch, and says why', async () => {
    const alice = person();
    const bob = person();
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000 }));
    await a.addMember({ publicKey: bob.signer.publicKey, role: Role.editor, expiresAt: 0 }); // no box key: no lockbox
    await a.rotateKey();
    const b = track(await Profile.open({ ...bob, access: a.access.epochKeys.size ? { docId: a.access.docId, epoch: 0, epochKeys: new Map([[0, a.access.epochKeys.get(0)!]]) } : a.access }));
    await exchange(a, b);
    expect(engineOf(b).sync.currentEpoch).toBe(1);
    setField(b, 'conditions', 'asthma', 'mild');
    await engineOf(b).sync.flush(); // resolves: the edit cannot be sealed
    expect(engineOf(b).sync.state.value.queued).toBe(1);
    expect(engineOf(b).sync.outboxBlocked).toBe('no-key');
  });
});

describe('records that reach a fresh replica before the genesis', () => {
  it("a co-owner's membership op and lockbox wait for the genesis and are folded when it arrives (not refused)", async () => {
    const [alice, bob, carol, dave] = [person(), person(), person(), person()];
    const entry = (p: ReturnType<typeof person>, role: number) => ({ publicKey: p.signer.publicKey, boxKey: p.box.publicKey, role: role as never, expiresAt: 0 });
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000, members: [entry(bob, Role.owner), entry(dave, Role.viewer)] }));
    const b = track(await Profile.open({ ...bob, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    await exchange(a, b);
    // Bob's own envelope client writes the grant: nothing in it depends on Alice's items in Yjs.
    const fromBob: Uint8Array[] = [];
    engineOf(b).envelopeDoc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'relay' && fromBob.push(u));
    await b.addMember(entry(carol, Role.editor));
    expect(fromBob.length).toBeGreaterThan(0);
    const d = track(await Profile.open({ ...dave, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } }));
    // The relay's live broadcast of Bob's grant reaches Dave's fresh device before its catch-up.
    for (const u of fromBob) Y.applyUpdate(engineOf(d).envelopeDoc, u, 'relay');
    await engineOf(d).sync.flush();
    expect(d.role).toBeUndefined();
    Y.applyUpdate(engineOf(d).envelopeDoc, Y.encodeStateAsUpdate(engineOf(a).envelopeDoc), 'relay');
    await engineOf(d).sync.flush();
    expect(d.role).toBe(Role.viewer);
    expect(d.membershipState().members.get(Buffer.from(carol.signer.publicKey).toString('hex'))?.role).toBe(Role.editor);
    expect(d.status.value.problems).toEqual([]);
    expect(d.status.value.gaps).toBe(0);
  });
});
