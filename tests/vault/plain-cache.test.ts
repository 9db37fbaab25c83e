/**
 * The device-local plain-state cache (docs/decisions/0020): a cached open shows the same
 * profile a full open builds from the verified envelope, the tail the cache does not cover
 * arrives with the background check, a cache holding anything the verified records do not is
 * caught and never kept or sealed, a tampered cache is refused, and the cache is sealed (no
 * plaintext at rest) under a non-extractable key.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import type { Persistence, PlainCacheStore } from '../../src/lib/storage/types.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { createPlainCacheKey, openPlainCache, sealPlainCache, type PlainCacheOptions } from '../../src/lib/vault/plain-cache.ts';
import { Profile, type ProfileAccess } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { scanForCanaries } from '../helpers/nemesis.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { cacheContainedIn } from '../../src/lib/sync/cached-open.ts';
import { createPrng, withSeed, type Prng } from '../helpers/prng.ts';

const FILE = 'tests/vault/plain-cache.test.ts';
const cleanups = cleanupList();
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const allergy = (id: string, text: string) => ({
  id,
  schemaVersion: 1,
  resourceType: 'AllergyIntolerance',
  code: { text },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
});

/** Cache options with deterministic IVs (a fresh non-extractable key per test). */
async function cacheOptions(seed = 1): Promise<PlainCacheOptions> {
  const prng = createPrng(seed);
  return { key: await createPlainCacheKey(), random: (n) => prng.bytes(n) };
}

/** One random edit of the kinds a person makes: a record, a note, a list entry added or removed. */
function edit(p: Profile, prng: Prng, i: number): void {
  const list = engineOf(p).plainDoc.getArray<unknown>('list:vitals');
  switch (prng.int(0, 3)) {
    case 0:
      p.records.put('allergies', allergy(`a${prng.int(0, 4)}`, prng.word()));
      return;
    case 1:
      p.note('visits').setText(`${p.readNote('visits')} ${prng.word()}`);
      return;
    case 2:
      list.push([{ i, v: prng.int(50, 150) }]);
      return;
    default:
      if (list.length > 0) list.delete(prng.int(0, list.length - 1), 1);
      else list.push([{ i, v: 0 }]);
  }
}

/** Counts of records in the stored envelope (what was sealed). */
const recordCount = (p: Profile) => engineOf(p).envelopeDoc.getMap('r').size;

/** A store whose cache bytes the test can read and replace. */
function inspectable(persistence: Persistence): { persistence: Persistence; caches: Map<string, Uint8Array> } {
  const caches = new Map<string, Uint8Array>();
  const store = (name: string): PlainCacheStore => ({
    read: async () => caches.get(name),
    write: async (b) => void caches.set(name, b),
    clear: async () => void caches.delete(name),
  });
  return { persistence: Object.assign((e: Y.Doc, n: string) => persistence(e, n), { plainCache: store }), caches };
}

async function openCached(o: { signer: ReturnType<typeof generateSigningKeyPair>; box?: ReturnType<typeof generateBoxKeyPair>; access: ProfileAccess; persistence: Persistence; plainCache?: PlainCacheOptions; compactEvery?: number }) {
  const p = await Profile.open({ signer: o.signer, box: o.box, access: o.access, persistence: o.persistence, plainCache: o.plainCache, compactEvery: o.compactEvery });
  cleanups.push(() => p.close());
  return p;
}

describe('plain-state cache: a cached open equals a full open', () => {
  it('after seeded random edits (with compactions and reopenings), the cached open shows what the verified envelope holds', () =>
    withSeed(FILE, 'after seeded random edits', async (prng) => {
      const me = device();
      const { persistence, caches } = inspectable(memoryPersistence());
      const plainCache = await cacheOptions(prng.seed);
      let p = await Profile.create({ ...me, persistence, plainCache, compactEvery: 7 });
      const access = p.access;
      let step = 0;
      for (let round = 0; round < 4; round++) {
        for (let k = prng.int(3, 15); k > 0; k--) {
          edit(p, prng, step++);
          if (prng.bool(0.4)) await engineOf(p).sync.flush();
        }
        // Compared as values: a map's key order follows how its entries were integrated.
        const expected = p.toJSON();
        await p.close(); // writes the cache
        expect(caches.size).toBe(1);
        p = await Profile.open({ signer: me.signer, access, persistence, plainCache, compactEvery: 7 });
        // Shown from the cache before any record is verified: the same content.
        expect(p.cacheRead).toBe('hit');
        expect(p.status.value.state).toBe('verifying');
        expect(p.toJSON()).toEqual(expected);
        expect(await p.whenVerified()).toBe('verified');
        expect(p.status.value.verifying).toBe(false);
        expect(p.toJSON()).toEqual(expected);
      }
      const expected = p.toJSON();
      await p.close();
      // The full path (no cache) over the same stored envelope builds the same profile.
      const full = await openCached({ signer: me.signer, access, persistence });
      expect(full.cacheRead).toBe('none');
      expect(full.toJSON()).toEqual(expected);
    }));
});

describe('plain-state cache: after a key rotation', () => {
  it('a cache written under the new epoch is used with the old access (the key comes by lockbox) and verifies', async () => {
    const me = device();
    const { persistence } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.rotateKey();
    a.records.put('allergies', allergy('b', 'Latex'));
    const expected = a.toJSON();
    await a.close();
    const b = await openCached({ signer: me.signer, box: me.box, access: a.access, persistence, plainCache });
    expect(b.cacheRead).toBe('hit');
    expect(b.toJSON()).toEqual(expected);
    expect(await b.whenVerified()).toBe('verified');
    expect(engineOf(b).sync.currentEpoch).toBe(1);
    expect(b.toJSON()).toEqual(expected);
    expect(b.status.value.problems).toEqual([]);
  });
});

describe('plain-state cache: the tail', () => {
  it('records the cache does not cover are verified and applied after the cached open, and the next cache covers them', async () => {
    const me = device();
    const { persistence, caches } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.close();
    const stale = caches.get(a.name)!;

    // More records sealed by an open that does not keep a cache: the cache is now stale.
    const b = await Profile.open({ signer: me.signer, access: a.access, persistence });
    b.records.put('allergies', allergy('b', 'Latex'));
    b.note('visits').setText('Cardiology follow-up');
    await b.close();
    expect(caches.get(a.name)).toBe(stale);
    const stored = await openPlainCache(stale, a.access.docId, plainCache);
    const ownHead = stored.coverage.find((h) => h.author === Buffer.from(me.signer.publicKey).toString('hex'))!;

    const c = await openCached({ signer: me.signer, access: a.access, persistence, plainCache });
    expect(c.cacheRead).toBe('hit');
    expect(c.records.list('allergies').map((r) => r.id)).toEqual(['a']); // the cache only, at first
    expect(await c.whenVerified()).toBe('verified');
    expect(c.records.list('allergies').map((r) => r.id).sort()).toEqual(['a', 'b']);
    expect(c.readNote('visits')).toBe('Cardiology follow-up');
    // The tail is exactly the records after the cache's coverage: the own chain moved on.
    expect(engineOf(c).sync.ownHead.seq).toBeGreaterThan(ownHead.seq);
    await c.writeCache();
    const fresh = await openPlainCache(caches.get(a.name)!, a.access.docId, plainCache);
    expect(fresh.coverage.find((h) => h.author === ownHead.author)!.seq).toBe(engineOf(c).sync.ownHead.seq);
  });
});

describe('plain-state cache: edits while the background check runs', () => {
  it('are queued, sealed once after the check, and survive a reopen exactly once; owner writes wait for the check', async () => {
    const me = device();
    const persistence = memoryPersistence();
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.note('visits').setText('one');
    await a.close();

    const b = await Profile.open({ signer: me.signer, access: a.access, persistence, plainCache });
    expect(b.status.value.state).toBe('verifying');
    expect(b.status.value.synced).toBe(false);
    const before = recordCount(b); // 0: the envelope is not loaded yet
    b.note('visits').setText('one two');
    b.records.put('allergies', allergy('x', 'Peanut'));
    // An owner operation needs the verified membership: it waits instead of failing.
    const audited = b.audit('export');
    expect(engineOf(b).sync.state.value.queued).toBeGreaterThan(0);
    expect(await b.whenVerified()).toBe('verified');
    await audited;
    await b.flush();
    expect(engineOf(b).sync.state.value.queued).toBe(0);
    expect(recordCount(b)).toBeGreaterThan(before);
    await b.close();

    const full = await openCached({ signer: me.signer, access: a.access, persistence });
    expect(full.readNote('visits')).toBe('one two');
    expect(full.records.list('allergies').map((r) => r.id)).toEqual(['x']);
    expect((await full.auditTrail()).events.filter((e) => e.kind === 'export')).toHaveLength(1);
  });
});

describe('plain-state cache: mismatch, tamper, wrong document', () => {
  it('a cache holding content no verified record holds is caught: problem shown, cache deleted, nothing built on it sealed', async () => {
    const me = device();
    const { persistence, caches } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.close();
    // A cache that claims more than the envelope holds (sealed under the device's own key: the
    // worst case, e.g. a stored envelope that lost records the cache had seen).
    const real = await openPlainCache(caches.get(a.name)!, a.access.docId, plainCache);
    const forged = new Y.Doc();
    Y.applyUpdate(forged, real.state);
    forged.getText('note:visits').insert(0, 'never sealed');
    caches.set(a.name, await sealPlainCache({ ...real, state: Y.encodeStateAsUpdate(forged) }, a.access.docId, plainCache));

    const b = await openCached({ signer: me.signer, access: a.access, persistence, plainCache });
    expect(b.readNote('visits')).toBe('never sealed'); // shown first...
    b.note('visits').setText('never sealed, edited');
    expect(await b.whenVerified()).toBe('mismatch'); // ...then caught
    expect(b.status.value.state).toBe('error');
    expect(b.status.value.problems.map((p) => p.code)).toContain('SYNC_CACHE_MISMATCH');
    expect(caches.has(a.name)).toBe(false);
    const sealed = recordCount(b);
    await b.flush();
    await expect(b.audit('export')).rejects.toMatchObject({ code: 'PROFILE_REBUILD_NEEDED' });
    expect(recordCount(b)).toBe(sealed); // nothing from the unverified doc was sealed
    await b.close();
    expect(caches.has(a.name)).toBe(false); // and no cache written from it on close

    // Reopened: rebuilt from the verified envelope, without the unverified content.
    const c = await openCached({ signer: me.signer, access: a.access, persistence, plainCache });
    expect(c.cacheRead).toBe('none');
    expect(c.readNote('visits')).toBe('');
    expect(c.records.list('allergies').map((r) => r.id)).toEqual(['a']);
  });

  it('a tampered cache, or one of another document, is refused: full open, problem shown, the refused cache deleted', async () => {
    const me = device();
    const { persistence, caches } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.close();
    const other = await Profile.create({ ...device(), persistence, plainCache });
    await other.close();

    const good = caches.get(a.name)!;
    for (const bad of [
      Uint8Array.from(good, (x, i) => (i === good.length - 20 ? x ^ 1 : x)), // one bit of ciphertext
      Uint8Array.from(good, (x, i) => (i === 3 ? x ^ 1 : x)), // one bit of IV
      Uint8Array.from(good, (x, i) => (i === 0 ? 9 : x)), // another format version
      caches.get(other.name)!, // sealed for another document (AAD binds the doc id)
    ]) {
      caches.set(a.name, bad);
      const b = await Profile.open({ signer: me.signer, access: a.access, persistence, plainCache });
      expect(b.cacheRead).toBe('unreadable');
      expect(b.status.value.problems.map((p) => p.code)).toContain('SYNC_CACHE_UNREADABLE');
      expect(b.records.list('allergies').map((r) => r.id)).toEqual(['a']); // from the envelope
      expect(caches.has(a.name)).toBe(false);
      await b.close();
      expect(caches.has(a.name)).toBe(true); // a good one written again
    }
    // Another device's key cannot open this device's cache.
    await expect(openPlainCache(good, a.access.docId, await cacheOptions())).rejects.toThrow();
  });

  it('a cache from a session before the newest key this device was given is ignored (full open); a newer one is used', async () => {
    const me = device();
    const { persistence, caches } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.close();
    // The device was given a newer key (epoch 1) than the cache's session (epoch 0).
    const newer: ProfileAccess = { ...a.access, epochKeys: new Map([...a.access.epochKeys, [1, new Uint8Array(32).fill(7) as never]]) };
    const b = await openCached({ signer: me.signer, access: newer, persistence, plainCache });
    expect(b.cacheRead).toBe('other-epoch');
    expect(b.status.value.verifying).toBe(false);
    expect(b.records.list('allergies').map((r) => r.id)).toEqual(['a']);
    await b.close();
    // A cache from a later epoch than the keys it opens with (keys come by lockbox) is used.
    const real = await openPlainCache(caches.get(a.name)!, a.access.docId, plainCache);
    caches.set(a.name, await sealPlainCache({ ...real, epoch: 3 }, a.access.docId, plainCache));
    const c = await openCached({ signer: me.signer, access: a.access, persistence, plainCache });
    expect(c.cacheRead).toBe('hit');
    expect(await c.whenVerified()).toBe('verified');
  });
});

describe('plain-state cache: secret at rest', () => {
  it('the stored cache holds no canary plaintext (the decrypted one does)', async () => {
    const me = device();
    const { persistence, caches } = inspectable(memoryPersistence());
    const plainCache = await cacheOptions();
    const canaries = ['CANARY-cache-allergy-7f3a', 'CANARY-cache-note-91bd'];
    const a = await Profile.create({ ...me, persistence, plainCache });
    a.records.put('allergies', allergy('a', canaries[0]!));
    a.note('visits').setText(canaries[1]!);
    await a.close();
    const sealed = caches.get(a.name)!;
    expect([...scanForCanaries([sealed], canaries).values()]).toEqual([0, 0]);
    const opened = await openPlainCache(sealed, a.access.docId, plainCache);
    expect([...scanForCanaries([opened.state], canaries).values()].every((n) => n > 0)).toBe(true);
  });

  it('the cache key is a non-extractable AES-GCM key: script can use it but never read it', async () => {
    const key = await createPlainCacheKey();
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    await expect(globalThis.crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    await expect(globalThis.crypto.subtle.exportKey('jwk', key)).rejects.toThrow();
  });

  it('the same contents sealed twice differ (fresh IV each write) and both open', async () => {
    const o = await cacheOptions(7);
    const docId = new Uint8Array(32).fill(3);
    const contents = { epoch: 0, writer: true, coverage: [], state: Y.encodeStateAsUpdate(new Y.Doc()) };
    const x = await sealPlainCache(contents, docId, o);
    const y = await sealPlainCache(contents, docId, o);
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(false);
    expect((await openPlainCache(y, docId, o)).epoch).toBe(0);
  });
});

describe('plain-state cache: with a relay', () => {
  it('a cached open connects once its copy is loaded and verified, says synced only then, and shares edits made during the check once', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const me = device();
    const sister = device();
    const persistence = memoryPersistence();
    const plainCache = await cacheOptions();
    const members = [{ publicKey: sister.signer.publicKey, boxKey: sister.box.publicKey, role: Role.editor, expiresAt: 0 }];
    const a = await Profile.create({ ...me, persistence, plainCache, relayUrl: relay.url, minReconnectDelayMs: 50, members });
    a.records.put('allergies', allergy('a', 'Penicillin'));
    await a.flush();
    await a.close();

    const b = await Profile.open({ ...me, access: a.access, persistence, plainCache, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => b.close());
    expect(b.cacheRead).toBe('hit');
    const seen: string[] = [];
    b.status.subscribe((s) => seen.push(s.state));
    expect(b.status.value.state).toBe('verifying');
    b.note('visits').setText('typed while checking');
    await b.status.when((s) => s.synced && s.pending === 0);
    // Never "synced" before the check was over.
    expect(seen.indexOf('synced')).toBeGreaterThan(seen.lastIndexOf('verifying'));

    const c = await Profile.open({ ...sister, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => c.close());
    await eventually(() => c.readNote('visits') === 'typed while checking');
    expect(c.records.list('allergies').map((r) => r.id)).toEqual(['a']);
    expect(c.status.value.problems).toEqual([]);
  });
});

describe('plain-state cache: writing stays off the hot path', () => {
  it('many edits in a row write no cache until they settle, then one; while edits are unsealed nothing is written', async () => {
    const me = device();
    const memory = memoryPersistence();
    const writes: Uint8Array[] = [];
    const store = (): PlainCacheStore => ({ read: async () => writes.at(-1), write: async (b) => void writes.push(b), clear: async () => void (writes.length = 0) });
    const persistence = Object.assign((e: Y.Doc, n: string) => memory(e, n), { plainCache: store });
    const plainCache = { ...(await cacheOptions()), idleMs: 40, maxWaitMs: 60_000 };
    const a = await Profile.create({ ...me, persistence, plainCache });
    cleanups.push(() => a.close());
    await eventually(() => writes.length === 1); // the first open had no cache: one is written once settled
    for (let i = 0; i < 200; i++) a.note('visits').setText(`${a.readNote('visits')}x`);
    expect(writes.length).toBe(1); // not per keystroke
    await eventually(() => writes.length === 2);
    const last = await openPlainCache(writes[1]!, a.access.docId, plainCache);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, last.state);
    expect(doc.getText('note:visits').toString()).toBe('x'.repeat(200));
    // It covers only sealed edits: the cached state is what the records hold.
    expect(engineOf(a).sync.state.value.queued).toBe(0);
  });
});

describe('plain-state cache: the containment check', () => {
  const verifiedOf = (state: Uint8Array) => {
    const d = new Y.Doc();
    Y.applyUpdate(d, state);
    return d;
  };
  it('a cache equal to or older than the verified state passes; one more struct, one more deletion or a struct missing its dependency fails', () => {
    const doc = new Y.Doc();
    const text = doc.getText('note:visits');
    text.insert(0, 'abc');
    const older = Y.encodeStateAsUpdate(doc);
    text.insert(3, 'def');
    const verified = Y.encodeStateAsUpdate(doc);
    expect(cacheContainedIn(verifiedOf(verified), verified)).toBe(true);
    expect(cacheContainedIn(verifiedOf(verified), older)).toBe(true);

    const more = new Y.Doc();
    Y.applyUpdate(more, verified);
    more.getText('note:visits').insert(0, 'x');
    expect(cacheContainedIn(verifiedOf(verified), Y.encodeStateAsUpdate(more))).toBe(false);

    const deleted = new Y.Doc();
    Y.applyUpdate(deleted, verified);
    deleted.getText('note:visits').delete(0, 1);
    expect(cacheContainedIn(verifiedOf(verified), Y.encodeStateAsUpdate(deleted))).toBe(false);

    // Only the newest edit of a client whose earlier structs the verified doc lacks: it cannot integrate.
    const other = new Y.Doc();
    Y.applyUpdate(other, verified);
    const sv = Y.encodeStateVector(other);
    other.getText('note:visits').insert(0, 'y');
    const sv2 = Y.encodeStateVector(other);
    other.getText('note:visits').insert(0, 'z');
    const gap = Y.diffUpdate(Y.encodeStateAsUpdate(other), sv2);
    expect(sv).not.toEqual(sv2);
    expect(cacheContainedIn(verifiedOf(verified), gap)).toBe(false);
  });
});
