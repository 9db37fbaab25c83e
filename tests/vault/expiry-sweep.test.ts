/**
 * The expiry sweep lives in the vault layer: an owner's open profile (app or CLI) ends a
 * time-limited member's access when the time comes, with no UI timer and no call from anyone,
 * and a sweep that fails is a problem in the status, not swallowed. Founding members listed in
 * genesis with a box key get the epoch-0 key by lockbox, with no access bundle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';

const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
});
const person = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

describe('expiry sweep in the vault layer', () => {
  it('removes a clinician and rotates once the session ends, on its own', async () => {
    const [alice, clin] = [person(), person()];
    const a = await Profile.create({ ...alice, compactEvery: 1_000_000 });
    profiles.push(a);
    await a.addMember({ publicKey: clin.signer.publicKey, boxKey: clin.box.publicKey, role: Role.clinician, expiresAt: Date.now() + 300 });
    const epoch = engineOf(a).sync.currentEpoch;
    expect(a.membershipState().members.has(toHex(clin.signer.publicKey))).toBe(true);
    await eventually(() => !a.membershipState().members.has(toHex(clin.signer.publicKey)), 10_000);
    await eventually(() => engineOf(a).sync.currentEpoch === epoch + 1, 10_000);
    expect(a.status.value.problems).toEqual([]);
  });

  it('a sweep that fails shows SYNC_SWEEP_FAILED in the status', async () => {
    const [alice, clin] = [person(), person()];
    const a = await Profile.create({ ...alice, compactEvery: 1_000_000 });
    profiles.push(a);
    await a.addMember({ publicKey: clin.signer.publicKey, boxKey: clin.box.publicKey, role: Role.clinician, expiresAt: Date.now() + 300 });
    // A storage or crypto failure at the rotation's snapshot: nothing is written, the owner is told.
    engineOf(a).sync.setWriteGuard({
      membership: () => undefined,
      snapshot: () => {
        throw new Error('disk full');
      },
    });
    await a.status.when((s) => s.problems.some((p) => p.code === 'SYNC_SWEEP_FAILED'), 10_000);
    expect(a.membershipState().members.has(toHex(clin.signer.publicKey))).toBe(true);
    expect(a.status.value.state).toBe('error');
  });

  it('founding members with a box key read the profile by lockbox, no access bundle', async () => {
    const [alice, bob] = [person(), person()];
    const a = await Profile.create({ ...alice, members: [{ publicKey: bob.signer.publicKey, boxKey: bob.box.publicKey, role: Role.editor, expiresAt: 0 }] });
    profiles.push(a);
    a.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Peanut' } });
    await engineOf(a).sync.flush();
    const b = await Profile.open({ ...bob, access: { docId: a.access.docId, epoch: 0, epochKeys: new Map() } });
    profiles.push(b);
    Y.applyUpdate(engineOf(b).envelopeDoc, Y.encodeStateAsUpdate(engineOf(a).envelopeDoc));
    await engineOf(b).sync.flush();
    expect([...b.heldKeys().keys()]).toEqual([0]);
    expect(b.records.get('allergies', 'a1')).toBeDefined();
  });
});
