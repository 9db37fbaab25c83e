/**
 * Envelope invariants held by the client against what the relay sends (a broken or malicious
 * relay could apply anything): a record that leaves the envelope without a covering snapshot,
 * or a key whose value is replaced, is a visible error, never "synced"; a replica opened cold on
 * an erased copy tells "erased" from "empty".
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, RecordType, Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
});

async function owned() {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const a = await Profile.create({ signer: alice, compactEvery: 1000, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
  profiles.push(a);
  setField(a, 'allergies', 'penicillin', 'anaphylaxis');
  await engineOf(a).sync.flush();
  const keyOf = (type: number) =>
    [...engineOf(a).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP).entries()].find(([, v]) => {
      const r = parseRecord(v);
      return r.ok && r.value.header.type === type;
    })![0];
  return { a, alice, bob, keyOf };
}

/** What a relay that skipped the checks would forward: a deleted placeholder under a used key, from a higher clientID. */
const displacing = (key: string) =>
  encodeRawUpdate([{ client: 2 ** 40, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: key, content: { kind: 'deleted', len: 1 } }] }], []);

describe('client-side envelope invariants', () => {
  it('a live replica reports a record displaced through map conflict resolution, and keeps its data', async () => {
    const { a, keyOf } = await owned();
    expect(a.status.value.state).not.toBe('error');
    Y.applyUpdate(engineOf(a).envelopeDoc, displacing(keyOf(RecordType.update)), 'relay');
    await engineOf(a).sync.flush();
    await engineOf(a).sync.drain();
    expect(a.status.value.problems.map((p) => p.code)).toContain('ENVELOPE_RECORD_ERASED');
    expect(a.status.value.state).toBe('error');
    expect(a.getField('allergies', 'penicillin')).toBe('anaphylaxis');
  });

  it('a cold replica opened on a copy whose genesis was erased knows its genesis is missing (never an empty synced profile)', async () => {
    const { a, bob, keyOf } = await owned();
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(engineOf(a).envelopeDoc));
    Y.applyUpdate(copy, displacing(keyOf(RecordType.membership)));
    const b = await Profile.open({ signer: bob, access: a.access });
    profiles.push(b);
    Y.applyUpdate(engineOf(b).envelopeDoc, Y.encodeStateAsUpdate(copy));
    await engineOf(b).sync.flush();
    await engineOf(b).sync.drain();
    // Its records wait for a genesis that is gone; once a relay says it sent everything, the
    // facade reports ENVELOPE_NO_GENESIS (an error) instead of an empty profile.
    expect(engineOf(b).sync.genesisMissing).toBe(true);
    expect(b.status.value.state).not.toBe('synced');
    expect(b.toJSON()).not.toHaveProperty('allergies');
    expect(engineOf(a).sync.genesisMissing).toBe(false);
  });

  it('an honest compaction deletes records without any problem', async () => {
    const { a } = await owned();
    for (let i = 0; i < 5; i++) setField(a, 'conditions', `c${i}`, i);
    await engineOf(a).sync.flush();
    await engineOf(a).sync.compact();
    await engineOf(a).sync.drain();
    expect(a.status.value.problems).toEqual([]);
  });
});
