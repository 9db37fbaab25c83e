/**
 * Yjs gives a doc a random clientID when a remote update writes on the one it uses; a replica's
 * clientID must stay derived from its signer and session (docs/protocol.md: members refuse
 * structs on a clientID its signer does not own). The sync engine compares with the clientID it
 * derived for its session after every remote record (kept since decision 0027, not derived again
 * each time) and starts a new session when Yjs changed it: the next own edit is still accepted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { REMOTE_ORIGIN } from '../../src/lib/sync/profile-sync.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const relayAll = (from: Profile, to: Profile) => Y.applyUpdate(engineOf(to).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));

describe("a replica's clientID stays derived", () => {
  let alice: SigningKeyPair, bob: SigningKeyPair;
  let a: Profile, b: Profile;

  beforeEach(async () => {
    [alice, bob] = [generateSigningKeyPair(), generateSigningKeyPair()];
    a = await Profile.create({ signer: alice, compactEvery: 1000, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    setField(a, 'allergies', 'latex', 'severe');
    await engineOf(a).sync.flush();
    b = await Profile.open({ signer: bob, access: a.access });
    relayAll(a, b);
    await engineOf(b).sync.flush();
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it("after a snapshot holding structs on this replica's clientID, its next edit is still accepted", async () => {
    const plainA = engineOf(a).plainDoc;
    // Structs on Alice's current clientID, continuing her clock, in a snapshot Bob signs (a
    // snapshot vouches for its whole state, so this is a member's valid record).
    const squatter = new Y.Doc();
    Y.applyUpdate(squatter, Y.encodeStateAsUpdate(plainA));
    squatter.clientID = plainA.clientID;
    squatter.getMap('allergies').set('pollen', 'mild');
    Y.applyUpdate(engineOf(b).plainDoc, Y.encodeStateAsUpdate(squatter), REMOTE_ORIGIN);
    await engineOf(b).sync.compact();
    const before = plainA.clientID;
    relayAll(b, a);
    await engineOf(a).sync.flush();
    expect(a.getField('allergies', 'pollen')).toBe('mild');
    expect(plainA.clientID).not.toBe(before);

    setField(a, 'allergies', 'dust', 'high');
    await engineOf(a).sync.flush();
    relayAll(a, b);
    await engineOf(b).sync.flush();
    expect(b.status.value.problems).toEqual([]);
    expect(b.getField('allergies', 'dust')).toBe('high');
  });
});
