/**
 * Guarantees 3–5 on the client: records a malicious relay or member could inject are rejected
 * with their own error code, shown in the sync status, and change nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role, ENVELOPE_MAP } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

/** Copies everything one replica's envelope holds into another's (what an honest relay does). */
const relayAll = (from: Profile, to: Profile) => Y.applyUpdate(engineOf(to).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));

describe('client-side verification of remote records', () => {
  let alice: SigningKeyPair, bob: SigningKeyPair, val: SigningKeyPair, mallory: SigningKeyPair;
  let a: Profile, b: Profile;

  beforeEach(async () => {
    [alice, bob, val, mallory] = [0, 1, 2, 3].map(() => generateSigningKeyPair()) as [SigningKeyPair, SigningKeyPair, SigningKeyPair, SigningKeyPair];
    a = await Profile.create({
      signer: alice,
      compactEvery: 1000,
      members: [
        { publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 },
        { publicKey: val.publicKey, role: Role.viewer, expiresAt: 0 },
      ],
    });
    setField(a, 'allergies', 'latex', 'severe');
    await engineOf(a).sync.flush();
    b = await Profile.open({ signer: bob, access: a.access });
    relayAll(a, b);
    await engineOf(b).sync.flush();
    expect(b.getField('allergies', 'latex')).toBe('severe');
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  const docId = () => a.access.docId;
  const epochKey = () => a.access.epochKeys.get(0)!;
  const stateOf = (p: Profile) => JSON.stringify(p.toJSON());

  async function expectRejected(target: Profile, bytes: Uint8Array, key: string, code: string) {
    const before = stateOf(target);
    inject(engineOf(target).envelopeDoc, key, bytes);
    await engineOf(target).sync.flush();
    expect(target.status.value.problems.map((p) => p.code)).toContain(code);
    expect(target.status.value.state).toBe('error');
    expect(stateOf(target)).toBe(before);
  }

  it('a record signed by a non-member is rejected (RECORD_NOT_MEMBER)', async () => {
    const f = await forgeRecord({ signer: mallory, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('allergies').set('latex', 'none') });
    await expectRejected(a, f.bytes, f.key, 'RECORD_NOT_MEMBER');
  });

  it("a viewer's forged but well-signed write is rejected (RECORD_NOT_WRITER)", async () => {
    const f = await forgeRecord({ signer: val, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('allergies').set('latex', 'none') });
    await expectRejected(a, f.bytes, f.key, 'RECORD_NOT_WRITER');
  });

  it("a clinician's forged but well-signed write is rejected (RECORD_NOT_WRITER)", async () => {
    const clinician = generateSigningKeyPair();
    await a.addMember({ publicKey: clinician.publicKey, role: Role.clinician, expiresAt: Date.now() + 3_600_000 }, { history: true });
    relayAll(a, b);
    await engineOf(b).sync.flush();
    const f = await forgeRecord({ signer: clinician, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('allergies').set('latex', 'none') });
    await expectRejected(b, f.bytes, f.key, 'RECORD_NOT_WRITER');
    await expectRejected(a, f.bytes, f.key, 'RECORD_NOT_WRITER');
  });

  it("structs under another signer's clientID are rejected (RECORD_CLIENTID_NOT_OWNED)", async () => {
    const f = await forgeRecord({
      signer: bob,
      docId: docId(),
      key: epochKey(),
      seq: 1,
      clientId: engineOf(a).sync.clientId, // Alice's current clientID
      edit: (d) => d.getMap('allergies').set('latex', 'none'),
    });
    await expectRejected(a, f.bytes, f.key, 'RECORD_CLIENTID_NOT_OWNED');
  });

  it('malformed Yjs bytes inside a valid record are quarantined (RECORD_BAD_UPDATE)', async () => {
    const garbage = Uint8Array.from([0, 255, 255, 255, 255, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const f = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, rawUpdate: garbage });
    await expectRejected(a, f.bytes, f.key, 'RECORD_BAD_UPDATE');
    expect(a.status.value.problems.find((p) => p.code === 'RECORD_BAD_UPDATE')?.author).toBeDefined();
  });

  it('a gap in an author chain is held and shown until the missing record arrives', async () => {
    const r1 = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('meds').set('a', 1) });
    const r2 = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 2, prev: r1.id, session: 8, edit: (d) => d.getMap('meds').set('b', 2) });
    inject(engineOf(a).envelopeDoc, r2.key, r2.bytes);
    await engineOf(a).sync.flush();
    expect(a.status.value.gaps).toBe(1);
    expect(a.getField('meds', 'b')).toBeUndefined();
    inject(engineOf(a).envelopeDoc, r1.key, r1.bytes);
    await engineOf(a).sync.flush();
    expect(a.status.value.gaps).toBe(0);
    expect([a.getField('meds', 'a'), a.getField('meds', 'b')]).toEqual([1, 2]);
    expect(a.status.value.problems).toEqual([]);
  });

  it('a fork (two records with one seq) is rejected (RECORD_FORK)', async () => {
    const r1 = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('meds').set('a', 1) });
    const r1b = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, session: 9, edit: (d) => d.getMap('meds').set('a', 666) });
    inject(engineOf(a).envelopeDoc, r1.key, r1.bytes);
    await engineOf(a).sync.flush();
    await expectRejected(a, r1b.bytes, r1b.key, 'RECORD_FORK');
    expect(a.getField('meds', 'a')).toBe(1);
  });

  it("a record that does not follow its author's previous one is rejected (RECORD_BAD_CHAIN)", async () => {
    const r1 = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('meds').set('a', 1) });
    inject(engineOf(a).envelopeDoc, r1.key, r1.bytes);
    await engineOf(a).sync.flush();
    const r2 = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 2, prev: new Uint8Array(32).fill(3), session: 8, edit: (d) => d.getMap('meds').set('b', 2) });
    await expectRejected(a, r2.bytes, r2.key, 'RECORD_BAD_CHAIN');
  });

  it('a replay of a record a snapshot already covers is rejected (RECORD_REPLAY)', async () => {
    for (let i = 0; i < 5; i++) {
      setField(b, 'vitals', `d${i}`, i);
      await engineOf(b).sync.flush();
    }
    const map = engineOf(b).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP);
    const old = [...map.entries()].find(([, bytes]) => bytes[3] === 1 && bytes.subarray(24, 56).every((x, i) => x === bob.publicKey[i]))!;
    relayAll(b, a);
    await engineOf(a).sync.flush();
    await engineOf(a).sync.compact();
    expect(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).has(old[0])).toBe(false);
    // The relay re-inserts the deleted record as a fresh map entry.
    await expectRejected(a, old[1], old[0], 'RECORD_REPLAY');
  });

  it('a record for another document is rejected (RECORD_WRONG_DOC)', async () => {
    const f = await forgeRecord({ signer: bob, docId: new Uint8Array(16).fill(1), key: epochKey(), seq: 1, edit: (d) => d.getMap('x').set('y', 1) });
    await expectRejected(a, f.bytes, f.key, 'RECORD_WRONG_DOC');
  });

  it('bytes stored under a key that is not their id are rejected (RECORD_KEY_MISMATCH)', async () => {
    const f = await forgeRecord({ signer: bob, docId: docId(), key: epochKey(), seq: 1, edit: (d) => d.getMap('x').set('y', 1) });
    await expectRejected(a, f.bytes, 'not-the-id', 'RECORD_KEY_MISMATCH');
  });

  it('garbage bytes in the envelope are rejected without a crash', async () => {
    await expectRejected(a, new Uint8Array([1, 2, 3]), 'junk', 'RECORD_TRUNCATED');
  });
});
