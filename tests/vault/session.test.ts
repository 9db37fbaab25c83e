/** A person on a device: onboarding, offline resume, restore on a new device, joining by invite. */
import { describe, expect, it } from 'vitest';
import { Role, type RoleCode } from '../../src/lib/protocol/index.ts';
import { createInvitation } from '../../src/lib/vault/invite.ts';
import { VaultSession } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { deviceEnv as sqliteDeviceEnv, ownerWithProfile, ALLERGY } from '../helpers/vault-device.ts';

const cleanups = cleanupList();
const allergy = ALLERGY;

const deviceEnv = (relayUrl?: string) => sqliteDeviceEnv(cleanups, relayUrl);

/** Ana's profile of Dad, with a penicillin allergy, synced through a relay; an invite to it for `role`. */
async function dadWithInvite(role: RoleCode) {
  const { relay, dad } = await ownerWithProfile(cleanups, 5000);
  return { relay, inv: await createInvitation(dad, { origin: 'http://127.0.0.1', role }) };
}

describe('vault session', () => {
  it('sets up offline, reopens offline with everything, and syncs once a relay is there', async () => {
    const env = deviceEnv();
    const { session, recoveryCode } = await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Laptop' });
    expect(recoveryCode.length).toBeGreaterThan(40);
    const entry = await session.createProfile({ name: 'Mum', relationship: 'mother' });
    const mum = await session.openProfile(entry.docId);
    expect(mum.canWrite).toBe(true);
    mum.records.put('allergies', allergy);
    await session.close();

    const again = await VaultSession.resume(env);
    expect(again?.profiles().map((p) => p.name)).toEqual(['Mum']);
    const reopened = await again!.openProfile(entry.docId);
    expect(reopened.records.get('allergies', 'pen')?.code.text).toBe('Penicillin');
    await again!.close();

    // Now online: the same device pushes its vault and profile; a second device restores them.
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const online = (await VaultSession.resume({ ...env, relayUrl: relay.url }))!;
    cleanups.push(() => online.close());
    const onlineMum = await online.openProfile(entry.docId);
    await online.vault.profile.status.when((s) => s.synced && s.pending === 0);
    await onlineMum.status.when((s) => s.synced && s.pending === 0);

    const phone = await VaultSession.restore(deviceEnv(relay.url), { code: recoveryCode, displayName: 'Ana', deviceLabel: 'Phone' });
    cleanups.push(() => phone.close());
    expect(phone.profiles().map((p) => p.name)).toEqual(['Mum']);
    const phoneMum = await phone.openProfile(entry.docId);
    await eventually(() => phoneMum.records.get('allergies', 'pen')?.code.text === 'Penicillin');
    // Its certificate is written as soon as the genesis arrives, which may be just after the records show.
    await eventually(() => phoneMum.canWrite);
    expect(phone.deviceId).not.toBe(online.deviceId);
  });

  it('the vault and every open profile share one WebSocket; offline shows at once on all, and they come back together', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    let upgrades = 0;
    relay.server.httpServer.on('upgrade', () => upgrades++);
    const env = deviceEnv(relay.url);
    const { session } = await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Laptop' });
    cleanups.push(() => session.close());
    const entries: Awaited<ReturnType<typeof session.createProfile>>[] = [];
    for (const name of ['Mum', 'Dad', 'Tom', 'Eva', 'Leo']) entries.push(await session.createProfile({ name, relationship: 'family' }));
    const profiles = await Promise.all(entries.map((e) => session.openProfile(e.docId)));
    const all = [session.vault.profile, ...profiles];
    await Promise.all(all.map((p) => p.status.when((s) => s.synced && s.pending === 0, 15_000)));
    expect(upgrades).toBe(1);
    // The browser says the network is gone: every profile stops saying "synced" at once.
    session.networkLost();
    for (const p of all) expect(p.status.value).toMatchObject({ synced: false, connection: 'offline' });
    // Back: one new socket for all of them.
    session.reconnectNow();
    await Promise.all(all.map((p) => p.status.when((s) => s.synced, 15_000)));
    expect(upgrades).toBe(2);
    profiles[2]!.records.put('allergies', allergy);
    await profiles[2]!.flush(10_000);
  });

  it('a wrong recovery code changes nothing; an unknown one finds no vault', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const env = deviceEnv(relay.url);
    await expect(VaultSession.restore(env, { code: 'not-a-code', displayName: 'X', deviceLabel: 'Y' })).rejects.toMatchObject({ code: 'RECOVERY_MALFORMED' });
    expect(await env.store.load()).toBeUndefined();
    const other = await VaultSession.create(deviceEnv(), { displayName: 'Z', deviceLabel: 'Z' });
    await other.session.close();
    await expect(VaultSession.restore(env, { code: other.recoveryCode, displayName: 'X', deviceLabel: 'Y' })).rejects.toMatchObject({ code: 'VAULT_NOT_FOUND' });
    expect(await env.store.load()).toBeUndefined();
  });

  it('a relative joins by invite link as a viewer and keeps the profile in their own vault', async () => {
    const { relay, inv } = await dadWithInvite(Role.viewer);
    const sister = (await VaultSession.create(deviceEnv(relay.url), { displayName: 'Bea', deviceLabel: 'Phone' })).session;
    cleanups.push(() => sister.close());
    const joined = await sister.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    expect(joined.role).toBe('viewer');
    const seen = await sister.openProfile(joined.docId);
    await eventually(() => seen.records.get('allergies', 'pen') !== undefined);
    expect(seen.canWrite).toBe(false);
  });

  it('a profile joined by invite is on the device at once: with the relay gone right after the join, it opens with its records', async () => {
    const { relay, inv } = await dadWithInvite(Role.editor);
    const env = deviceEnv(relay.url);
    const sister = (await VaultSession.create(env, { displayName: 'Bea', deviceLabel: 'Phone' })).session;
    const joined = await sister.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    await sister.close();
    await relay.destroy(); // the train enters the tunnel

    const offline = (await VaultSession.resume(env))!;
    cleanups.push(() => offline.close());
    const seen = await offline.openProfile(joined.docId);
    expect(seen.records.get('allergies', 'pen')?.code.text).toBe('Penicillin');
    expect(seen.canWrite).toBe(true);
  });

  it("a relative's new device reads what was sealed after rotations that happened before it existed", async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const owner = (await VaultSession.create(deviceEnv(relay.url), { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
    cleanups.push(() => owner.close());
    const entry = await owner.createProfile({ name: 'Dad', relationship: 'father' });
    const dad = await owner.openProfile(entry.docId);
    await dad.status.when((st) => st.synced && st.pending === 0);
    const inv = await createInvitation(dad, { origin: 'http://127.0.0.1', role: Role.viewer });
    const created = await VaultSession.create(deviceEnv(relay.url), { displayName: 'Bea', deviceLabel: 'Phone' });
    cleanups.push(() => created.session.close());
    await created.session.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    // Two rotations (a clinician session ended, say); new keys go to Bea's identity and her phone only.
    await dad.rotateKey();
    await dad.rotateKey();
    dad.records.put('allergies', { ...allergy, id: 'late', code: { text: 'Sealed under epoch 2' } });
    await dad.flush();
    const laptop = await VaultSession.restore(deviceEnv(relay.url), { code: created.recoveryCode, displayName: 'Bea', deviceLabel: 'Laptop' });
    cleanups.push(() => laptop.close());
    const seen = await laptop.openProfile(laptop.profiles()[0]!.docId);
    await eventually(() => seen.records.get('allergies', 'late')?.code.text === 'Sealed under epoch 2');
    expect(engineOf(seen).sync.currentEpoch).toBe(2);
  });

  it('revoking a device: it learns it was revoked, and the rotation that follows gives it no new key', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { session: laptop, recoveryCode } = await VaultSession.create(deviceEnv(relay.url), { displayName: 'Ana', deviceLabel: 'Laptop' });
    cleanups.push(() => laptop.close());
    const entry = await laptop.createProfile({ name: 'Mum', relationship: 'mother' });
    const mum = await laptop.openProfile(entry.docId);
    await laptop.vault.profile.status.when((st) => st.synced && st.pending === 0);
    await mum.status.when((st) => st.synced && st.pending === 0);
    const phone = await VaultSession.restore(deviceEnv(relay.url), { code: recoveryCode, displayName: 'Ana', deviceLabel: 'Phone' });
    cleanups.push(() => phone.close());
    const phoneMum = await phone.openProfile(entry.docId);
    await phoneMum.status.when((st) => st.synced && st.pending === 0);
    await eventually(() => engineOf(mum).sync.index.membership.state().devices.has(phone.deviceId));
    let told = 0;
    phone.onRevoked(() => told++);
    expect(laptop.devices().map((d) => d.label).sort()).toEqual(['Laptop', 'Phone']);
    await laptop.revokeDevice(phone.deviceId);
    await eventually(() => phone.revoked && told === 1);
    mum.records.put('allergies', { ...allergy, id: 'after', code: { text: 'After the revocation' } });
    await mum.flush();
    await eventually(() => engineOf(phoneMum).sync.index.membership.state().epoch === engineOf(mum).sync.currentEpoch);
    expect(engineOf(phoneMum).sync.keys.has(engineOf(mum).sync.currentEpoch)).toBe(false);
    expect(phoneMum.records.get('allergies', 'after')).toBeUndefined();
  });

  it('a one-time device link adds a device once; a second use is refused and that device keeps nothing', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { session: laptop } = await VaultSession.create(deviceEnv(relay.url), { displayName: 'Ana', deviceLabel: 'Laptop' });
    cleanups.push(() => laptop.close());
    await laptop.createProfile({ name: 'Mum', relationship: 'mother' });
    await laptop.vault.profile.status.when((st) => st.synced && st.pending === 0);
    const link = await laptop.createDeviceLink('http://127.0.0.1');
    expect(link.url).toMatch(/#\/link\/[A-Za-z0-9_-]+$/);
    expect(laptop.deviceLinkUsedBy(link.linkId)).toBeNull();

    const tablet = await VaultSession.joinWithLink(deviceEnv(relay.url), link.url, { displayName: 'Ana', deviceLabel: 'Tablet' });
    cleanups.push(() => tablet.close());
    expect(tablet.profiles().map((p) => p.name)).toEqual(['Mum']);
    await tablet.vault.profile.flush();
    await eventually(() => laptop.deviceLinkUsedBy(link.linkId) === 'Tablet');

    const thief = deviceEnv(relay.url);
    await expect(VaultSession.joinWithLink(thief, link.url, { displayName: 'X', deviceLabel: 'Y' })).rejects.toMatchObject({ code: 'LINK_USED' });
    expect(await thief.store.load()).toBeUndefined();
    // The refused device never certified itself: the person's device list is unchanged (given
    // time for a certificate to arrive, had one been written).
    await new Promise((r) => setTimeout(r, 800));
    expect(laptop.devices().map((d) => d.label).sort()).toEqual(['Laptop', 'Tablet']);
    await expect(VaultSession.joinWithLink(deviceEnv(relay.url), 'http://127.0.0.1/#/link/garbage', { displayName: 'X', deviceLabel: 'Y' })).rejects.toMatchObject({ code: 'LINK_MALFORMED' });
  });
});
