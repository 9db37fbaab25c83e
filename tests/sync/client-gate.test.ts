/**
 * The client gate (sync/relay-connection.ts): what a misbehaving relay sends is checked with the
 * relay's own write policy before it touches the envelope. Here the relay's live document is
 * given a deleted placeholder under an existing record key (from a clientID above every honest
 * one, so Yjs's map conflict resolution would delete the record), which Hocuspocus broadcasts.
 *
 * A connected client refuses it (ENVELOPE_KEY_EXISTS, an error in its status), keeps the record
 * (also in its stored copy, after a reload) and still receives honest edits afterwards. A fresh
 * client opening while the relay holds the erased copy does not import the erasure either: the
 * relay's sync step 2 goes through the gate too.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, RecordType, Role } from '../../src/lib/protocol/index.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const cleanups = cleanupList();
const MALICIOUS_CLIENT = 2 ** 40;

/** A deleted placeholder under a used key, from a higher clientID: Yjs would delete the record under it. */
const displacing = (key: string) =>
  encodeRawUpdate([{ client: MALICIOUS_CLIENT, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: key, content: { kind: 'deleted', len: 1 } }] }], []);

const keyOfType = (doc: Y.Doc, type: number): string =>
  [...doc.getMap<Uint8Array>(ENVELOPE_MAP).entries()].find(([, v]) => {
    const r = parseRecord(v);
    return r.ok && r.value.header.type === type;
  })![0];

const holds = (doc: Y.Doc, key: string) => doc.getMap<Uint8Array>(ENVELOPE_MAP).has(key);
const codes = (p: Profile) => p.status.value.problems.map((x) => x.code);

async function setup() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const alice = generateSigningKeyPair();
  const bob = generateSigningKeyPair();
  const carol = generateSigningKeyPair();
  const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
  const persistence = memoryPersistence();
  const a = await Profile.create({
    signer: alice,
    ...common,
    persistence,
    members: [
      { publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 },
      { publicKey: carol.publicKey, role: Role.editor, expiresAt: 0 },
    ],
  });
  cleanups.push(() => a.close());
  setField(a, 'allergies', 'penicillin', 'anaphylaxis');
  await a.flush();
  const access = { docId: a.access.docId, epoch: 0, epochKeys: a.access.epochKeys };
  const b = await Profile.open({ signer: bob, access, ...common });
  cleanups.push(() => b.close());
  await b.status.when((s) => s.synced, 10_000);
  await eventually(() => b.getField('allergies', 'penicillin') === 'anaphylaxis');
  const key = keyOfType(engineOf(a).envelopeDoc, RecordType.update);
  const name = toBase64Url(a.access.docId);
  /** The relay misbehaves: its live document gets the displacement, and Hocuspocus broadcasts it. */
  const erase = () => {
    const live = relay.server.hocuspocus.documents.get(name);
    if (!live) throw new Error('relay has no live document');
    Y.applyUpdate(live, displacing(key), 'test-malicious');
    expect(holds(live, key)).toBe(false); // the relay's copy lost the record
  };
  return { relay, alice, bob, carol, common, persistence, access, a, b, key, erase };
}

describe('client gate against a misbehaving relay', () => {
  it('a connected client refuses an erasure, keeps the record (also after a reload) and still receives honest edits', async () => {
    const { alice, common, persistence, a, b, key, erase } = await setup();
    erase();
    // Honest edits from another member still arrive (relayed after the erasure, so by the time
    // this one is in, the erasure was received and decided on).
    setField(b, 'allergies', 'latex', 'rash');
    await b.flush();
    await eventually(() => a.getField('allergies', 'latex') === 'rash', 10_000);
    expect(holds(engineOf(a).envelopeDoc, key)).toBe(true);
    expect(Y.getState(engineOf(a).envelopeDoc.store, MALICIOUS_CLIENT)).toBe(0);
    expect(a.getField('allergies', 'penicillin')).toBe('anaphylaxis');
    expect(engineOf(a).connection!.refusedIncoming.value).toBe('ENVELOPE_KEY_EXISTS');
    expect(codes(a)).toContain('ENVELOPE_KEY_EXISTS');
    expect(a.status.value.state).toBe('error');
    // The engine saw no erasure: the envelope never changed.
    expect(codes(a)).not.toContain('ENVELOPE_RECORD_ERASED');
    // The writer's own copy is guarded the same way.
    await engineOf(b).connection!.refusedIncoming.when((r) => r !== null, 10_000);
    expect(holds(engineOf(b).envelopeDoc, key)).toBe(true);

    // Reload from the same stored copy: the record is still there (offline first, then online).
    await a.close();
    const offline = await Profile.open({ signer: alice, access: a.access, persistence });
    expect(holds(engineOf(offline).envelopeDoc, key)).toBe(true);
    expect(offline.getField('allergies', 'penicillin')).toBe('anaphylaxis');
    expect(offline.getField('allergies', 'latex')).toBe('rash');
    await offline.close();
    const again = await Profile.open({ signer: alice, access: a.access, persistence, ...common });
    cleanups.push(() => again.close());
    await again.status.when((s) => s.synced, 10_000);
    // The relay resends the erasure in its sync step 2 (a fresh wire doc): refused again.
    expect(engineOf(again).connection!.refusedIncoming.value).toBe('ENVELOPE_KEY_EXISTS');
    expect(holds(engineOf(again).envelopeDoc, key)).toBe(true);
    expect(again.getField('allergies', 'penicillin')).toBe('anaphylaxis');
    expect(codes(again)).toContain('ENVELOPE_KEY_EXISTS');
  });

  it('a fresh client opening on an erased copy does not import the erasure', async () => {
    const { carol, common, access, key, erase } = await setup();
    erase();
    const c = await Profile.open({ signer: carol, access, ...common });
    cleanups.push(() => c.close());
    // synced means the gate has decided on everything received.
    await c.status.when((s) => s.synced, 10_000);
    expect(Y.getState(engineOf(c).envelopeDoc.store, MALICIOUS_CLIENT)).toBe(0);
    expect(engineOf(c).connection!.refusedIncoming.value).toBe('ENVELOPE_KEY_EXISTS');
    // Nothing of the refused sync step 2 reached the envelope: no record lost, none silently
    // missing; the status is an error, never an empty "synced" profile.
    expect(engineOf(c).envelopeDoc.getMap(ENVELOPE_MAP).size).toBe(0);
    expect(engineOf(c).envelopeDoc.getMap(ENVELOPE_MAP).has(key)).toBe(false);
    expect(codes(c)).toContain('ENVELOPE_KEY_EXISTS');
    expect(c.status.value.state).toBe('error');
  });
});

describe('client gate on a late replica', () => {
  it('a device that first syncs after a member\'s time ran out (their record still live) loads everything', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [alice, rex, vera] = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50, compactEvery: 100_000 };
    const rexUntil = Date.now() + 120_000;
    const a = await Profile.create({
      signer: alice,
      ...common,
      members: [
        { publicKey: rex.publicKey, role: Role.editor, expiresAt: rexUntil },
        { publicKey: vera.publicKey, role: Role.viewer, expiresAt: 0 },
      ],
    });
    cleanups.push(() => a.close());
    setField(a, 'allergies', 'penicillin', 'anaphylaxis');
    await a.flush();
    const access = { docId: a.access.docId, epoch: 0, epochKeys: a.access.epochKeys };
    const r = await Profile.open({ signer: rex, access, ...common });
    await r.status.when((s) => s.synced && s.pending === 0);
    setField(r, 'conditions', 'asthma', 'from a relative with time-limited access');
    await r.flush();
    await r.close();
    await eventually(() => a.getField('conditions', 'asthma') !== undefined);
    // Vera's new device opens after Rex's access ended: the relay's catch-up holds his live record.
    const v = await Profile.open({ signer: vera, access, ...common, now: () => rexUntil + 60_000 });
    cleanups.push(() => v.close());
    await v.status.when((s) => s.connection === 'connected' && s.synced, 15_000);
    await eventually(() => v.getField('allergies', 'penicillin') !== undefined);
    expect(engineOf(v).connection!.refusedIncoming.value).toBeNull();
    expect(engineOf(v).envelopeDoc.getMap(ENVELOPE_MAP).size).toBe(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).size);
    // Whether to accept Rex's record is the engine's decision, record by record (a known limit).
    expect(codes(v).every((c) => c === 'RECORD_NOT_MEMBER')).toBe(true);
  });
});
