/**
 * A record the relay refuses never corrupts this device's copy and is not resent forever.
 *
 * (a) Through a real relay: an editor is demoted to viewer while offline and typing. On its
 *     reconnect the relay refuses its queued records (RECORD_NOT_WRITER): one attempt, then the
 *     connection stops; the status shows the refusal once, with its code; the device still reads
 *     everyone else's records (also after a reload from its stored copy); the owner's copy and
 *     the relay's store are unchanged.
 * (b) In the engine, no relay: every own-record append (snapshot, lockbox, membership op) that
 *     the write policy would refuse throws OwnRecordRefused and leaves the envelope byte for byte
 *     unchanged, so a refused snapshot deletes nothing.
 *
 * Where a test must show that nothing more happens, it watches a short window after the
 * refusal (as tests/sync/refusals.test.ts does): with the 50 ms reconnect floor a client that
 * still reconnected would make several attempts in it.
 */
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fromBase64Url, generateBoxKeyPair, generateSigningKeyPair, toHex, type BoxKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, RecordType, Role, type RoleCode } from '../../src/lib/protocol/index.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { OwnRecordRefused, ProfileSync } from '../../src/lib/sync/profile-sync.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

const cleanups = cleanupList();
const QUIET_MS = 1500;
const quietWindow = () => new Promise((r) => setTimeout(r, QUIET_MS));

interface Keys {
  signer: SigningKeyPair;
  box: BoxKeyPair;
}
const keys = (): Keys => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const entry = (k: Keys, role: RoleCode, expiresAt = 0) => ({ publicKey: k.signer.publicKey, boxKey: k.box.publicKey, role, expiresAt });
const allergy = (id: string, text: string) => ({ id, schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text } });
const ids = (p: Profile) => p.records.list('allergies').map((a) => a.id).sort();
const bytesOf = (doc: Y.Doc) => Buffer.from(Y.encodeStateAsUpdate(doc));

type Relay = Awaited<ReturnType<typeof testRelay>>;

/** Counts, at the relay, every token check per key (hex): one per connection attempt. */
function countAuths(relay: Relay): (key: Uint8Array) => number {
  const auths = new Map<string, number>();
  const counter: Extension = {
    extensionName: 'test-auth-counter',
    async onAuthenticate({ token }: onAuthenticatePayload) {
      const author = toHex(fromBase64Url(token).subarray(0, 32));
      auths.set(author, (auths.get(author) ?? 0) + 1);
    },
  };
  relay.server.hocuspocus.configuration.extensions.unshift(counter);
  return (key) => auths.get(toHex(key)) ?? 0;
}

/** Record keys the relay stores, by author (hex). */
function relayRecordsBy(relay: Relay, author: Uint8Array): string[] {
  const out: string[] = [];
  for (const state of relay.store.dumpAll()) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    for (const [key, bytes] of doc.getMap<Uint8Array>(ENVELOPE_MAP).entries()) {
      const parsed = parseRecord(bytes);
      if (parsed.ok && toHex(parsed.value.header.author) === toHex(author)) out.push(key);
    }
  }
  return out.sort();
}

describe('a record the relay refused', () => {
  it('an editor demoted while offline: its queued edits are refused once, the client stops, everyone else\'s records stay readable', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const authsBy = countAuths(relay);
    const [owner, ed, other] = [keys(), keys(), keys()];
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const o = await Profile.create({ ...owner, ...common, members: [entry(ed, Role.editor), entry(other, Role.editor)] });
    cleanups.push(() => o.close());
    o.records.put('allergies', allergy('o1', 'Peanut'));
    await o.flush();
    const access = { docId: o.access.docId, epoch: 0, epochKeys: o.access.epochKeys };
    const c = await Profile.open({ ...other, ...common, access });
    cleanups.push(() => c.close());
    await c.status.when((s) => s.synced);
    await eventually(() => c.canWrite);
    c.records.put('allergies', allergy('c1', 'Latex'));
    await c.flush();

    const persistence = memoryPersistence();
    const e = await Profile.open({ ...ed, ...common, access, persistence });
    await e.status.when((s) => s.synced);
    await eventually(() => ids(e).join() === 'c1,o1', 30_000, () => ids(e).join());
    expect(e.role).toBe(Role.editor);

    // Offline (laptop asleep), the editor types; the edit is sealed into its local envelope.
    e.disconnect();
    e.records.put('allergies', allergy('e1', 'typed offline'));
    await engineOf(e).sync.flush();
    expect(engineOf(e).sync.state.value.queued).toBe(0);
    // Meanwhile the owner demotes it to viewer and writes on.
    await o.addMember(entry(ed, Role.viewer));
    o.records.put('allergies', allergy('o2', 'Penicillin'));
    await o.flush();
    const ownerBefore = { ids: ids(o), head: engineOf(o).sync.ownHead.seq };
    const edOnRelay = relayRecordsBy(relay, ed.signer.publicKey);
    const attemptsBefore = authsBy(ed.signer.publicKey);

    // Back online: the relay serves it (a viewer is a member) and refuses its queued records.
    await e.connect();
    expect(await engineOf(e).connection!.refusal.when((r) => r !== null, 30_000)).toBe('RECORD_NOT_WRITER');
    // It still learned what the relay had: its demotion and the owner's new record.
    await eventually(() => e.role === Role.viewer && ids(e).includes('o2'), 30_000, () => ids(e).join());
    await quietWindow();

    // One attempt for this reconnect, then nothing: no reconnect loop, and connect() is a no-op now.
    expect(authsBy(ed.signer.publicKey) - attemptsBefore).toBe(1);
    await e.connect();
    await quietWindow();
    expect(authsBy(ed.signer.publicKey) - attemptsBefore).toBe(1);
    expect(engineOf(e).connection!.connection.value).toBe('offline');

    // Told once, with the relay's code.
    const status = e.status.value;
    expect(status.state).toBe('error');
    expect(status.problems.filter((p) => p.code === 'RECORD_NOT_WRITER')).toHaveLength(1);
    expect(status.problems.filter((p) => p.code === 'RELAY_REFUSED')).toHaveLength(0);
    // Everyone else's records are all still here (its own refused edit too, in this session).
    expect(ids(e)).toEqual(['c1', 'e1', 'o1', 'o2']);

    // The owner's copy and the relay are unchanged: nothing of the refused update landed.
    expect(ids(o)).toEqual(ownerBefore.ids);
    expect(engineOf(o).sync.ownHead.seq).toBe(ownerBefore.head);
    expect(o.status.value.problems).toEqual([]);
    expect(relayRecordsBy(relay, ed.signer.publicKey)).toEqual(edOnRelay);
    expect(ids(c)).toEqual(['c1', 'o1', 'o2']);

    // Reload from the stored copy, offline: nothing of other people's records is lost.
    await e.close();
    const again = await Profile.open({ ...ed, ...common, access, persistence, autoConnect: false });
    cleanups.push(() => again.close());
    await engineOf(again).sync.flush();
    expect(ids(again)).toEqual(['c1', 'o1', 'o2']);
    expect(again.role).toBe(Role.viewer);
    // Its own refused record is now refused by its own engine too (it is a viewer), named once.
    expect(again.status.value.problems.map((p) => p.code)).toEqual(['RECORD_NOT_WRITER']);
    // Reconnecting the reloaded copy (its stored envelope still holds the refused record): again
    // one attempt, refused, then it stops. It still gets the relay's catch-up first.
    o.records.put('allergies', allergy('o3', 'Shellfish'));
    await o.flush();
    const beforeReload = authsBy(ed.signer.publicKey);
    await again.connect();
    expect(await engineOf(again).connection!.refusal.when((r) => r !== null, 30_000)).toBe('RECORD_NOT_WRITER');
    await eventually(() => ids(again).includes('o3'), 30_000, () => ids(again).join());
    await quietWindow();
    expect(authsBy(ed.signer.publicKey) - beforeReload).toBe(1);
    expect(ids(again)).toEqual(['c1', 'o1', 'o2', 'o3']);
    expect(again.status.value.problems.filter((p) => p.code === 'RECORD_NOT_WRITER').length).toBeGreaterThanOrEqual(1);
    expect(relayRecordsBy(relay, ed.signer.publicKey)).toEqual(edOnRelay);
  });
});

describe('compaction waits for the relay', () => {
  it('an editor demoted while offline does not compact offline, so a reload still holds everyone\'s records', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [owner, ed] = [keys(), keys()];
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const o = await Profile.create({ ...owner, ...common, members: [entry(ed, Role.editor)] });
    cleanups.push(() => o.close());
    o.records.put('allergies', allergy('o1', 'Peanut'));
    await o.flush();
    const access = { docId: o.access.docId, epoch: 0, epochKeys: o.access.epochKeys };
    const persistence = memoryPersistence();
    const e = await Profile.open({ ...ed, ...common, access, persistence, compactEvery: 3 });
    await e.status.when((s) => s.synced);
    await eventually(() => ids(e).includes('o1'), 30_000, () => ids(e).join());

    e.disconnect();
    // Offline, enough edits for a compaction pile up; it waits for the relay.
    for (let i = 0; i < 5; i++) {
      e.records.put('allergies', allergy(`e${i}`, `typed offline ${i}`));
      await engineOf(e).sync.flush();
    }
    const snapshots = () => [...engineOf(e).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP).values()].filter((v) => v[3] === RecordType.snapshot).length;
    expect(snapshots()).toBe(0);
    // Meanwhile the owner demotes it; back online, its queued records are refused.
    await o.addMember(entry(ed, Role.viewer));
    await o.flush();
    await e.connect();
    expect(await engineOf(e).connection!.refusal.when((r) => r !== null, 30_000)).toBe('RECORD_NOT_WRITER');
    expect(snapshots()).toBe(0);

    // A reload from the stored copy still holds the owner's record.
    await e.close();
    const again = await Profile.open({ ...ed, ...common, access, persistence, autoConnect: false });
    cleanups.push(() => again.close());
    await engineOf(again).sync.flush();
    expect(ids(again)).toContain('o1');
  });
});

describe('the engine checks its own records with the relay\'s rules before inserting them', () => {
  /** In memory, no relay: an owner, an editor and a viewer holding everything the owner wrote. */
  async function household() {
    const [owner, editor, viewer] = [keys(), keys(), keys()];
    const o = await Profile.create({ ...owner, members: [entry(editor, Role.editor), entry(viewer, Role.viewer)] });
    cleanups.push(() => o.close());
    for (let i = 0; i < 5; i++) {
      o.records.put('allergies', allergy(`a${i}`, `allergen ${i}`));
      await engineOf(o).sync.flush();
    }
    const access = { docId: o.access.docId, epoch: 0, epochKeys: o.access.epochKeys };
    const open = async (k: Keys) => {
      const p = await Profile.open({ ...k, access });
      cleanups.push(() => p.close());
      Y.applyUpdate(engineOf(p).envelopeDoc, Y.encodeStateAsUpdate(engineOf(o).envelopeDoc));
      await engineOf(p).sync.flush();
      return p;
    };
    return { owner: o, editor: await open(editor), viewer: await open(viewer) };
  }

  /** Runs `op` on the engine itself (the facade's own guards bypassed) and expects a typed refusal with nothing changed. */
  async function expectRefusedByEngine(p: Profile, op: (sync: ProfileSync) => Promise<unknown>, code: string) {
    const before = { envelope: bytesOf(engineOf(p).envelopeDoc), head: engineOf(p).sync.ownHead.seq, keys: [...p.heldKeys().keys()], membership: engineOf(p).sync.membershipVersion.value };
    let updates = 0;
    const count = () => void updates++;
    engineOf(p).envelopeDoc.on('update', count);
    const err = await op(engineOf(p).sync).then(
      () => null,
      (e: unknown) => e,
    );
    engineOf(p).envelopeDoc.off('update', count);
    expect(err).toBeInstanceOf(OwnRecordRefused);
    expect((err as OwnRecordRefused).code).toBe(code);
    await engineOf(p).sync.flush();
    // Byte for byte: nothing inserted, nothing deleted; no chain step, no stray key, no op folded.
    expect(bytesOf(engineOf(p).envelopeDoc).equals(before.envelope)).toBe(true);
    expect(updates).toBe(0);
    expect(engineOf(p).sync.ownHead.seq).toBe(before.head);
    expect([...p.heldKeys().keys()]).toEqual(before.keys);
    expect(engineOf(p).sync.membershipVersion.value).toBe(before.membership);
    expect(ids(p)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  }

  // The facade wraps compact() and appendMembership() with its own role checks (VaultError);
  // these call the engine's methods directly, as a path that forgot those checks would.
  // Past the facade's typed refusals (its write guard): the engine's own check is under test.
  const unguarded = (s: ProfileSync) => (s.setWriteGuard(undefined), s);
  const compact = (s: ProfileSync) => unguarded(s).compact();
  const appendMembership = (s: ProfileSync, op: Parameters<ProfileSync['appendMembership']>[0]) => unguarded(s).appendMembership(op);

  it("compact() on a viewer throws OwnRecordRefused (RECORD_NOT_WRITER) and leaves the envelope byte for byte unchanged: the snapshot's deletes never happen", async () => {
    const h = await household();
    const live = engineOf(h.viewer).envelopeDoc.getMap(ENVELOPE_MAP).size;
    await expectRefusedByEngine(h.viewer, compact, 'RECORD_NOT_WRITER');
    expect(engineOf(h.viewer).envelopeDoc.getMap(ENVELOPE_MAP).size).toBe(live);
    expect(h.viewer.status.value.problems).toEqual([]);
  });

  it('owner-only records from a viewer or an editor (lockbox, rotation, role change) are refused with RECORD_NOT_ADMIN, nothing written', async () => {
    const h = await household();
    for (const p of [h.viewer, h.editor]) {
      await expectRefusedByEngine(p, (s) => s.appendLockbox(new Uint8Array(64)), 'RECORD_NOT_ADMIN');
      await expectRefusedByEngine(p, (s) => appendMembership(s, { kind: 'rotate', epoch: s.currentEpoch + 1 }), 'RECORD_NOT_ADMIN');
      await expectRefusedByEngine(p, (s) => appendMembership(s, { kind: 'set', member: { publicKey: s.signerKey, role: Role.owner, expiresAt: 0 } }), 'RECORD_NOT_ADMIN');
    }
  });

  it('what the rules allow still goes through: an editor compacts (covered records deleted), a viewer leaves an audit entry', async () => {
    const h = await household();
    const before = engineOf(h.editor).envelopeDoc.getMap(ENVELOPE_MAP).size;
    await compact(engineOf(h.editor).sync);
    expect(engineOf(h.editor).envelopeDoc.getMap(ENVELOPE_MAP).size).toBeLessThan(before);
    expect(ids(h.editor)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    const head = engineOf(h.viewer).sync.ownHead.seq;
    await h.viewer.audit('export');
    expect(engineOf(h.viewer).sync.ownHead.seq).toBe(head + 1);
    // The owner accepts both.
    for (const from of [h.editor, h.viewer]) Y.applyUpdate(engineOf(h.owner).envelopeDoc, Y.encodeStateAsUpdate(engineOf(from).envelopeDoc));
    await engineOf(h.owner).sync.flush();
    expect(h.owner.status.value.problems).toEqual([]);
    expect(ids(h.owner)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });
});
