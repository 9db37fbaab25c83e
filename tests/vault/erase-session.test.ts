/**
 * Erasure in the app's vault session (decision 0035): the owner's typed confirmation, the
 * owner's and a relative's devices dropping the profile (copy, vault entry and keys) and a note
 * in each person's own vault audit trail.
 */
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/lib/protocol/index.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { createInvitation } from '../../src/lib/vault/invite.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const allergy = { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } };

function deviceEnv(relayUrl: string) {
  const dir = tempDir();
  const store = sqlitePersistence(dir.path);
  const dropped: string[] = [];
  cleanups.push(() => {
    store.close();
    dir.remove();
  });
  const env: SessionEnv = {
    store: memoryDeviceStore(),
    persistence: store.persistence,
    // What the browser's IndexedDB eraser does, on this device's SQLite store.
    erase: async (names) => {
      for (const n of names) store.log.erase(n);
      dropped.push(...names);
    },
    relayUrl,
    minReconnectDelayMs: 50,
    timeoutMs: 10_000,
  };
  return { env, store, dropped };
}

describe('erasing a profile from the vault session', () => {
  it('the owner types the name to erase; both people drop it, keys included, and their vault audits note it', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const a = deviceEnv(relay.url);
    const owner = (await VaultSession.create(a.env, { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
    cleanups.push(() => owner.close());
    const entry = await owner.createProfile({ name: 'Dad', relationship: 'father' });
    const dad = await owner.openProfile(entry.docId);
    dad.records.put('allergies', allergy);
    await dad.status.when((s) => s.synced && s.pending === 0, 5000);
    const inv = await createInvitation(dad, { origin: 'http://127.0.0.1', role: Role.editor });
    const b = deviceEnv(relay.url);
    const sister = (await VaultSession.create(b.env, { displayName: 'Bea', deviceLabel: 'Phone' })).session;
    cleanups.push(() => sister.close());
    const joined = await sister.acceptInvitation(inv.link, { name: 'Dad', relationship: 'father' });
    const seen = await sister.openProfile(joined.docId);
    await eventually(() => seen.records.get('allergies', 'pen') !== undefined);

    await expect(sister.eraseProfileEverywhere(joined.docId, 'Dad')).rejects.toMatchObject({ code: 'ERASE_NOT_OWNER' });
    await expect(owner.eraseProfileEverywhere(entry.docId, 'dad')).rejects.toMatchObject({ code: 'ERASE_CONFIRM_MISMATCH' });
    expect(await relay.storage.tombstone(entry.docId)).toBeUndefined();

    const order = await owner.eraseProfileEverywhere(entry.docId, 'Dad');
    expect(owner.profiles().map((p) => p.docId)).not.toContain(entry.docId);
    expect(a.dropped).toEqual([entry.docId]);
    expect(a.store.log.documentNames()).not.toContain(entry.docId);

    await eventually(() => seen.refusal.value === 'PROFILE_ERASED');
    const learned = await sister.dropErasedProfile(joined.docId);
    expect(learned.erasedAt).toBe(order.erasedAt);
    expect(sister.profiles().map((p) => p.docId)).not.toContain(joined.docId);
    expect(b.store.log.documentNames()).not.toContain(joined.docId);
    for (const s of [owner, sister]) {
      const trail = await s.vault.profile.auditTrail();
      expect(trail.events.some((e) => e.kind === 'erase' && e.detail?.includes(entry.docId))).toBe(true);
    }
  }, 60_000);
});
