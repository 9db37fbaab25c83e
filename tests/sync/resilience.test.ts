/**
 * Guarantee 7: no acknowledged local edit is lost across offline periods, relay restarts and
 * device restarts; a device cold-starts from its encrypted local store alone.
 */
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { insertNote, setField } from '../helpers/raw-edits.ts';

const cleanups = cleanupList();

async function family(relayUrl: string) {
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const dirs = [tempDir(), tempDir()];
  cleanups.push(() => dirs.forEach((d) => d.remove()));
  const stores = dirs.map((d) => sqlitePersistence(d.path));
  cleanups.push(() => stores.forEach((s) => s.close()));
  const common = { relayUrl, minReconnectDelayMs: 50 };
  const a = await Profile.create({ ...common, signer: alice, persistence: stores[0]!.persistence, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
  await a.flush();
  const b = await Profile.open({ ...common, signer: bob, access: a.access, persistence: stores[1]!.persistence });
  await b.status.when((s) => s.synced);
  return { a, b, alice, bob, stores, dirs };
}

const same = (x: Profile, y: Profile) => JSON.stringify([x.readNote('n'), x.getField('meds', 'm1'), x.getField('meds', 'm2')]) ===
  JSON.stringify([y.readNote('n'), y.getField('meds', 'm1'), y.getField('meds', 'm2')]);

describe('offline, restarts and cold starts', () => {
  it('offline edits on two devices merge after reconnect', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { a, b } = await family(relay.url);
    cleanups.push(() => a.close(), () => b.close());
    a.disconnect();
    b.disconnect();
    expect(a.status.value.state).toBe('offline');
    insertNote(a, 'n', 0, 'from A. ');
    setField(a, 'meds', 'm1', 'metformin 500mg');
    insertNote(b, 'n', 0, 'from B. ');
    setField(b, 'meds', 'm2', 'lisinopril 10mg');
    await engineOf(a).sync.flush();
    await engineOf(b).sync.flush();
    expect(a.status.value.state).toBe('offline');
    await a.connect();
    await b.connect();
    await a.flush();
    await b.flush();
    await eventually(() => same(a, b), 10_000, () => JSON.stringify([a.toJSON(), b.toJSON()]));
    expect(a.readNote('n')).toHaveLength('from A. from B. '.length);
    expect(a.getField('meds', 'm2')).toBe('lisinopril 10mg');
    expect(b.getField('meds', 'm1')).toBe('metformin 500mg');
    // The relay forwards B's records while storing them (decision 0026): A may see them before
    // its own re-sync answer is acknowledged, which waits for those appends. Then it is synced.
    await a.flush();
    expect(a.status.value.state).toBe('synced');
  });

  it('a relay restart in the middle of a sync loses nothing', async () => {
    const dataDir = tempDir('fhv-relay-');
    cleanups.push(() => dataDir.remove());
    let relay = await testRelay({ dataDir: dataDir.path });
    const port = relay.port;
    const { a, b } = await family(relay.url);
    cleanups.push(() => a.close(), () => b.close());
    for (let i = 0; i < 50; i++) insertNote(a, 'n', i, String.fromCharCode(97 + (i % 26)));
    setField(a, 'meds', 'm1', 'warfarin 5mg');
    await engineOf(a).sync.flush(); // sealed locally; the relay may or may not have it yet
    await relay.destroy();
    setField(b, 'meds', 'm2', 'edited while the relay was down');
    await engineOf(b).sync.flush();
    relay = await testRelay({ dataDir: dataDir.path, port });
    cleanups.push(() => relay.destroy());
    await a.status.when((s) => s.state === 'synced', 15_000);
    await b.status.when((s) => s.state === 'synced', 15_000);
    await eventually(() => same(a, b), 10_000, () => JSON.stringify([a.toJSON(), b.toJSON()]));
    expect(b.readNote('n')).toHaveLength(50);
    expect(a.getField('meds', 'm2')).toBe('edited while the relay was down');
  });

  it('a device cold-starts from its local store alone, then keeps writing on its chain', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { a, b, bob, stores, dirs } = await family(relay.url);
    cleanups.push(() => a.close());
    insertNote(b, 'n', 0, 'written before the crash');
    await b.flush();
    const head = engineOf(b).sync.ownHead.seq;
    await b.close();
    stores[1]!.close();
    // Offline restart: no relay URL at all, only the device's encrypted store.
    const reopenedStore = sqlitePersistence(dirs[1]!.path);
    cleanups.push(() => reopenedStore.close());
    const offline = await Profile.open({ signer: bob, access: a.access, persistence: reopenedStore.persistence });
    expect(offline.readNote('n')).toBe('written before the crash');
    expect(engineOf(offline).sync.ownHead.seq).toBe(head);
    insertNote(offline, 'n', 0, 'after restart: ');
    await engineOf(offline).sync.flush();
    expect(engineOf(offline).sync.ownHead.seq).toBe(head + 1);
    expect(offline.status.value.problems).toEqual([]);
    await offline.close();
    const online = await Profile.open({ signer: bob, access: a.access, persistence: reopenedStore.persistence, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => online.close());
    await online.flush();
    await eventually(() => a.readNote('n') === 'after restart: written before the crash');
    expect(a.status.value.problems).toEqual([]);
  });
});
