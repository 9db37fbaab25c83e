/**
 * Records opened while their signatures are checked (docs/decisions/0058): the relay connection
 * hands each record of a small forwarded update to the sync engine as the message arrives, and
 * the inbox decrypts, decodes and parses it then. The claim: this changes no verdict and lets
 * nothing through early. What was opened ahead is used only for a record that passed its
 * signature check and authorisation, only for the exact bytes opened and the key they were
 * opened with, and gives the answer (failure codes included) opening it then would give.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, generateSymmetricKey, nobleEngine, seededRandom, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { openRecord, parseRecord, Role, verifyRecord, type ParsedRecord } from '../../src/lib/protocol/index.ts';
import { toVerifiedUpdate } from '../../src/lib/sync/apply.ts';
import { OpenedAhead } from '../../src/lib/sync/opened-ahead.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { forgeRecord, inject } from '../helpers/forge.ts';

const parsed = (bytes: Uint8Array): ParsedRecord => {
  const r = parseRecord(bytes);
  if (!r.ok) throw new Error(r.code);
  return r.value;
};

/** The same header and body under another signature: well-formed (S stays below L), invalid. */
function forgedCopy(bytes: Uint8Array): Uint8Array {
  const forged = bytes.slice();
  forged[forged.length - 64 + 3]! ^= 1; // inside R
  return forged;
}

describe('OpenedAhead', () => {
  const docId = new Uint8Array(16).fill(4);
  const alice = generateSigningKeyPair();
  const key = generateSymmetricKey(seededRandom(3));

  async function verified(bytes: Uint8Array) {
    const v = await verifyRecord(parsed(bytes), nobleEngine);
    if (!v.ok) throw new Error(v.code);
    return v.value;
  }

  it('answers a verified record with what opening it now gives, once', async () => {
    const f = await forgeRecord({ signer: alice, docId, key, seq: 1, edit: (d) => d.getText('t').insert(0, 'hi') });
    const ahead = new OpenedAhead(docId);
    ahead.open(parsed(f.bytes), key);
    const record = await verified(f.bytes.slice());
    const opened = openRecord(record, key);
    if (!opened.ok) throw new Error(opened.code);
    const fresh = toVerifiedUpdate(opened.value, docId);
    const taken = ahead.take(record, key);
    expect(taken).toEqual(fresh);
    expect(taken?.ok).toBe(true);
    expect(ahead.take(record, key)).toBeUndefined(); // taken once
  });

  it('is not used for other bytes under the same id, nor under another key', async () => {
    const f = await forgeRecord({ signer: alice, docId, key, seq: 2, edit: (d) => d.getText('t').insert(0, 'x') });
    const ahead = new OpenedAhead(docId);
    // Opened from a forged copy (same header and body, so the same id and map key)...
    ahead.open(parsed(forgedCopy(f.bytes)), key);
    // ...it answers nothing for the genuine record, which is opened afresh.
    expect(ahead.take(await verified(f.bytes), key)).toBeUndefined();
    ahead.open(parsed(f.bytes), key);
    expect(ahead.take(await verified(f.bytes), generateSymmetricKey(seededRandom(9)))).toBeUndefined();
    expect(ahead.size).toBe(0);
  });

  it('keeps the failure code opening would give (another key)', async () => {
    const other = generateSymmetricKey(seededRandom(8));
    const f = await forgeRecord({ signer: alice, docId, key: other, seq: 3, edit: (d) => d.getText('t').insert(0, 'x') });
    const ahead = new OpenedAhead(docId);
    ahead.open(parsed(f.bytes), key);
    const record = await verified(f.bytes);
    const fresh = openRecord(record, key);
    expect(fresh.ok).toBe(false);
    expect(ahead.take(record, key)).toEqual(fresh);
  });
});

describe('a replica opening records ahead', () => {
  let alice: SigningKeyPair, bob: SigningKeyPair, mallory: SigningKeyPair;
  let a: Profile, b: Profile;
  const relayAll = (from: Profile, to: Profile) => Y.applyUpdate(engineOf(to).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));
  const stateOf = (p: Profile) => JSON.stringify(p.toJSON());

  beforeEach(async () => {
    [alice, bob, mallory] = [0, 1, 2].map(() => generateSigningKeyPair()) as [SigningKeyPair, SigningKeyPair, SigningKeyPair];
    a = await Profile.create({ signer: alice, compactEvery: 1000, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    await engineOf(a).sync.flush();
    b = await Profile.open({ signer: bob, access: a.access });
    relayAll(a, b);
    await engineOf(b).sync.flush();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  const edit = (signer: SigningKeyPair, seq: number, value: string) =>
    forgeRecord({ signer, docId: a.access.docId, key: a.access.epochKeys.get(0)!, seq, edit: (d) => d.getMap('allergies').set('latex', value) });

  /** The owner's next record in its chain, setting allergies.latex. */
  const next = (value: string) =>
    forgeRecord({
      signer: alice,
      docId: a.access.docId,
      key: a.access.epochKeys.get(0)!,
      seq: engineOf(a).sync.ownHead.seq + 1,
      prev: engineOf(a).sync.ownHead.head,
      edit: (d) => d.getMap('allergies').set('latex', value),
    });

  it('a forged signature opened ahead is refused and changes nothing', async () => {
    const f = await next('severe');
    const forged = forgedCopy(f.bytes);
    engineOf(b).sync.openAhead(parsed(forged));
    const before = stateOf(b);
    inject(engineOf(b).envelopeDoc, f.key, forged);
    await engineOf(b).sync.flush();
    expect(b.status.value.problems.map((p) => p.code)).toContain('RECORD_BAD_SIGNATURE');
    expect(stateOf(b)).toBe(before);
  });

  it('a non-member record opened ahead is refused and changes nothing', async () => {
    const f = await edit(mallory, 1, 'none');
    engineOf(b).sync.openAhead(parsed(f.bytes));
    const before = stateOf(b);
    inject(engineOf(b).envelopeDoc, f.key, f.bytes);
    await engineOf(b).sync.flush();
    expect(b.status.value.problems.map((p) => p.code)).toContain('RECORD_NOT_MEMBER');
    expect(stateOf(b)).toBe(before);
  });

  it('a genuine record opened ahead from a forged copy is opened afresh and applies', async () => {
    const f = await next('mild');
    // A copy with another payload under the same id cannot exist (the id hashes the body); a
    // forged signature can: opened ahead, it must not stand in for the genuine record.
    engineOf(b).sync.openAhead(parsed(forgedCopy(f.bytes)));
    inject(engineOf(b).envelopeDoc, f.key, f.bytes);
    await engineOf(b).sync.flush();
    expect(b.status.value.problems).toEqual([]);
    expect(b.getField('allergies', 'latex')).toBe('mild');
  });
});
