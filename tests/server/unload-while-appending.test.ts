/**
 * An instance whose appends are still running when its members leave (a database restarting
 * under it: the append waits, the fold fails, CI faults.test.ts seed 2096403994).
 *
 * Before: Hocuspocus unloaded it anyway, its successor loaded from a storage that lacked the
 * running append, the append committed late and the next one failed; the failure reset the old
 * instance, which dropped the registry entry by name, i.e. the successor's index. Rebuilt from
 * storage, that index held a record the successor's document lacked, and its author's resend
 * was refused for good: ENVELOPE_KEY_EXISTS. Now an instance with an append running does not
 * unload (server/unload-guard.ts), and a reset drops only its own instance's entry
 * (durable-ack.ts).
 */
import type { Document } from '@hocuspocus/server';
import { afterEach, describe, expect, it } from 'vitest';
import { resetDocument } from '../../server/durable-ack.ts';
import type { Registry } from '../../server/registry.ts';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { HeldStore } from '../helpers/held-store.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const noteOf = (p: Profile) => engineOf(p).plainDoc.getText('note:journal').toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an instance with appends running', () => {
  let relay: TestRelay | undefined;
  const profiles: Profile[] = [];
  afterEach(async () => {
    for (const p of profiles.splice(0)) await p.close().catch(() => undefined);
    await relay?.destroy();
  });

  it('its members leave, its fold fails, an append commits late and the next fails: nothing is refused, nothing lost', async () => {
    let held: HeldStore | undefined;
    relay = await testRelay({}, { wrapStorage: (s) => (held = new HeldStore(s)) });
    const store = held!;
    store.passThrough = true;
    const [owner, editor] = [generateSigningKeyPair(), generateSigningKeyPair()];
    const a = await Profile.create({ signer: owner, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 }] });
    profiles.push(a);
    await a.flush();
    const b = await Profile.open({ signer: editor, relayUrl: relay.url, access: a.access, minReconnectDelayMs: 50 });
    profiles.push(b);
    await b.status.when((s) => s.synced);
    await b.flush();

    // Two records of the owner's are forwarded; the first one's append waits, the second queues behind it.
    store.passThrough = false;
    store.holdFolds = true;
    insertNote(a, 'journal', 0, '<one>');
    await eventually(() => store.heldCount === 1 && noteOf(b).includes('<one>'), 10_000);
    insertNote(a, 'journal', 0, '<two>');
    await eventually(() => noteOf(b).includes('<two>'), 10_000);

    // Everyone leaves; the fold those edits started fails (the database is away).
    a.disconnect();
    b.disconnect();
    await eventually(() => store.heldFoldCount > 0, 10_000);
    store.failFolds();
    store.holdFolds = false;
    // The editor comes and goes (a last close with no fold pending: Hocuspocus unloads then),
    // past the unload guard's reconnect window, and comes back.
    await b.connect();
    await b.status.when((s) => s.synced, 10_000);
    b.disconnect();
    await sleep(6_000);
    await b.connect();
    await b.status.when((s) => s.synced, 10_000).catch(() => undefined);

    // The running append commits late; the next one fails.
    expect(await store.releaseOne()).toBe(true);
    await eventually(() => store.heldCount === 1, 10_000);
    expect(store.failOne()).toBe(true);
    await store.releaseAll();
    // The editor writes (the relay consults its index), then the owner comes back and resends.
    insertNote(b, 'journal', 0, '<three>');
    await b.flush(30_000);
    await a.connect();
    await a.flush(30_000);
    await eventually(
      () => ['<one>', '<two>', '<three>'].every((t) => noteOf(a).includes(t) && noteOf(b).includes(t)),
      30_000,
      () => `a=${JSON.stringify(noteOf(a))} ${a.refusal.value} b=${JSON.stringify(noteOf(b))} ${b.refusal.value}`,
    );
    expect(a.refusal.value).toBeNull();
    expect(b.refusal.value).toBeNull();
    // A fresh device gets all of it from the relay.
    const c = await Profile.open({ signer: owner, relayUrl: relay.url, access: a.access });
    profiles.push(c);
    await eventually(() => noteOf(c) === noteOf(a), 20_000, () => `c=${JSON.stringify(noteOf(c))} a=${JSON.stringify(noteOf(a))}`);
  }, 90_000);

  it('does not unload while an append runs, and unloads once it ended', async () => {
    let held: HeldStore | undefined;
    relay = await testRelay({}, { wrapStorage: (s) => (held = new HeldStore(s)) });
    const store = held!;
    store.passThrough = true;
    const a = await Profile.create({ signer: generateSigningKeyPair(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    profiles.push(a);
    await a.flush();
    store.passThrough = false;
    insertNote(a, 'journal', 0, '<held>');
    await eventually(() => store.heldCount === 1, 10_000);
    const hocuspocus = relay.server.hocuspocus;
    const loaded = hocuspocus.documents.get(a.name);
    await a.close();
    profiles.splice(0);
    // Past the unload guard's reconnect window, with the fold done: only the append holds it.
    await sleep(6_000);
    expect(hocuspocus.documents.get(a.name), 'loaded while its append runs').toBe(loaded);
    await store.releaseAll();
    await eventually(() => !hocuspocus.documents.has(a.name), 10_000, () => 'never unloaded after its append ended');
  }, 60_000);

  it("a reset drops the registry's entry only while its instance is the loaded one", () => {
    const forgotten: string[] = [];
    const registry = { forget: (name: string) => forgotten.push(name) } as unknown as Registry;
    const stale = { name: 'doc', getConnections: () => [] } as unknown as Document;
    const successor = { name: 'doc', getConnections: () => [] } as unknown as Document;
    const instance = { documents: new Map([['doc', successor]]), unloadDocument: async () => undefined };
    resetDocument(stale, registry, instance);
    expect(forgotten).toEqual([]);
    resetDocument(successor, registry, instance);
    expect(forgotten).toEqual(['doc']);
  });
});
