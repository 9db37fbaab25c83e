/**
 * Guarantee 6 through the real relay: after removal (or expiry) and rotation, nothing written
 * afterwards opens with any key the removed party held; its connections are closed, its
 * tokens refused, its forged writes rejected by relay and clients; remaining members keep
 * reading and writing.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  createWebCryptoEngine,
  generateBoxKeyPair,
  generateSigningKeyPair,
  type BoxKeyPair,
  type SigningKeyPair,
  type SymmetricKey,
} from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, openRecord, parseRecord, recordKey, RecordType, Role, verifyRecord } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { insertNote, setField } from '../helpers/raw-edits.ts';

const engine = createWebCryptoEngine();
const cleanups = cleanupList();

interface Person {
  signer: SigningKeyPair;
  box: BoxKeyPair;
}
const person = (): Person => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const entry = (p: Person, role: (typeof Role)[keyof typeof Role], expiresAt = 0) => ({ publicKey: p.signer.publicKey, boxKey: p.box.publicKey, role, expiresAt });

/** Every envelope record the relay stores, parsed. */
function storedRecords(relay: Awaited<ReturnType<typeof testRelay>>) {
  const out = [];
  for (const state of relay.store.dumpAll()) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    for (const bytes of doc.getMap<Uint8Array>(ENVELOPE_MAP).values()) {
      const parsed = parseRecord(bytes);
      if (parsed.ok) out.push(parsed.value);
    }
  }
  return out;
}

async function circle() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const [alice, bob, carol] = [person(), person(), person()];
  const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
  const a = await Profile.create({ ...common, signer: alice.signer, box: alice.box, members: [entry(bob, Role.editor), entry(carol, Role.editor)] });
  cleanups.push(() => a.close());
  setField(a, 'conditions', 'diabetes', 'type 2');
  await a.flush();
  // Members receive only the document id; their keys come from lockboxes... except epoch 0,
  // which the creator hands over out of band in this version (the access bundle).
  const b = await Profile.open({ ...common, signer: bob.signer, box: bob.box, access: a.access });
  const c = await Profile.open({ ...common, signer: carol.signer, box: carol.box, access: a.access });
  cleanups.push(() => b.close(), () => c.close());
  await b.status.when((s) => s.synced);
  await c.status.when((s) => s.synced);
  await eventually(() => b.getField('conditions', 'diabetes') === 'type 2' && c.getField('conditions', 'diabetes') === 'type 2');
  return { relay, alice, bob, carol, a, b, c };
}

describe('revocation and rotation', () => {
  it("removing a member closes its connection, rotates, and nothing written afterwards opens with any key it held", async () => {
    const { relay, bob, a, b, c } = await circle();
    const bobKeys = b.heldKeys();
    expect([...bobKeys.keys()]).toEqual([0]);

    await a.removeMember(bob.signer.publicKey);
    await a.flush();
    expect(engineOf(a).sync.currentEpoch).toBe(1);
    // The relay dropped Bob's live connection; his next token is refused.
    await engineOf(b).connection!.refusal.when((r) => r !== null, 10_000);
    expect(b.status.value.state).toBe('error');

    setField(a, 'conditions', 'new-diagnosis', 'written after the rotation');
    insertNote(a, 'visit', 0, 'post-revocation note');
    await a.flush();
    // Carol, still a member, got the new key by lockbox and reads on.
    await eventually(() => c.getField('conditions', 'new-diagnosis') === 'written after the rotation');
    expect(engineOf(c).sync.currentEpoch).toBe(1);
    expect(b.getField('conditions', 'new-diagnosis')).toBeUndefined();

    // Give Bob every key he ever held: no sealed record at epoch >= 1 opens with them.
    const sealedAfter = storedRecords(relay).filter((r) => (r.header.type === RecordType.update || r.header.type === RecordType.snapshot) && r.header.epoch >= 1);
    expect(sealedAfter.length).toBeGreaterThan(0);
    for (const r of sealedAfter) {
      const v = await verifyRecord(r, engine);
      expect(v.ok).toBe(true);
      if (!v.ok) continue;
      for (const key of bobKeys.values()) expect(openRecord(v.value, key as SymmetricKey).ok).toBe(false);
    }
    // No lockbox for the new epoch was addressed to Bob (genesis gave him epoch 0's).
    const lockboxesForBob = storedRecords(relay).filter((r) => r.header.type === RecordType.lockbox && r.header.epoch >= 1 && Buffer.from(r.header.ext.subarray(4, 36)).equals(Buffer.from(bob.signer.publicKey)));
    expect(lockboxesForBob).toEqual([]);
  });

  it('a removed member that reconnects, even 30 days later, is refused and gets nothing new', async () => {
    const { relay, bob, a } = await circle();
    await a.removeMember(bob.signer.publicKey);
    setField(a, 'meds', 'insulin', '10 units');
    await a.flush();
    const later = Date.now() + 30 * 24 * 3600 * 1000;
    const returning = await Profile.open({ signer: bob.signer, box: bob.box, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50, now: () => later });
    cleanups.push(() => returning.close());
    await engineOf(returning).connection!.refusal.when((r) => r !== null, 10_000);
    expect(returning.getField('meds', 'insulin')).toBeUndefined();
    expect(engineOf(returning).envelopeDoc.getMap(ENVELOPE_MAP).size).toBe(0);
  });

  it("writes signed by a removed member are rejected by every client (the relay already refuses its token)", async () => {
    const { bob, a, c } = await circle();
    await a.removeMember(bob.signer.publicKey);
    await a.flush();
    await eventually(() => engineOf(c).sync.currentEpoch === 1);
    const forged = await forgeRecord({ signer: bob.signer, docId: a.access.docId, key: a.heldKeys().get(1) as SymmetricKey, epoch: 1, seq: 1, edit: (d) => d.getMap('conditions').set('diabetes', 'none') });
    for (const target of [a, c]) {
      inject(engineOf(target).envelopeDoc, forged.key, forged.bytes);
      await engineOf(target).sync.flush();
      expect(target.status.value.problems.map((p) => p.code)).toContain('RECORD_NOT_MEMBER');
      expect(target.getField('conditions', 'diabetes')).toBe('type 2');
    }
  });

  it('an expired member is cut off by the relay at expiry', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [alice, doc] = [person(), person()];
    const expiresAt = Date.now() + 1500;
    const a = await Profile.create({ signer: alice.signer, box: alice.box, relayUrl: relay.url, minReconnectDelayMs: 50, members: [entry(doc, Role.viewer, expiresAt)] });
    cleanups.push(() => a.close());
    await a.flush();
    const d = await Profile.open({ signer: doc.signer, box: doc.box, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => d.close());
    await d.status.when((s) => s.synced);
    expect(engineOf(d).connection!.refusal.value).toBeNull();
    expect(await engineOf(d).connection!.refusal.when((r) => r !== null, 10_000)).toBe('TOKEN_EXPIRED');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
  });

  it('a clinician added without history reads the fresh snapshot and nothing older', async () => {
    const { relay, a } = await circle();
    insertNote(a, 'history', 0, 'old psychiatric history');
    await a.flush();
    const clinician = person();
    await a.addMember(entry(clinician, Role.clinician, Date.now() + 3_600_000));
    await a.flush();
    // The clinician device gets no key out of band: only the document id.
    const access = { docId: a.access.docId, epoch: 0, epochKeys: new Map<number, SymmetricKey>() };
    const cl = await Profile.open({ signer: clinician.signer, box: clinician.box, access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => cl.close());
    await eventually(() => cl.readNote('history') === 'old psychiatric history', 10_000);
    expect([...cl.heldKeys().keys()]).toEqual([1]);
    expect(cl.getField('conditions', 'diabetes')).toBe('type 2'); // current state, via the snapshot
    // Records of epoch 0 stay closed to it.
    const old = storedRecords(relay).filter((r) => r.header.epoch === 0 && r.header.type === RecordType.update);
    for (const r of old) {
      const v = await verifyRecord(r, engine);
      if (v.ok) expect(openRecord(v.value, cl.heldKeys().get(1) as SymmetricKey).ok).toBe(false);
    }
  });

  it('a relay that injects a membership entry or a lockbox not signed by an owner is detected', async () => {
    const { bob, a, c } = await circle();
    const mallory = person();
    const { sealRecord, encodeMembershipExt, sealLockbox } = await import('../../src/lib/protocol/index.ts');
    const head = engineOf(c).sync.chainOf(Buffer.from(bob.signer.publicKey).toString('hex'));
    const fakeMember = await sealRecord({
      header: { type: RecordType.membership, docId: a.access.docId, epoch: 0, author: bob.signer.publicKey, seq: head.seq + 1, prev: head.head, ext: encodeMembershipExt({ kind: 'set', member: entry(mallory, Role.owner) }) },
      payload: new Uint8Array(0), secretKey: bob.signer.secretKey, engine, random: (n) => new Uint8Array(n).fill(1),
    });
    const fakeLockbox = await sealRecord({
      header: { type: RecordType.lockbox, docId: a.access.docId, epoch: 0, author: bob.signer.publicKey, seq: head.seq + 2, prev: fakeMember.id, ext: sealLockbox({ docId: a.access.docId, epoch: 7, recipient: engineOf(c).sync.index.membership.creator!, recipientBoxKey: generateBoxKeyPair().publicKey, keys: new Map([[7, new Uint8Array(32) as SymmetricKey]]), random: (n) => new Uint8Array(n).fill(2) }) },
      payload: new Uint8Array(0), secretKey: bob.signer.secretKey, engine, random: (n) => new Uint8Array(n).fill(3),
    });
    for (const bytes of [fakeMember.bytes, fakeLockbox.bytes]) {
      const parsed = parseRecord(bytes);
      if (!parsed.ok) throw new Error(parsed.code);
      inject(engineOf(c).envelopeDoc, recordKey(parsed.value), bytes);
    }
    await engineOf(c).sync.flush();
    // Both forgeries are detected by this device itself (problems with a record key). The
    // injection writes into c's envelope as a local change, so c also forwards them and the
    // relay's refusal (no key) may or may not have arrived by now: it is not counted.
    const detected = c.status.value.problems.filter((p) => p.code === 'RECORD_NOT_ADMIN' && p.key !== undefined);
    expect(detected.length).toBe(2);
    expect(engineOf(c).sync.index.membership.roleOf(mallory.signer.publicKey, Date.now())).toBeUndefined();
  });
});
