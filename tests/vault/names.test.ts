/**
 * People are people (docs/decisions/0038): names of members, devices and invitations as the
 * other members see them (an owner, a viewer, a clinician), renaming, nicknames, leaving.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { acceptInvitation, createInvitation, startClinicianSession } from '../../src/lib/vault/invite.ts';
import { announceSelf, cleanName, keepAnnounced, nameInvitation } from '../../src/lib/vault/names.ts';
import { accessEnded, membersOf, nameOfKey, openInvites } from '../../src/lib/vault/people.ts';
import { keepDeparturesCovered, leaveAndForget, leaveProfile, renameSelf, setNickname } from '../../src/lib/vault/self.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { VaultSession } from '../../src/lib/vault/session.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';
import { deviceEnv as sqliteDeviceEnv } from '../helpers/vault-device.ts';

const cleanups = cleanupList();
const ORIGIN = 'http://127.0.0.1';

const deviceEnv = (relayUrl?: string) => sqliteDeviceEnv(cleanups, relayUrl);

async function person(relay: TestRelay, displayName: string, deviceLabel: string): Promise<VaultSession> {
  const { session } = await VaultSession.create(deviceEnv(relay.url), { displayName, deviceLabel });
  cleanups.push(() => session.close());
  return session;
}

const synced = (p: Profile) => p.status.when((s) => s.synced && s.pending === 0, 15_000);
const nameIn = (p: Profile, who: VaultSession) => membersOf(p).find((m) => m.key === toHex(who.person.identity.signing.publicKey))?.name;

async function expectVaultError(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const err = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(VaultError);
  expect((err as VaultError).code).toBe(code);
}

/** An owner (Ana) with a profile, and a viewer (Bob) invited by the name "Grandpa" who joined it. */
async function family() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const ana = await person(relay, 'Ana', 'Ana laptop');
  const entry = await ana.createProfile({ name: 'Maria Rossi', relationship: 'mother' });
  const mum = await ana.openProfile(entry.docId);
  await eventually(() => mum.role === Role.owner);
  const stopAna = keepAnnounced(mum, () => ({ name: ana.displayName, label: ana.device.label }));
  cleanups.push(stopAna);
  await synced(mum);
  const inv = await createInvitation(mum, { origin: ORIGIN, role: Role.viewer });
  nameInvitation(mum, inv.link, 'Grandpa');
  expect(openInvites(mum).map((i) => i.name)).toEqual(['Grandpa']);
  await synced(mum);
  const bob = await person(relay, 'Bob', 'Bob phone');
  await bob.acceptInvitation(inv.link, { name: 'Mum', relationship: 'mother-in-law' });
  const bobsMum = await bob.openProfile(entry.docId);
  // The device writes its certificate once the genesis is in; from then on it acts as a viewer.
  await eventually(() => bobsMum.role === Role.viewer);
  await synced(bobsMum);
  return { relay, ana, bob, mum, bobsMum, docId: entry.docId };
}

describe('names', () => {
  it('a viewer is known by its invitation until it names itself, then by its own name and device label; it sees the owner by name', async () => {
    const { ana, bob, mum, bobsMum } = await family();
    await eventually(() => nameIn(mum, bob) === 'Grandpa'); // the owner's name for the invitation
    // The viewer may not write the profile, yet names itself (an audit entry any member may write).
    expect(bobsMum.canWrite).toBe(false);
    expect(await announceSelf(bobsMum, { name: bob.displayName, label: bob.device.label })).toBe(true);
    expect(await announceSelf(bobsMum, { name: bob.displayName, label: bob.device.label })).toBe(false); // once is enough
    await synced(bobsMum);
    await eventually(() => nameIn(mum, bob) === 'Bob');
    const bobSeen = membersOf(mum).find((m) => m.name === 'Bob')!;
    expect(bobSeen.devices.map((d) => d.label)).toEqual(['Bob phone']);
    // Each side sees the other: the viewer sees the owner's name and device label.
    await eventually(() => nameIn(bobsMum, ana) === 'Ana');
    expect(membersOf(bobsMum).find((m) => m.name === 'Ana')!.devices.map((d) => d.label)).toEqual(['Ana laptop']);
    expect(nameOfKey(mum, bob.deviceId)).toBe('Bob'); // a device key resolves to its person
  });

  it('a clinician with no history names itself and sees the owner by name', async () => {
    const { ana, mum } = await family();
    const inv = await startClinicianSession(mum, { origin: ORIGIN, minutes: 30 });
    nameInvitation(mum, inv.link, 'Dr Lee');
    await synced(mum);
    const dr = { signer: generateSigningKeyPair(), box: generateBoxKeyPair() };
    const c = await acceptInvitation(inv.link, { ...dr, relayUrl: mum.relayUrl!, minReconnectDelayMs: 50 });
    cleanups.push(() => c.close());
    const drKey = toHex(dr.signer.publicKey);
    await eventually(() => membersOf(mum).find((m) => m.key === drKey)?.name === 'Dr Lee');
    await announceSelf(c, { name: 'Dr. Lee Chen', label: 'Clinic PC' });
    await synced(c);
    await eventually(() => membersOf(mum).find((m) => m.key === drKey)?.name === 'Dr. Lee Chen');
    expect(membersOf(mum).find((m) => m.key === drKey)?.role).toBe('clinician');
    // The owner's name reaches a member who could not read the earlier epochs (it is in the plain state).
    await eventually(() => nameIn(c, ana) === 'Ana');
  });

  it('renaming applies in the vault and every profile; bad names are typed errors and change nothing', async () => {
    const { ana, bob, mum, bobsMum } = await family();
    await announceSelf(bobsMum, { name: bob.displayName });
    await eventually(() => nameIn(mum, bob) === 'Bob');
    expect(await renameSelf(bob, '  Robert   Smith ')).toBe('Robert Smith');
    expect(bob.displayName).toBe('Robert Smith');
    await synced(bobsMum);
    await eventually(() => nameIn(mum, bob) === 'Robert Smith');
    await expectVaultError(renameSelf(bob, '   '), 'NAME_EMPTY');
    await expectVaultError(renameSelf(bob, 'x'.repeat(65)), 'NAME_TOO_LONG');
    expect(bob.displayName).toBe('Robert Smith');
    expect(cleanName('x'.repeat(64))).toHaveLength(64);
    expect(cleanName('Ana\n\tMaria')).toBe('Ana Maria');
    // The owner renames too, and the viewer sees it.
    await renameSelf(ana, 'Ana Rossi');
    await eventually(() => nameIn(bobsMum, ana) === 'Ana Rossi');
    // Naming an invitation is an owner's; the viewer is refused.
    const inv = await createInvitation(mum, { origin: ORIGIN, role: Role.viewer });
    await expectVaultError(() => nameInvitation(bobsMum, inv.link, 'Someone'), 'NOT_OWNER');
    await expectVaultError(() => nameInvitation(mum, inv.link, ''), 'NAME_EMPTY');
  });

  it("a nickname is the person's own: it changes their vault, not the profile nor anyone else's list", async () => {
    const { ana, bob, docId } = await family();
    expect(bob.profiles().find((p) => p.docId === docId)?.name).toBe('Mum');
    await setNickname(bob, docId, 'Nonna');
    expect(bob.profiles().find((p) => p.docId === docId)?.name).toBe('Nonna');
    expect(ana.profiles().find((p) => p.docId === docId)?.name).toBe('Maria Rossi');
    await expectVaultError(setNickname(bob, docId, ' '), 'NAME_EMPTY');
    await expectVaultError(setNickname(bob, docId, 'n'.repeat(65)), 'NAME_TOO_LONG');
    await expectVaultError(setNickname(bob, 'nope', 'Nonna'), 'PROFILE_UNKNOWN');
    expect(bob.profiles().find((p) => p.docId === docId)?.name).toBe('Nonna');
  });

  it('a member leaves: owners see them gone and rotate, their device drops the profile, the relay refuses them; they can be invited again; the last owner may not leave', async () => {
    const { ana, bob, mum, docId } = await family();
    cleanups.push(keepDeparturesCovered(mum));
    const epochBefore = mum.membershipState().epoch;
    await expectVaultError(leaveProfile(mum), 'LEAVE_LAST_OWNER');
    const bobKey = toHex(bob.person.identity.signing.publicKey);
    await eventually(() => membersOf(mum).some((m) => m.key === bobKey));
    await leaveAndForget(bob, docId);
    expect(bob.profiles().map((p) => p.docId)).not.toContain(docId);
    await eventually(() => !membersOf(mum).some((m) => m.key === bobKey));
    expect(mum.membershipState().former.has(bobKey)).toBe(true);
    const trail = await mum.auditTrail();
    expect(trail.events.some((e) => e.kind === 'revoke' && e.detail === 'left' && e.subject === bobKey)).toBe(true);
    // Opening it again needs the vault entry, which is gone.
    await expectVaultError(() => bob.openProfile(docId), 'PROFILE_UNKNOWN');
    // Still the only owner: refused, and Ana is still a member.
    await expectVaultError(leaveProfile(mum), 'LEAVE_LAST_OWNER');
    expect(nameIn(mum, ana)).toBe('Ana');
    // The owner's device rotated (the leaver cannot): a snapshot covers the leaver's last
    // records, so a fresh replica (a new invitation) loads the profile without refusing them.
    await eventually(() => mum.membershipState().epoch > epochBefore);
    await synced(mum);
    const inv = await createInvitation(mum, { origin: ORIGIN, role: Role.viewer });
    await bob.acceptInvitation(inv.link, { name: 'Mum', relationship: 'mother-in-law' });
    await eventually(() => membersOf(mum).some((m) => m.key === bobKey));
  });

  it('leaving offline is refused and sends nothing', async () => {
    const { bob, bobsMum, docId } = await family();
    bob.networkLost();
    bobsMum.disconnect();
    await expectVaultError(leaveAndForget(bob, docId), 'LEAVE_NOT_SENT');
    expect(bob.profiles().map((p) => p.docId)).toContain(docId);
    expect(bobsMum.role).toBe(Role.viewer);
  });

  it('a removed member learns its access ended and can drop the profile from its device', async () => {
    const { bob, mum, bobsMum, docId } = await family();
    expect(accessEnded(bobsMum)).toBe(false);
    await mum.removeMember(bob.person.identity.signing.publicKey);
    await synced(mum);
    await eventually(() => accessEnded(bobsMum) || bobsMum.refusal.value === 'TOKEN_NOT_MEMBER');
    await bob.forgetProfile(docId);
    expect(bob.profiles().map((p) => p.docId)).not.toContain(docId);
  });
});
