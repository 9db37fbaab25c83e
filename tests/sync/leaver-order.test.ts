/**
 * A revoked device's last records, seen by a replica after the revocation but before the
 * snapshot that covers them, count once that snapshot arrives (threat model 24c): the verdict
 * does not depend on the order updates reach a replica. Revoking a device and the rotation
 * that follows are two updates, so a replica can see one without the other. The cold-replica
 * harness found it (seed 1892610758: the device's own snapshot); this pins the kept-record
 * case, an audit entry, which must also be folded, not only un-refused.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { toHex } from '../../src/lib/crypto/index.ts';
import { identityFromSeed, Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { enrollDevice, revokeDevice } from '../../src/lib/vault/person.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { setField } from '../helpers/raw-edits.ts';
import { envelopeOf, newMember, trackProfiles } from '../helpers/tracked-profiles.ts';
import { seamOf } from '../helpers/test-connector.ts';

const { track } = trackProfiles();
const member = newMember;
const envelope = envelopeOf;
const trail = async (p: Profile) => (await p.auditTrail()).events.map((e) => `${e.actor}:${e.kind}:${e.at}`).sort();

/** Applies `update` to `to` as the relay would forward it, and lets its engine settle. */
async function deliver(to: Profile, update: Uint8Array): Promise<void> {
  Y.applyUpdate(envelope(to), update, 'relay');
  await engineOf(to).sync.flush();
}
const missing = (from: Profile, to: Profile) => Y.encodeStateAsUpdate(envelope(from), Y.encodeStateVector(envelope(to)));

describe('a revoked device’s records and the order a replica sees them in', () => {
  it('an audit entry seen after the revocation and before the covering snapshot is folded, with no problem left', async () => {
    const alice = member();
    const carol = member();
    const identity = identityFromSeed(new Uint8Array(32).fill(7));
    const members = [
      { publicKey: identity.signing.publicKey, boxKey: identity.box.publicKey, role: Role.editor, expiresAt: 0 },
      { publicKey: carol.signer.publicKey, boxKey: carol.box.publicKey, role: Role.editor, expiresAt: 0 },
    ];
    const a = track(await Profile.create({ ...alice, compactEvery: 1_000_000, members }));
    const access = () => ({ docId: a.access.docId, epoch: 0, epochKeys: new Map(a.access.epochKeys) });

    // The person's device joins (its certificate reaches Alice) and writes; then it leaves an
    // entry, the next record of its chain, which is what the others will see late.
    const device = await enrollDevice({ identity }, { label: 'phone' });
    const d = track(await Profile.open({ signer: device.signing, box: device.box, alsoRecipient: { publicKey: identity.signing.publicKey, box: identity.box }, authSigner: identity.signing, access: access() }));
    await deliver(d, Y.encodeStateAsUpdate(envelope(a)));
    await seamOf(d).certify(device.cert);
    setField(d, 'allergies', 'latex', 'rash');
    await engineOf(d).sync.flush();
    await deliver(a, missing(d, a));
    const before = Y.encodeStateAsUpdate(envelope(a));
    await d.audit('export');
    await engineOf(d).sync.flush();

    // Alice takes the device's writing, revokes it, then rotates: one update per transaction.
    const fromDevice = missing(d, a);
    await deliver(a, fromDevice);
    const revocation: Uint8Array[] = [];
    const rotation: Uint8Array[] = [];
    let sink = revocation;
    envelope(a).on('update', (u: Uint8Array) => sink.push(u));
    await revokeDevice(a, device.signing.publicKey);
    sink = rotation;
    await a.rotateKey();
    expect(revocation.length).toBeGreaterThan(0);

    // Carol sees the revocation, then the device's writing, then the rotation's snapshot.
    const c = track(await Profile.open({ ...carol, access: access() }));
    await deliver(c, before);
    for (const u of [...revocation, fromDevice, ...rotation]) await deliver(c, u);
    expect(c.status.value.problems).toEqual([]);
    expect(c.getField('allergies', 'latex')).toBe('rash');
    const reference = await trail(a);
    expect(reference.filter((e) => e.startsWith(toHex(device.signing.publicKey)))).toHaveLength(1);
    expect(await trail(c)).toEqual(reference);
  });
});
