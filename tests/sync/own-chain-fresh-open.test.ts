/**
 * A member's own chain on a fresh copy: records this person sealed on another open (the app's
 * join writes its 'join' audit entry on a memory-only instance, then opens the profile again
 * with the device's storage) reach the new copy only with its first catch-up. An edit made
 * while that catch-up is being folded (the membership log is in, the member's own earlier
 * records not yet) must be sealed after them: sealed first, it reused their seq and the relay
 * refused the device for good with RECORD_FORK (e2e co-editing test, CI of stop 21).
 */
import { describe, expect, it } from 'vitest';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { ownerAndEditor } from '../helpers/owner-and-editor.ts';

describe("a member's own chain on a fresh copy", () => {
  const cleanups = cleanupList();

  it('an edit made while the first catch-up is folded continues the chain the relay holds (no RECORD_FORK)', async () => {
    const { relay, owner: a, bob } = await ownerAndEditor(cleanups);

    // Bob's first open (like the join's instance): two records of his own, acknowledged.
    const first = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    await first.status.when((s) => s.synced);
    await first.audit('join', undefined, 'role editor');
    insertNote(first, 'journal', 0, 'from the first open. ');
    await first.flush();
    const sealedBefore = engineOf(first).sync.ownHead.seq;
    expect(sealedBefore).toBeGreaterThanOrEqual(2);
    await first.close();

    // A fresh copy: Bob types the moment the membership log is folded, mid catch-up.
    const second = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => second.close());
    let typed = false;
    const stop = engineOf(second).sync.membershipVersion.subscribe((v) => {
      if (v === 0 || typed) return;
      typed = true;
      insertNote(second, 'journal', 0, 'typed mid catch-up. ');
    });
    cleanups.push(async () => stop());
    await second.status.when((s) => s.synced);
    await second.flush();
    expect(typed).toBe(true);
    await eventually(() => a.readNote('journal').includes('typed mid catch-up.'), 10_000, () => `alice has ${JSON.stringify(a.readNote('journal'))}; bob's refusal ${second.refusal.value}`);
    expect(second.refusal.value).toBeNull();
    expect(second.status.value.problems.map((p) => p.code)).toEqual([]);
    // The new record continues the chain the first open left.
    expect(engineOf(second).sync.ownHead.seq).toBe(sealedBefore + 1);
    expect(a.readNote('journal')).toBe(second.readNote('journal'));
  });
});
