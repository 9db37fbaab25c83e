/**
 * Devices learn of erasures proactively (decision 0035 amended 2026-12-02, threat model claim
 * 91): a relative's device that holds an erased profile but never opens it again drops it (copy,
 * vault entry, keys) when its vault connects on start, and when its connection comes back while
 * running; profiles not erased stay.
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

describe('learning of erasures on start and on reconnect', () => {
  it('drops erased profiles that are never opened again; keeps the others', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const a = deviceEnv(relay.url);
    const owner = (await VaultSession.create(a.env, { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
    cleanups.push(() => owner.close());
    const share = async (name: string) => {
      const entry = await owner.createProfile({ name, relationship: 'parent' });
      const p = await owner.openProfile(entry.docId);
      p.records.put('allergies', allergy);
      await p.status.when((s) => s.synced && s.pending === 0, 5000);
      return { entry, invite: await createInvitation(p, { origin: 'http://127.0.0.1', role: Role.viewer }) };
    };
    const dad = await share('Dad');
    const mum = await share('Mum');
    const gran = await share('Gran');
    const b = deviceEnv(relay.url);
    let sister = (await VaultSession.create(b.env, { displayName: 'Bea', deviceLabel: 'Phone' })).session;
    for (const s of [dad, mum, gran]) {
      const joined = await sister.acceptInvitation(s.invite.link, { name: s.entry.name, relationship: 'parent' });
      await (await sister.openProfile(joined.docId)).status.when((st) => st.synced, 10_000);
    }
    await sister.close();
    expect(b.store.log.documentNames()).toEqual(expect.arrayContaining([dad.entry.docId, mum.entry.docId, gran.entry.docId]));

    // Erased while the sister's device is off.
    await owner.eraseProfileEverywhere(dad.entry.docId, 'Dad');

    // On start: the vault connects, the sweep asks about every profile, Dad goes (never opened).
    sister = (await VaultSession.resume(b.env))!;
    cleanups.push(() => sister.close());
    const stop = sister.watchErasures({ minIntervalMs: 0 });
    cleanups.push(stop);
    await eventually(() => !sister.profiles().some((p) => p.docId === dad.entry.docId), 20_000);
    await eventually(() => b.dropped.includes(dad.entry.docId));
    expect(b.store.log.documentNames()).not.toContain(dad.entry.docId);
    expect(sister.profiles().map((p) => p.name).sort()).toEqual(['Gran', 'Mum']);

    // While running: erased, then the connection drops and comes back; Mum goes, Gran stays.
    await owner.eraseProfileEverywhere(mum.entry.docId, 'Mum');
    sister.networkLost();
    await eventually(() => sister.vault.profile.status.value.connection !== 'connected');
    sister.reconnectNow();
    await eventually(() => !sister.profiles().some((p) => p.docId === mum.entry.docId), 20_000);
    expect(b.store.log.documentNames()).not.toContain(mum.entry.docId);
    expect(sister.profiles().map((p) => p.name)).toEqual(['Gran']);
    const trail = await sister.vault.profile.auditTrail();
    expect(trail.events.filter((e) => e.kind === 'erase').length).toBe(2);
  }, 120_000);
});
