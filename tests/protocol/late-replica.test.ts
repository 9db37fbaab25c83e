/**
 * Every replica folds the same membership, whenever it syncs: an accept the relay took before
 * the invite link expired is folded by a replica that first syncs after the expiry, while the
 * relay itself refuses an accept that arrives late.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair, generateSymmetricKey, nobleEngine } from '../../src/lib/crypto/index.ts';
import {
  authorizeRecord,
  deriveDocId,
  ENVELOPE_MAP,
  EnvelopeIndex,
  recordKey,
  Role,
  signAccept,
} from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { membershipRecord } from '../helpers/membership-records.ts';

const engine = nobleEngine;
const LINK_EXPIRY = 2_000_000;

describe('membership folds the same on a late replica', () => {
  it('an accept taken before the link expired is folded by a replica that syncs after it', async () => {
    const owner = generateSigningKeyPair();
    const nonce = new Uint8Array(16).fill(3);
    const docId = deriveDocId(owner.publicKey, nonce);
    const invitee = generateSigningKeyPair();
    const relative = generateSigningKeyPair();
    const genesis = await membershipRecord(docId, owner, 1, { kind: 'genesis', nonce, clock: 0, members: [{ publicKey: owner.publicKey, role: Role.owner, expiresAt: 0 }] });
    const invite = await membershipRecord(docId, owner, 2, {
      kind: 'invite',
      clock: 1,
      invite: { inviteKey: invitee.publicKey, inviteBox: generateBoxKeyPair().publicKey, role: Role.editor, memberExpiresAt: 0, inviteExpiresAt: LINK_EXPIRY },
    }, genesis.id);
    const member = { publicKey: relative.publicKey, boxKey: generateBoxKeyPair().publicKey, role: Role.editor, expiresAt: 0 };
    const accept = await membershipRecord(docId, invitee, 1, { ...(await signAccept({ docId, inviteKey: invitee.publicKey, member, memberKey: relative, engine })), clock: 2 });

    const fold = async (now: number, expiry?: boolean) => {
      const index = new EnvelopeIndex(docId);
      const codes: string[] = [];
      for (const r of [genesis, invite, accept]) {
        const v = await authorizeRecord(r, index, { engine, now, replica: expiry === false });
        codes.push(v.ok ? 'ok' : v.code);
        if (v.ok) index.add(r, undefined, v.value);
      }
      return { codes, role: index.membership.roleOf(relative.publicKey, now) };
    };
    // The relay, when the accept arrives in time and when it arrives late.
    expect((await fold(LINK_EXPIRY - 1)).codes).toEqual(['ok', 'ok', 'ok']);
    expect((await fold(LINK_EXPIRY + 60_000)).codes).toEqual(['ok', 'ok', 'INVITE_EXPIRED']);
    // A replica opening the profile a day later folds what the relay took.
    const late = await fold(LINK_EXPIRY + 86_400_000, false);
    expect(late.codes).toEqual(['ok', 'ok', 'ok']);
    expect(late.role).toBe(Role.editor);

    // And the sync engine does the same: a device that first opens the profile a day later.
    const envelope = new Y.Doc();
    envelope.transact(() => {
      for (const r of [genesis, invite, accept]) envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKey(r), r.bytes);
    });
    const device = await Profile.open({ signer: relative, access: { docId, epoch: 0, epochKeys: new Map([[0, generateSymmetricKey()]]) }, now: () => LINK_EXPIRY + 86_400_000 });
    Y.applyUpdate(engineOf(device).envelopeDoc, Y.encodeStateAsUpdate(envelope));
    await engineOf(device).sync.drain();
    expect(device.status.value.problems).toEqual([]);
    expect(device.role).toBe(Role.editor);
    await device.close();
  });
});
