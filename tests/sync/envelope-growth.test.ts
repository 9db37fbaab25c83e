/**
 * Decision 0023: envelopes stored before the v2 key format keep working, and the byte-ratio
 * compaction trigger keeps the tail bounded by the snapshot while paying for every snapshot
 * with the tail before it (snapshot bytes O(n) amortised).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, generateSymmetricKey, nobleEngine, seededRandom, toHex } from '../../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, ENVELOPE_MAP, rebuildEnvelopeIndex, recordKey, RecordType } from '../../src/lib/protocol/index.ts';
import { compactionDue, type CompactionPolicy } from '../../src/lib/sync/compaction.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { legacyEnvelope } from '../helpers/legacy-envelope.ts';

const engine = nobleEngine;

describe('envelopes stored with v1 keys', () => {
  it('a current device opens one, writes v2 records, compacts the v1 records away, and the relay policy takes every update it sends; a fresh replica reads the same', async () => {
    const owner = generateSigningKeyPair();
    const epochKey = generateSymmetricKey();
    const legacy = await legacyEnvelope(owner, epochKey, 6);
    for (const r of legacy.records) expect(recordKey(r)).toHaveLength(43);

    // The relay's copy and its index, as rebuilt from storage at start.
    const relayDoc = new Y.Doc();
    Y.applyUpdate(relayDoc, legacy.state);
    const rebuilt = rebuildEnvelopeIndex(legacy.docId, legacy.state);
    expect(rebuilt.quarantined).toEqual([]);
    const index = rebuilt.index;

    const access = { docId: legacy.docId, epoch: 0, epochKeys: new Map([[0, epochKey]]) };
    const persistence = (envelope: Y.Doc) => {
      Y.applyUpdate(envelope, legacy.state);
      return () => {};
    };
    const device = await Profile.open({ signer: owner, access, persistence, engine, compactEvery: 1_000_000 });
    expect(device.status.value.problems).toEqual([]);
    expect(engineOf(device).plainDoc.getArray('list:vitals').length).toBe(6);

    const sent: Uint8Array[] = [];
    engineOf(device).envelopeDoc.on('update', (u: Uint8Array) => sent.push(u));
    engineOf(device).plainDoc.getArray('list:vitals').push([{ date: '2020-02-01', hr: 70 }]);
    await engineOf(device).sync.flush();
    await engineOf(device).sync.compact();
    engineOf(device).plainDoc.getArray('list:vitals').push([{ date: '2020-02-02', hr: 71 }]);
    await engineOf(device).sync.flush();

    for (const update of sent) {
      const verdict = await checkEnvelopeUpdate(update, index, { engine, now: Date.now(), stateOf: (c) => Y.getState(relayDoc.store, c), sender: toHex(owner.publicKey) });
      expect(verdict.ok ? 'accepted' : verdict.code).toBe('accepted');
      if (verdict.ok) verdict.value.commit();
      Y.applyUpdate(relayDoc, update);
    }
    const live = [...relayDoc.getMap<Uint8Array>(ENVELOPE_MAP).keys()];
    // The v1 genesis stays (membership is never deleted); the v1 updates are compacted; new records have v2 keys.
    expect(live.filter((k) => k.length === 43)).toEqual([recordKey(legacy.records[0]!)]);
    expect(live.filter((k) => k.length === 22).length).toBe(2); // the snapshot and the last update
    expect(index.liveKeys().sort()).toEqual(live.sort());
    // An index rebuilt from the relay's stored state agrees.
    expect(rebuildEnvelopeIndex(legacy.docId, Y.encodeStateAsUpdate(relayDoc)).index.liveKeys().sort()).toEqual(live);

    const fresh = await Profile.open({ signer: owner, access, persistence: (e) => (Y.applyUpdate(e, Y.encodeStateAsUpdate(relayDoc)), () => {}), engine });
    expect(fresh.status.value.problems).toEqual([]);
    expect(engineOf(fresh).plainDoc.getArray('list:vitals').toJSON()).toEqual(engineOf(device).plainDoc.getArray('list:vitals').toJSON());
    expect(engineOf(fresh).plainDoc.getArray('list:vitals').length).toBe(8);
    await device.close();
    await fresh.close();
  });
});

describe('byte-ratio compaction', () => {
  it('after every edit the live tail is under the record floor or below ratio x snapshot bytes, and every snapshot but the last was paid for by a tail of at least ratio x its size', async () => {
    const policy = { kind: 'tail-ratio', tailRatio: 0.5, minTailRecords: 20 } as const satisfies CompactionPolicy;
    const p = await Profile.create({ signer: generateSigningKeyPair(), compaction: policy, engine });
    const { plainDoc, envelopeDoc, sync } = engineOf(p);
    const map = envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP);
    const snapshots: number[] = [];
    /** Update bytes sealed since the last snapshot, per snapshot. */
    const tails: number[] = [];
    /** Update records sealed since the last snapshot, per snapshot. */
    const tailCounts: number[] = [];
    let tail = 0;
    let count = 0;
    map.observe((e) => {
      for (const [key, change] of e.changes.keys) {
        const v = change.action === 'add' ? map.get(key) : undefined;
        if (!v) continue;
        if (v[3] === RecordType.snapshot) {
          snapshots.push(v.length);
          tails.push(tail);
          tailCounts.push(count);
          tail = 0;
          count = 0;
        } else if (v[3] === RecordType.update) {
          tail += v.length;
          count++;
        }
      }
    });
    const prng = seededRandom(11);
    for (let i = 0; i < 500; i++) {
      // A growing document: vitals appended, a note edited.
      if (prng(1)[0]! < 160) plainDoc.getArray('list:vitals').push([{ i, hr: 60 + (i % 30), note: 'x'.repeat(prng(1)[0]! % 40) }]);
      else plainDoc.getText('note:visits').insert(0, `visit ${i} `);
      await sync.flush();
      await sync.compactIfDue();
      const { tail: liveTail, tailRecords, snapshots: liveSnapshots } = sync.index.liveBytes;
      expect(compactionDue(sync.index, policy)).toBe(false);
      expect(tailRecords < policy.minTailRecords || liveTail < policy.tailRatio * liveSnapshots).toBe(true);
    }
    // Snapshots happened, and more than one.
    expect(snapshots.length).toBeGreaterThan(2);
    // Snapshot k (k >= 1) was written only once the tail since snapshot k-1 reached ratio x snapshot k-1.
    for (let k = 1; k < snapshots.length; k++) expect(tails[k]!).toBeGreaterThanOrEqual(policy.tailRatio * snapshots[k - 1]!);
    // Never more often than the record floor (the old count): at least that many updates between snapshots.
    for (const c of tailCounts) expect(c).toBeGreaterThanOrEqual(policy.minTailRecords);
    const sealedSnapshots = snapshots.slice(0, -1).reduce((a, b) => a + b, 0);
    const sealedUpdates = tails.reduce((a, b) => a + b, 0) + tail;
    expect(sealedSnapshots).toBeLessThanOrEqual(sealedUpdates / policy.tailRatio);
    await p.close();
  });

  it('the fixed-count policy (compactEvery) still snapshots at exactly that many live records', async () => {
    const p = await Profile.create({ signer: generateSigningKeyPair(), compactEvery: 5, engine });
    const { plainDoc, sync } = engineOf(p);
    const policy: CompactionPolicy = { kind: 'every', records: 5 };
    for (let i = 0; i < 4; i++) {
      plainDoc.getArray('list:vitals').push([i]);
      await sync.flush();
    }
    expect(sync.index.liveCompactable).toBe(4);
    expect(compactionDue(sync.index, policy)).toBe(false);
    plainDoc.getArray('list:vitals').push([4]);
    await sync.flush();
    await sync.compactIfDue();
    // Five updates reached the count: one snapshot replaced them.
    expect(sync.index.liveCompactable).toBe(1);
    expect(sync.index.snapshots()).toHaveLength(1);
    await p.close();
  });
});
