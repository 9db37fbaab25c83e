/**
 * The join screen's flow (src/lib/state/join.svelte.ts) over the app state and a real relay:
 * an editor invite on a device with no vault is read without using it, offers no guest
 * session, and "Create my vault and join" leaves a kept membership: a new AppState over the
 * same device storage (a reload) lists the profile and opens it as an editor. A live session's
 * link offers the guest path. The Sharing list drops a member whose session ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/lib/protocol/index.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { AppState } from '../../src/lib/state/app.svelte.ts';
import { JoinFlow } from '../../src/lib/state/join.svelte.ts';
import { currentMembers, nextEnding } from '../../src/lib/state/sharing.svelte.ts';
import { createInvitation } from '../../src/lib/vault/invite.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { startChildRelay, type ChildRelay } from './shl-share-relay.ts';

const ORIGIN = 'http://127.0.0.1';

describe('JoinFlow: invites that keep', () => {
  let relay: ChildRelay;
  let owner: VaultSession;
  let dad: Profile;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    relay = await startChildRelay();
    const env: SessionEnv = { store: memoryDeviceStore(), persistence: memoryPersistence(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 };
    owner = (await VaultSession.create(env, { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
    const entry = await owner.createProfile({ name: 'Dad', relationship: 'father' });
    dad = await owner.openProfile(entry.docId);
    dad.records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });
    await dad.status.when((s) => s.synced && s.pending === 0, 15_000);
  });

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await owner?.close();
    await relay?.stop();
  });

  it('an editor invite on a device with no vault: create my vault and join; a reload keeps the membership', async () => {
    const inv = await createInvitation(dad, { origin: ORIGIN, role: Role.editor });
    // One device: its key store and encrypted store outlive the AppState (the tab).
    const device: SessionEnv = { store: memoryDeviceStore(), persistence: memoryPersistence(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 };
    const app = new AppState(device, ORIGIN);
    await app.init();
    expect(app.phase).toBe('onboarding');
    const flow = new JoinFlow(app, inv.link);
    await flow.check();
    expect(flow.invite).toMatchObject({ role: 'editor', session: false });
    expect(flow.offersGuest).toBe(false);
    expect(await flow.joinAsGuest('Bea')).toBe(false);

    expect(await flow.createVaultAndJoin({ displayName: 'Bea', deviceLabel: 'Phone', name: 'Dad', relationship: 'father' })).toBe(true);
    expect(flow.recoveryCode?.length).toBeGreaterThan(40);
    expect(flow.joined).toBe(dad.name);
    expect(app.error).toBeNull();
    await app.session!.close();

    // The reload: a new app state over the same device storage.
    const reloaded = new AppState(device, ORIGIN);
    await reloaded.init();
    closers.push(() => reloaded.session!.close());
    expect(reloaded.phase).toBe('ready');
    expect(reloaded.family.map((e) => [e.docId, e.role, e.name])).toEqual([[dad.name, 'editor', 'Dad']]);
    const p = await reloaded.open(dad.name);
    await p.profile.status.when((s) => s.synced, 15_000);
    expect(p.role).toBe('editor');
    expect(p.list('allergies').map((a) => a.code?.text)).toContain('Penicillin');
  });

  it("a live session's link offers the guest path, and says when the access ends", async () => {
    const inv = await createInvitation(dad, { origin: ORIGIN, role: Role.clinician, accessForMs: 15 * 60_000, validForMs: 15 * 60_000, history: false });
    const app = new AppState({ store: memoryDeviceStore(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 }, ORIGIN);
    await app.init();
    const flow = new JoinFlow(app, inv.link);
    await flow.check();
    expect(flow.invite).toMatchObject({ role: 'clinician', session: true, accessEndsAt: inv.memberExpiresAt });
    expect(flow.offersGuest).toBe(true);
  });

  it('a refused link is said before anything is made on the device', async () => {
    const app = new AppState({ store: memoryDeviceStore(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 }, ORIGIN);
    await app.init();
    const inv = await createInvitation(dad, { origin: ORIGIN, role: Role.viewer });
    const first = new JoinFlow(app, inv.link);
    await first.check();
    expect(first.invite?.role).toBe('viewer');
    // Someone else uses it first.
    const other = (await VaultSession.create({ store: memoryDeviceStore(), persistence: memoryPersistence(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 }, { displayName: 'X', deviceLabel: 'Y' })).session;
    closers.push(() => other.close());
    await other.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    const late = new JoinFlow(app, inv.link);
    await late.check();
    expect(late.invite).toBeNull();
    expect(late.refused).toMatch(/not valid/);
    expect(app.session).toBeUndefined();
  });

  it('the Sharing list drops a member whose session ended, and re-reads at the next ending', () => {
    const members = [{ key: 'a', expiresAt: 0 }, { key: 'c', expiresAt: 2_000 }, { key: 'd', expiresAt: 5_000 }];
    expect(currentMembers(members, 1_000).map((m) => m.key)).toEqual(['a', 'c', 'd']);
    expect(currentMembers(members, 2_000).map((m) => m.key)).toEqual(['a', 'd']);
    expect(nextEnding(members, 1_000)).toBe(2_000);
    expect(nextEnding(members, 2_000)).toBe(5_000);
    expect(nextEnding(members, 5_000)).toBeUndefined();
  });
});
