/**
 * Decision 0023 through the real relay: a document the relay stored before record format v2
 * (43-character keys) keeps working. A current device catches up from it, writes v2 records and
 * compacts the v1 updates away; after a relay restart (index rebuilt from storage) a fresh
 * device reads the same, with no problems.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, generateSymmetricKey, toBase64Url } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, recordKey } from '../../src/lib/protocol/index.ts';
import { SqliteEnvelopeLog } from '../../src/lib/storage/sqlite-log.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { legacyEnvelope } from '../helpers/legacy-envelope.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();

describe('a document stored with v1 keys, through the relay', () => {
  it('a current device syncs, writes v2 records and compacts the v1 updates; after a restart a fresh device reads the same', async () => {
    const owner = generateSigningKeyPair();
    const epochKey = generateSymmetricKey();
    const legacy = await legacyEnvelope(owner, epochKey, 5);
    const name = toBase64Url(legacy.docId);
    const dir = tempDir('fhv-legacy-');
    cleanups.push(() => dir.remove());
    const log = new SqliteEnvelopeLog(dir.path);
    log.store(name, legacy.state, Date.now());
    log.close();
    let relay = await testRelay({ dataDir: dir.path });
    const port = relay.port;
    cleanups.push(() => relay.destroy());

    const access = { docId: legacy.docId, epoch: 0, epochKeys: new Map([[0, epochKey]]) };
    const common = { signer: owner, access, minReconnectDelayMs: 50, compactEvery: 1_000_000 };
    const device = await Profile.open({ ...common, relayUrl: relay.url });
    cleanups.push(() => device.close());
    await device.status.when((s) => s.synced, 10_000);
    const vitals = () => engineOf(device).plainDoc.getArray('list:vitals');
    expect(vitals().length).toBe(5);
    vitals().push([{ date: '2020-02-01', hr: 70 }]);
    await engineOf(device).sync.flush();
    await engineOf(device).sync.compact();
    vitals().push([{ date: '2020-02-02', hr: 71 }]);
    await device.flush();
    await device.status.when((s) => s.synced && s.pending === 0, 10_000);
    expect(device.status.value.problems).toEqual([]);

    const stored = new Y.Doc();
    Y.applyUpdate(stored, relay.store.load(name)!);
    const live = [...stored.getMap(ENVELOPE_MAP).keys()];
    expect(live.filter((k) => k.length === 43)).toEqual([recordKey(legacy.records[0]!)]); // the v1 genesis, never compacted
    expect(live.filter((k) => k.length === 22)).toHaveLength(2); // the v2 snapshot and the update after it

    await relay.destroy();
    relay = await testRelay({ dataDir: dir.path, port });
    const fresh = await Profile.open({ ...common, relayUrl: relay.url });
    cleanups.push(() => fresh.close());
    await fresh.status.when((s) => s.synced, 10_000);
    expect(fresh.status.value.problems).toEqual([]);
    expect(engineOf(fresh).plainDoc.getArray('list:vitals').toJSON()).toEqual(vitals().toJSON());
    expect(engineOf(fresh).plainDoc.getArray('list:vitals').length).toBe(7);
  });
});
