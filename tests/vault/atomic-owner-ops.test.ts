/**
 * Owner operations are atomic: a rotation (membership op, N lockboxes, snapshot under the new
 * key) reaches the envelope as one transaction, and a failure at any step before the insert
 * leaves no trace: no envelope change, no stray key, the same epoch. Fails on the engine that
 * wrote N+2 separate envelope transactions after adding the new key first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { removeExpired, revoke, rotate } from '../../src/lib/sync/admin.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
});
const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

async function household(now = () => 1_000_000) {
  const [alice, bob, carol] = [person(), person(), person()];
  const a = await Profile.create({ ...alice, now, compactEvery: 1_000_000 });
  profiles.push(a);
  await a.addMember({ publicKey: bob.signer.publicKey, boxKey: bob.box.publicKey, role: Role.editor, expiresAt: 0 });
  await a.addMember({ publicKey: carol.signer.publicKey, boxKey: carol.box.publicKey, role: Role.viewer, expiresAt: 0 });
  setField(a, 'conditions', 'asthma', 'mild');
  await engineOf(a).sync.flush();
  return { a, bob, carol };
}

function countEnvelopeTransactions(doc: Y.Doc): () => number {
  let n = 0;
  doc.on('update', () => n++);
  return () => n;
}

describe('atomic owner operations', () => {
  it('a rotation reaches the envelope as one transaction, and every member can read the new epoch', async () => {
    const { a, bob } = await household();
    const count = countEnvelopeTransactions(engineOf(a).envelopeDoc);
    const epoch = await rotate(engineOf(a).sync);
    expect(count()).toBe(1);
    expect(engineOf(a).sync.currentEpoch).toBe(epoch);
    const b = await Profile.open({ ...bob, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } });
    profiles.push(b);
    Y.applyUpdate(engineOf(b).envelopeDoc, Y.encodeStateAsUpdate(engineOf(a).envelopeDoc));
    await engineOf(b).sync.flush();
    expect([...b.heldKeys().keys()].sort()).toEqual([0, 1]);
    expect(b.getField('conditions', 'asthma')).toBe('mild');
    expect(b.status.value.problems).toEqual([]);
  });

  it('a removal with its rotation, and an expiry sweep of several members, are each one transaction', async () => {
    let now = 1_000_000;
    const { a, bob } = await household(() => now);
    let count = countEnvelopeTransactions(engineOf(a).envelopeDoc);
    await revoke(engineOf(a).sync, bob.signer.publicKey);
    expect(count()).toBe(1);
    const [x, y] = [person(), person()];
    for (const p of [x, y]) await a.addMember({ publicKey: p.signer.publicKey, boxKey: p.box.publicKey, role: Role.clinician, expiresAt: now + 1000 });
    now += 5000;
    count = countEnvelopeTransactions(engineOf(a).envelopeDoc);
    expect(await removeExpired(engineOf(a).sync)).toBe(2);
    expect(count()).toBe(1);
  });

  it('a failure at the last step (the snapshot) leaves no trace: same envelope, same epoch, no stray key', async () => {
    const { a } = await household();
    const before = { envelope: Y.encodeStateAsUpdate(engineOf(a).envelopeDoc), epoch: engineOf(a).sync.currentEpoch, keys: [...a.heldKeys().keys()], head: engineOf(a).sync.ownHead.seq };
    engineOf(a).sync.setWriteGuard({
      membership: () => undefined,
      snapshot: () => {
        throw new Error('crash before the insert');
      },
    });
    await expect(rotate(engineOf(a).sync)).rejects.toThrow('crash before the insert');
    expect(Y.encodeStateAsUpdate(engineOf(a).envelopeDoc)).toEqual(before.envelope);
    expect(engineOf(a).sync.currentEpoch).toBe(before.epoch);
    expect([...a.heldKeys().keys()]).toEqual(before.keys);
    expect(engineOf(a).sync.ownHead.seq).toBe(before.head);
    // And the profile still works: the next edit seals under the old epoch.
    setField(a, 'conditions', 'eczema', 'mild');
    await engineOf(a).sync.flush();
    expect(engineOf(a).sync.state.value.queued).toBe(0);
  });
});
