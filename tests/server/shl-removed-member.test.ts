/**
 * A removed owner's token on the SMART Health Link owner routes (threat model claims 69, 90): a
 * co-owner shares a link, is removed, and then can neither revoke it nor store a new one
 * (403 TOKEN_NOT_MEMBER); the link keeps opening until a current owner revokes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, nobleEngine } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { openSharedLink, revokeLink, shareLink } from '../../src/lib/vault/shl.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

describe('SHL owner routes and a removed member', () => {
  let relay: TestRelay;
  const [owner, coOwner] = [generateSigningKeyPair(), generateSigningKeyPair()];
  let a: Profile;
  let b: Profile;

  beforeAll(async () => {
    relay = await testRelay();
    a = await Profile.create({ signer: owner, box: generateBoxKeyPair(), relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: coOwner.publicKey, role: Role.owner, expiresAt: 0 }] });
    a.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Peanut' } });
    await a.flush();
    b = await Profile.open({ signer: coOwner, access: a.accessBundle(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    await b.status.when((s) => s.synced);
  }, 60_000);

  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await a?.close();
    await relay?.destroy();
  });

  it('a removed co-owner can neither revoke its own link nor store a new one; the link still opens', async () => {
    const made = await shareLink(b, {});
    await a.removeMember(coOwner.publicKey);
    await a.flush();
    const token = await createAuthToken({ secretKey: coOwner.secretKey, docId: a.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
    const url = `${relay.httpUrl}/shl/profile/${a.name}/${made.manifestId}`;
    const del = await fetch(url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect([del.status, await del.text()]).toEqual([403, 'TOKEN_NOT_MEMBER']);
    const put = await fetch(`${relay.httpUrl}/shl/profile/${a.name}/${'C'.repeat(43)}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jwe: made.jwe }),
    });
    expect([put.status, await put.text()]).toEqual([403, 'TOKEN_NOT_MEMBER']);
    // Not revoked by the refused request; a current owner can.
    expect((await openSharedLink(made.link, { recipient: 'r' })).files).toHaveLength(1);
    await revokeLink(a, made.manifestId);
    await expect(openSharedLink(made.link, { recipient: 'r' })).rejects.toMatchObject({ code: 'SHL_NOT_FOUND' });
  }, 60_000);
});
