/**
 * Own records reach the relay only once the device's store has them (decision 0063). A store
 * that commits late (IndexedDB) and lost a write when the page went away used to leave the relay
 * with an own record the device no longer had; the next open sealed that seq again at once
 * (its certificate, its name) and the relay refused the device for good (RECORD_FORK /
 * ENVELOPE_KEY_EXISTS: the e2e co-editing test in CI of stop 23, half the runs at 4× CPU
 * throttling).
 */
import { describe, expect, it } from 'vitest';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { lateStore } from '../helpers/late-store.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { ownerAndEditor } from '../helpers/owner-and-editor.ts';

describe('store first, then the relay', () => {
  const cleanups = cleanupList();

  /** The owner, and Bob's profile opened and caught up on a store that commits late. */
  async function bobOnALateStore() {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);
    const store = lateStore();
    const b = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    cleanups.push(() => b.close());
    await b.flush();
    return { a, b, store };
  }

  it('a write the store lost never reached the relay: the next open continues the chain and is not refused', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);

    const store = lateStore();
    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50 });
    insertNote(first, 'journal', 0, 'kept. ');
    await first.flush();
    await eventually(() => a.readNote('journal').includes('kept.'));
    const seqKept = engineOf(first).sync.ownHead.seq;

    // Typed, sealed, but the store has not committed it when the page goes away.
    store.hold();
    insertNote(first, 'journal', 0, 'LOST-WITH-THE-TAB ');
    await engineOf(first).sync.flush();
    expect(engineOf(first).sync.ownHead.seq).toBe(seqKept + 1);
    // Not sent meanwhile, and counted as not yet shared.
    await new Promise((r) => setTimeout(r, 300));
    expect(first.status.value.pending).toBeGreaterThan(0);
    store.crash();
    engineOf(first).connection!.destroy();
    await first.close();

    // The reopened page writes at once, from its store, before its catch-up.
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, persistence: store.persistence, minReconnectDelayMs: 50, autoConnect: false });
    cleanups.push(() => second.close());
    insertNote(second, 'journal', 0, 'typed after reopening. ');
    await engineOf(second).sync.flush();
    expect(engineOf(second).sync.ownHead.seq).toBe(seqKept + 1);
    await second.connect();
    await eventually(() => a.readNote('journal').includes('typed after reopening.'), 10_000, () => `bob's refusal ${second.refusal.value}; problems ${JSON.stringify(second.status.value.problems.map((p) => p.code))}`);
    await second.flush();
    expect(second.refusal.value).toBeNull();
    expect(second.status.value.problems.map((p) => p.code)).toEqual([]);
    expect(a.readNote('journal')).not.toContain('LOST-WITH-THE-TAB');
    expect(a.readNote('journal')).toBe(second.readNote('journal'));
  });

  it('changes wait for the commit, then go in the order they were made; a store that commits at once is not waited for', async () => {
    const { a, b, store } = await bobOnALateStore();

    store.hold();
    for (const word of ['one ', 'two ', 'three ']) {
      insertNote(b, 'journal', b.readNote('journal').length, word);
      await engineOf(b).sync.flush();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(a.readNote('journal')).toBe('');
    const waiting = b.status.value.pending;
    expect(waiting).toBeGreaterThanOrEqual(3);
    store.resume();
    await b.flush();
    await eventually(() => a.readNote('journal') === 'one two three ', 10_000, () => JSON.stringify(a.readNote('journal')));
    expect(b.status.value.pending).toBe(0);
    expect(b.refusal.value).toBeNull();
    // Alice's store is none at all: her edit goes at once, as before.
    insertNote(a, 'journal', 0, 'A ');
    await a.flush();
    await eventually(() => b.readNote('journal').startsWith('A '));
  });

  it('changes the store commits while the device is disconnected go with the next catch-up, in order, before newer ones', async () => {
    const { a, b, store } = await bobOnALateStore();

    store.hold();
    insertNote(b, 'journal', 0, 'one ');
    await engineOf(b).sync.flush();
    b.disconnect();
    store.resume();
    await new Promise((r) => setTimeout(r, 100));
    insertNote(b, 'journal', b.readNote('journal').length, 'two ');
    await engineOf(b).sync.flush();
    expect(b.status.value.pending).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.readNote('journal')).toBe('');
    await b.connect();
    await b.flush();
    await eventually(() => a.readNote('journal') === 'one two ', 10_000, () => JSON.stringify(a.readNote('journal')));
    expect(b.refusal.value).toBeNull();
    expect(b.status.value.problems.map((p) => p.code)).toEqual([]);
  });
});
