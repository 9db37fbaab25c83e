/**
 * Edges of the catch-up hold (decision 0065): own records sealed by something other than typing
 * (the expiry sweep), and the hold's bound counted from when the relay is asked.
 */
import { describe, expect, it } from 'vitest';
import { defaultEd25519Engine, generateSigningKeyPair, toBase64Url, type Ed25519Engine } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import type { Persistence, PlainCacheStore } from '../../src/lib/storage/types.ts';
import { CATCH_UP_HOLD_MS } from '../../src/lib/sync/catch-up-hold.ts';
import { createPlainCacheKey } from '../../src/lib/vault/plain-cache.ts';
import { ownerAndEditor } from '../helpers/owner-and-editor.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { fallBehindTheRelay } from '../helpers/behind-the-relay.ts';
import { lateStore } from '../helpers/late-store.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { testRelay } from '../helpers/relay.ts';
import { silentServer } from '../helpers/silent-server.ts';
import { sendIfOpen, startWsProxy } from '../helpers/ws-proxy.ts';

/** `persistence` whose device-local values are read in a later task, as IndexedDB reads them. */
function withSlowMeta(persistence: Persistence): Persistence {
  return async (envelope, name) => {
    const detach = await persistence(envelope, name);
    const values = new Map<string, string | number>();
    const meta = {
      get: (key: string) => new Promise<unknown>((resolve) => setTimeout(() => resolve(values.get(key)), 20)),
      set: async (key: string, value: string | number) => void values.set(key, value),
    };
    return Object.assign(() => detach(), { stored: detach.stored, meta });
  };
}

/** `persistence` with a plain-state cache the test can read and replace, and a load that can be slowed. */
function cachedStore(persistence: Persistence) {
  const caches = new Map<string, Uint8Array>();
  const slow = { ms: 0 };
  const store = (name: string): PlainCacheStore => ({
    read: async () => caches.get(name),
    write: async (b) => void caches.set(name, b),
    clear: async () => void caches.delete(name),
  });
  const load: Persistence = async (envelope, name) => {
    if (slow.ms) await new Promise((r) => setTimeout(r, slow.ms));
    return persistence(envelope, name);
  };
  return { persistence: Object.assign(load, { plainCache: store }), caches, slow };
}

describe('catch-up hold edges', () => {
  const cleanups = cleanupList();

  it("a copy that holds no record of this device's chain holds nothing (a profile created here, a new device's first open): its first writes do not wait for a relay that does not answer", async () => {
    // VaultSession.create and the first openProfile of a new profile await the device's
    // certificate, its first record: held, they took 5 s (CATCH_UP_HOLD_MS) whenever the relay
    // was down or silent, instead of tens of milliseconds offline-first.
    const [alice, bob] = [generateSigningKeyPair(), generateSigningKeyPair()];
    const persistence = memoryPersistence();
    const created = await Profile.create({ signer: alice, persistence, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    const access = created.access;
    await created.close();

    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const bobs = await Profile.open({ signer: bob, access, persistence, relayUrl: silent.url, autoConnect: false });
    cleanups.push(() => bobs.close());
    expect(engineOf(bobs).sync.ownHead.seq).toBe(0);
    void bobs.connect();
    insertNote(bobs, 'journal', 0, 'first words. ');
    await Promise.resolve();
    expect(engineOf(bobs).sync.outboxBlocked).toBeUndefined();
    await engineOf(bobs).sync.flush();
    expect(engineOf(bobs).sync.ownHead.seq).toBe(1);
  });

  it("an owner's expiry sweep due at the open waits for the catch-up like every own record: a copy behind the relay is not refused", async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [alice, bob] = [generateSigningKeyPair(), generateSigningKeyPair()];
    const store = lateStore();
    const expiresAt = Date.now() + 1_500;
    const first = await Profile.create({
      signer: alice,
      relayUrl: relay.url,
      persistence: store.persistence,
      members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt }],
      minReconnectDelayMs: 50,
      expirySweep: false,
    });
    const name = toBase64Url(first.access.docId);
    const access = first.access;
    const { relayHead } = await fallBehindTheRelay(first, store, { name });
    // Bob's time is up before the owner's device opens the profile again: its sweep is due at once.
    await eventually(() => Date.now() > expiresAt + 50, 5_000);

    // As the app opens a profile (session-open.ts): no auto-connect, connect right after the open.
    const second = await Profile.open({ signer: alice, access, relayUrl: relay.url, persistence: withSlowMeta(store.persistence), minReconnectDelayMs: 50, autoConnect: false });
    cleanups.push(() => second.close());
    void second.connect();
    await eventually(
      () => !engineOf(second).sync.index.membership.members().has(toHexKey(bob.publicKey)) && second.status.value.synced && second.status.value.pending === 0,
      10_000,
      () => `refusal ${second.refusal.value}; problems ${JSON.stringify(second.status.value.problems.map((p) => p.code))}`,
    );
    expect(second.refusal.value).toBeNull();
    expect(engineOf(second).sync.ownHead.seq).toBeGreaterThan(relayHead);
  });

  it('a cached open whose stored records take longer to load than the hold still holds own records until the catch-up: the bound counts from when the relay is asked', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const name = toBase64Url(a.access.docId);
    const store = lateStore();
    const device = cachedStore(store.persistence);
    const plainCache = { key: await createPlainCacheKey() };
    const open = (autoConnect: boolean) => Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: device.persistence, plainCache, minReconnectDelayMs: 50, autoConnect });

    const first = await open(true);
    let cache: Uint8Array | undefined;
    const { relayHead } = await fallBehindTheRelay(first, store, {
      name,
      reader: a,
      beforeTheLoss: async () => {
        await first.writeCache();
        cache = device.caches.get(name);
      },
    });
    // A device restored from an older backup: its store and its cache as they were then.
    device.caches.set(name, cache!);

    // A slow device: its stored records load after the hold's bound (a big profile, a cold store).
    device.slow.ms = CATCH_UP_HOLD_MS + 1_000;
    const second = await open(false);
    cleanups.push(() => second.close());
    expect(second.cacheRead).toBe('hit');
    void second.connect();
    insertNote(second, 'journal', 0, 'typed at once. ');
    await second.flush();
    await eventually(() => a.readNote('journal').includes('typed at once.'), 10_000, () => `bob's refusal ${second.refusal.value}; problems ${JSON.stringify(second.status.value.problems.map((p) => p.code))}`);
    expect(second.refusal.value).toBeNull();
    expect(engineOf(second).sync.ownHead.seq).toBe(relayHead + 1);
  }, 30_000);
  it('the status never says "Synced" with nothing pending while what was typed during the hold is being sealed after the catch-up', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const name = toBase64Url(a.access.docId);
    const store = lateStore();
    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    const { relayHead } = await fallBehindTheRelay(first, store, { name, reader: a });

    // A slow device: sealing takes a while (the window is there at any speed, only shorter).
    const real = await defaultEd25519Engine();
    const engine: Ed25519Engine = {
      name: real.name,
      sign: async (m, k) => (await new Promise((r) => setTimeout(r, 100)), real.sign(m, k)),
      verify: (m, s, k) => real.verify(m, s, k),
    };
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50, autoConnect: false, engine });
    cleanups.push(() => second.close());
    const lies: string[] = [];
    cleanups.push(
      second.status.subscribe((s) => {
        if (s.state === 'synced' && s.pending === 0 && engineOf(second).sync.ownHead.seq <= relayHead) lies.push(JSON.stringify(s));
      }),
    );
    void second.connect();
    insertNote(second, 'journal', 0, 'typed at once. ');
    await second.flush();
    await eventually(() => a.readNote('journal').includes('typed at once.'));
    expect(second.refusal.value).toBeNull();
    expect(lies).toEqual([]);
  }, 30_000);
  it('closing during the hold while the relay is answering waits for its catch-up: what was typed is sealed after the relay head, and the next open is not refused', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const name = toBase64Url(a.access.docId);
    const store = lateStore();
    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    const { relayHead } = await fallBehindTheRelay(first, store, { name, reader: a });

    // A relay that answers, a little slowly (a mobile network): its frames arrive 300 ms late.
    const slow = await startWsProxy({
      target: relay.url,
      pipe: (to, direction) => (direction === 'down' ? (frame) => void setTimeout(() => sendIfOpen(to, frame), 300) : (frame) => sendIfOpen(to, frame)),
    });
    cleanups.push(() => slow.close());
    // Typed and closed at once (the app locked, the vault handed over to another tab).
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: slow.url, persistence: store.persistence, minReconnectDelayMs: 50, autoConnect: false });
    void second.connect();
    insertNote(second, 'journal', 0, 'typed, then closed. ');
    await Promise.resolve();
    expect(engineOf(second).sync.outboxBlocked).toBe('catching-up');
    await second.close();
    await store.settled();

    const third = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    cleanups.push(() => third.close());
    await eventually(() => a.readNote('journal').includes('typed, then closed.'), 10_000, () => `third: ${JSON.stringify(third.readNote('journal'))} head ${engineOf(third).sync.ownHead.seq} relayHead ${relayHead} refusedIncoming ${engineOf(third).connection?.refusedIncoming.value} status ${JSON.stringify(third.status.value)}; bob's refusal ${third.refusal.value}; problems ${JSON.stringify(third.status.value.problems.map((p) => p.code))}`);
    expect(third.refusal.value).toBeNull();
    expect(engineOf(third).sync.ownHead.seq).toBe(relayHead + 1);
  }, 30_000);
});

const toHexKey = (k: Uint8Array): string => Buffer.from(k).toString('hex');
