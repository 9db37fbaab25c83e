/**
 * Invites that keep (docs/decisions/0039): an editor invite opened on a device with no vault
 * becomes a kept membership (a new vault, then the accept), still there after a "reload" (a new
 * session from the device's storage); a memory-only guest is refused a lasting invite before
 * the link is used, so no ghost member is left; a guest's live session that ends leaves no
 * member behind; a used invite reads as used; safety codes agree on both sides.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { joinAsGuest, previewInvite } from '../../src/lib/vault/browser.ts';
import { createInvitation, inviteState } from '../../src/lib/vault/invite.ts';
import { membersOf } from '../../src/lib/vault/people.ts';
import { memberSafetyCodes, personSafetyCode } from '../../src/lib/vault/safety-codes.ts';
import { VaultSession } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { deviceEnv as sqliteDeviceEnv, ownerWithProfile as sharedOwnerWithProfile, ALLERGY } from '../helpers/vault-device.ts';

const cleanups = cleanupList();
const allergy = ALLERGY;

const deviceEnv = (relayUrl?: string) => sqliteDeviceEnv(cleanups, relayUrl);

const ownerWithProfile = () => sharedOwnerWithProfile(cleanups);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('invites that keep', () => {
  it('an editor invite on a device with no vault: preview, create the vault, join; after a reload it is still a member', async () => {
    const { relay, dad } = await ownerWithProfile();
    const inv = await createInvitation(dad, { origin: 'http://127.0.0.1', role: Role.editor });
    const env = deviceEnv(relay.url);

    // Read without using it: the link stays open.
    const preview = await previewInvite(env, inv.link);
    expect(preview).toMatchObject({ roleName: 'editor', memberExpiresAt: 0, inviteExpiresAt: inv.inviteExpiresAt });
    expect(inviteState(dad, inv.inviteKey)).toBe('open');

    const { session, recoveryCode } = await VaultSession.create(env, { displayName: 'Bea', deviceLabel: 'Phone' });
    expect(recoveryCode.length).toBeGreaterThan(40);
    const entry = await session.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    expect(entry.role).toBe('editor');
    const beaKey = toHex(session.person.identity.signing.publicKey);
    const beaCode = personSafetyCode(session.person);
    await session.close();

    // The reload: a new session from what the device stored.
    const again = await VaultSession.resume(env);
    expect(again).toBeDefined();
    cleanups.push(() => again!.close());
    expect(again!.profiles().map((p) => [p.docId, p.role])).toEqual([[entry.docId, 'editor']]);
    const seen = await again!.openProfile(entry.docId);
    await eventually(() => seen.records.get('allergies', 'pen')?.code.text === 'Penicillin');
    await eventually(() => seen.canWrite);
    seen.records.put('allergies', { ...allergy, id: 'nuts', code: { text: 'Peanut' } });
    await eventually(() => dad.records.get('allergies', 'nuts')?.code.text === 'Peanut');

    // The owner sees a lasting member (no expiry) whose safety code is the one Bea's device computes.
    const bea = membersOf(dad).find((m) => m.key === beaKey);
    expect(bea).toMatchObject({ role: 'editor', expiresAt: 0 });
    expect(memberSafetyCodes(dad).get(beaKey)).toBe(beaCode);
    expect(memberSafetyCodes(seen).get(beaKey)).toBe(beaCode);
    // The used invite reads as used (the share screen drops its QR), and reading it again is refused.
    await eventually(() => inviteState(dad, inv.inviteKey) === 'used');
    expect(await codeOf(previewInvite(deviceEnv(relay.url), inv.link))).toBe('INVITE_REFUSED');
  });

  it('a memory-only guest is refused a lasting invite before using it: no ghost member, the link still works', async () => {
    const { relay, owner, dad } = await ownerWithProfile();
    const inv = await createInvitation(dad, { origin: 'http://127.0.0.1', role: Role.editor });
    const before = membersOf(dad).map((m) => m.key);
    expect(await codeOf(joinAsGuest({ store: memoryDeviceStore(), relayUrl: relay.url, timeoutMs: 10_000 }, inv.link))).toBe('GUEST_NEEDS_SESSION');
    // Nothing was written: no member, the invite is still open, and a real device can still use it.
    await dad.status.when((s) => s.synced, 10_000);
    expect(membersOf(dad).map((m) => m.key)).toEqual(before);
    expect(inviteState(dad, inv.inviteKey)).toBe('open');
    const bea = (await VaultSession.create(deviceEnv(relay.url), { displayName: 'Bea', deviceLabel: 'Phone' })).session;
    cleanups.push(() => bea.close());
    expect((await bea.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' })).role).toBe('editor');
    expect(owner.profiles()).toHaveLength(1);
  });

  it("a guest's live session that ends leaves no member in the owner's list, and the guest is told it ended", async () => {
    const { relay, dad } = await ownerWithProfile();
    const inv = await createInvitation(dad, { origin: 'http://127.0.0.1', role: Role.clinician, accessForMs: 4_000, validForMs: 60_000, history: false });
    const preview = await previewInvite(deviceEnv(relay.url), inv.link);
    expect(preview.roleName).toBe('clinician');
    expect(preview.memberExpiresAt).toBe(inv.memberExpiresAt);
    const guest = await joinAsGuest({ store: memoryDeviceStore(), relayUrl: relay.url, timeoutMs: 10_000, minReconnectDelayMs: 50 }, inv.link);
    cleanups.push(() => guest.close());
    await eventually(() => guest.records.get('allergies', 'pen') !== undefined);
    await eventually(() => membersOf(dad).some((m) => m.role === 'clinician'));
    // At the end: the relay cuts the guest off (an ending, not an error), the owner's sweep removes
    // the member and rotates; neither the list nor the membership keeps a ghost.
    await eventually(() => guest.refusal.value === 'TOKEN_EXPIRED' || guest.refusal.value === 'TOKEN_NOT_MEMBER', 20_000);
    await eventually(() => !membersOf(dad).some((m) => m.role === 'clinician') && ![...dad.membershipState().members.values()].some((m) => m.role === Role.clinician), 20_000);
    expect(inviteState(dad, inv.inviteKey)).toBe('used');
  });

  it('opening a profile the vault does not list is a rejected promise (PROFILE_UNKNOWN) after the vault is verified, never a throw', async () => {
    const { owner } = await ownerWithProfile();
    let thrown: unknown;
    let opening: Promise<unknown> | undefined;
    try {
      opening = owner.openProfile('AAAAAAAAAAAAAAAAAAAAAA');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeUndefined();
    expect(await codeOf(opening!)).toBe('PROFILE_UNKNOWN');
  });
});
