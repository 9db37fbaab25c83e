/**
 * Own records wait for the relay's first catch-up after an open (decision 0065). A copy can be
 * behind the relay on this device's own chain although every write went to the store first
 * (decision 0063): the store called writes committed and then lost them (relaxed durability and
 * an OS crash), or the device was restored from an older backup. Sealing at once reused a seq
 * the relay holds, and the relay refused the device for good (RECORD_FORK / ENVELOPE_KEY_EXISTS).
 * The hold is bounded: it ends when no catch-up can come and when the profile closes.
 */
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/lib/crypto/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { fallBehindTheRelay } from '../helpers/behind-the-relay.ts';
import { lateStore } from '../helpers/late-store.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { ownerAndEditor } from '../helpers/owner-and-editor.ts';
import { closedPort, silentServer } from '../helpers/silent-server.ts';

describe("own records wait for the relay's first catch-up", () => {
  const cleanups = cleanupList();

  /** Bob's copy on a store, caught up, `text` (if any) typed, sealed and acknowledged, then closed. */
  async function bobsClosedCopy(text?: string) {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const store = lateStore();
    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    await first.status.when((s) => s.synced); // the genesis is in: edits are sealed, not queued
    if (text) insertNote(first, 'journal', 0, text);
    await first.flush();
    const head = engineOf(first).sync.ownHead.seq;
    // Only a copy holding records of Bob's own chain holds its own records at its next connect.
    if (text) expect(head).toBeGreaterThan(0);
    await first.close();
    await store.settled(); // everything the first open wrote is what the store holds
    return { relay, a, bob, store, head, name: toBase64Url(a.access.docId) };
  }

  it('a copy that lost records the relay holds reopens, is typed in at once, and continues the chain the relay holds', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const name = toBase64Url(a.access.docId);
    const store = lateStore();

    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    const { relayHead } = await fallBehindTheRelay(first, store, { name, reader: a });

    // The app's open: connect without waiting, and an edit at once (a name, a keystroke).
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50, autoConnect: false });
    cleanups.push(() => second.close());
    expect(engineOf(second).sync.ownHead.seq).toBeLessThan(relayHead);
    void second.connect();
    insertNote(second, 'journal', 0, 'typed at once. ');
    expect(second.status.value.pending).toBeGreaterThan(0);
    expect(second.status.value.state).not.toBe('synced');

    await second.flush();
    await eventually(() => a.readNote('journal').includes('typed at once.'), 10_000, () => `bob's refusal ${second.refusal.value}; problems ${JSON.stringify(second.status.value.problems.map((p) => p.code))}`);
    expect(second.refusal.value).toBeNull();
    expect(second.status.value.problems.map((p) => p.code)).toEqual([]);
    expect(engineOf(second).sync.ownHead.seq).toBe(relayHead + 1);
    expect(second.readNote('journal')).toContain('the relay has it.');
    expect(a.readNote('journal')).toBe(second.readNote('journal'));
  });

  it('the hold ends when the browser says the network is gone: edits are sealed on the device at once', async () => {
    const { relay, a, bob, store, head } = await bobsClosedCopy('before. ');
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50, autoConnect: false });
    cleanups.push(() => second.close());
    void second.connect();
    insertNote(second, 'journal', 0, 'typed offline. ');
    await Promise.resolve();
    expect(engineOf(second).sync.outboxBlocked).toBe('catching-up');
    second.networkLost();
    await second.status.when((s) => s.connection === 'offline');
    await engineOf(second).sync.flush();
    expect(engineOf(second).sync.outboxBlocked).toBeUndefined();
    expect(engineOf(second).sync.ownHead.seq).toBe(head + 1);
  });

  it('the hold ends at the first failed attempt: a relay nobody answers for (connection refused)', async () => {
    const { a, bob, store, head } = await bobsClosedCopy('before. ');
    const url = `ws://127.0.0.1:${await closedPort()}`; // nothing listens there

    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: url, persistence: store.persistence, autoConnect: false });
    cleanups.push(() => second.close());
    void second.connect();
    insertNote(second, 'journal', 0, 'typed with the relay down. ');
    await Promise.resolve();
    expect(engineOf(second).sync.outboxBlocked).toBe('catching-up');
    const socket = engineOf(second).connection!.socket;
    await eventually(() => socket.downs.value > 0);
    expect(engineOf(second).sync.outboxBlocked).toBeUndefined();
    await engineOf(second).sync.flush();
    expect(engineOf(second).sync.ownHead.seq).toBe(head + 1);
    expect(second.status.value.pending).toBeGreaterThan(0);
  });

  it('closing while the relay has not answered seals what was typed into the store', async () => {
    const { a, bob, store, head, name } = await bobsClosedCopy('before. ');

    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: silent.url, persistence: store.persistence, autoConnect: false });
    void second.connect();
    insertNote(second, 'journal', 0, 'typed, then closed. ');
    await Promise.resolve();
    expect(engineOf(second).sync.outboxBlocked).toBe('catching-up');
    await store.settled();
    const committed = store.committed(name);
    await second.close();
    await store.settled();
    expect(store.committed(name)).toBeGreaterThan(committed);

    const third = await Profile.open({ signer: bob, access: a.access, persistence: store.persistence });
    cleanups.push(() => third.close());
    expect(third.readNote('journal')).toContain('typed, then closed.');
    expect(engineOf(third).sync.ownHead.seq).toBe(head + 1);
  });
});
