/**
 * The relay's write policy and authentication, against a real relay on a loopback port:
 * raw clients send what a misbehaving member could, and the relay refuses it with its code,
 * stores nothing of it and relays nothing of it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, nobleEngine, toBase64Url, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, ENVELOPE_MAP, Role } from '../../src/lib/protocol/index.ts';
import { RelayConnection } from '../../src/lib/sync/relay-connection.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { forgeRecord } from '../helpers/forge.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;

interface RawClient {
  envelope: Y.Doc;
  conn: RelayConnection;
}

const contains = (haystacks: Uint8Array[], needle: Uint8Array) =>
  haystacks.some((h) => Buffer.from(h).indexOf(Buffer.from(needle)) !== -1);

describe('relay policy', () => {
  let relay: TestRelay;
  let alice: SigningKeyPair, bob: SigningKeyPair, val: SigningKeyPair, mallory: SigningKeyPair;
  let a: Profile;
  const raws: RawClient[] = [];

  async function raw(signer: SigningKeyPair, o: { expiresAt?: number; docId?: Uint8Array; connect?: boolean } = {}): Promise<RawClient> {
    const envelope = new Y.Doc();
    const docId = o.docId ?? a.access.docId;
    const conn = new RelayConnection({
      url: relay.url,
      name: toBase64Url(docId),
      docId,
      envelope,
      engine: nobleEngine,
      minReconnectDelayMs: 60_000,
      token: () => createAuthToken({ secretKey: signer.secretKey, docId, expiresAt: o.expiresAt ?? Date.now() + 60_000, engine: nobleEngine }),
    });
    if (o.connect !== false) await conn.connect();
    raws.push({ envelope, conn });
    return { envelope, conn };
  }

  const synced = (c: RawClient) => c.conn.synced.when(Boolean, 10_000);
  const refused = (c: RawClient) => c.conn.refusal.when((r) => r !== null, 10_000);
  const epochKey = () => a.access.epochKeys.get(0)!;

  beforeEach(async () => {
    relay = await testRelay();
    [alice, bob, val, mallory] = [0, 1, 2, 3].map(() => generateSigningKeyPair()) as [SigningKeyPair, SigningKeyPair, SigningKeyPair, SigningKeyPair];
    a = await Profile.create({
      signer: alice,
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [
        { publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 },
        { publicKey: val.publicKey, role: Role.viewer, expiresAt: 0 },
      ],
    });
    setField(a, 'conditions', 'asthma', true);
    await a.flush();
  });

  afterEach(async () => {
    for (const r of raws.splice(0)) r.conn.destroy();
    await a.close();
    await relay.destroy();
  });

  async function expectRefused(client: RawClient, bytes: Uint8Array, key: string, code: string) {
    client.envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(key, bytes);
    expect(await refused(client)).toBe(code);
    await client.conn.connection.when((c) => c === 'offline', 5_000);
    // A refused connection stops (it would otherwise keep sending for a closed document).
    expect(client.conn.connection.value).toBe('offline');
    expect(contains(relay.store.dumpAll(), bytes), 'refused record must not be stored').toBe(false);
    expect(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).has(key), 'refused record must not be relayed').toBe(false);
  }

  it('refuses a token from a non-member', async () => {
    const c = await raw(mallory);
    expect(await refused(c)).toBeTruthy();
    expect(c.conn.synced.value).toBe(false);
  });

  it('refuses an expired token and a token for another document', async () => {
    const expired = await raw(bob, { expiresAt: Date.now() - 1000 });
    expect(await refused(expired)).toBeTruthy();
    const other = await raw(bob, { docId: new Uint8Array(16).fill(4) });
    expect(await refused(other)).toBeTruthy();
  });

  it('refuses a record signed by a non-member, even from a writer connection (RECORD_NOT_MEMBER)', async () => {
    const c = await raw(bob);
    await synced(c);
    const f = await forgeRecord({ signer: mallory, docId: a.access.docId, key: epochKey(), seq: 1, edit: (d) => d.getMap('x').set('y', 1) });
    await expectRefused(c, f.bytes, f.key, 'RECORD_NOT_MEMBER');
  });

  it("refuses a viewer-signed record uploaded by an editor (RECORD_NOT_WRITER)", async () => {
    const c = await raw(bob);
    await synced(c);
    const f = await forgeRecord({ signer: val, docId: a.access.docId, key: epochKey(), seq: 1, edit: (d) => d.getMap('x').set('y', 1) });
    await expectRefused(c, f.bytes, f.key, 'RECORD_NOT_WRITER');
  });

  it("a viewer's well-signed write is refused (RECORD_NOT_WRITER), neither applied nor relayed", async () => {
    const c = await raw(val);
    await synced(c);
    const f = await forgeRecord({ signer: val, docId: a.access.docId, key: epochKey(), seq: 1, edit: (d) => d.getMap('x').set('y', 1) });
    c.envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(f.key, f.bytes);
    expect(await refused(c)).toBe('RECORD_NOT_WRITER');
    expect(contains(relay.store.dumpAll(), f.bytes)).toBe(false);
    expect(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).has(f.key)).toBe(false);
    // ...while the viewer still reads everything.
    expect(c.envelope.getMap(ENVELOPE_MAP).size).toBe(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).size + 1);
  });

  it('refuses a second record with a seq the author already used (RECORD_FORK)', async () => {
    const b = await Profile.open({ signer: bob, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    await b.status.when((s) => s.synced);
    setField(b, 'meds', 'x', 1);
    await b.flush();
    await b.close();
    const c = await raw(bob);
    await synced(c);
    const f = await forgeRecord({ signer: bob, docId: a.access.docId, key: epochKey(), seq: 1, session: 99, edit: (d) => d.getMap('meds').set('x', 2) });
    await expectRefused(c, f.bytes, f.key, 'RECORD_FORK');
  });

  it('refuses values that are not records, and records under a foreign key', async () => {
    const c = await raw(bob);
    await synced(c);
    c.envelope.getMap<unknown>(ENVELOPE_MAP).set('plain', 'PLAINTEXT-CANARY');
    expect(await refused(c)).toBe('ENVELOPE_BAD_STRUCT');
    const d = await raw(bob);
    await synced(d);
    const f = await forgeRecord({ signer: bob, docId: a.access.docId, key: epochKey(), seq: 1, edit: (x) => x.getMap('m').set('k', 1) });
    await expectRefused(d, f.bytes, 'another-key', 'RECORD_KEY_MISMATCH');
  });

  it('refuses inserts outside the envelope map', async () => {
    const c = await raw(bob);
    await synced(c);
    c.envelope.getText('leak').insert(0, 'PLAINTEXT-CANARY');
    expect(await refused(c)).toBe('ENVELOPE_BAD_STRUCT');
    expect(contains(relay.store.dumpAll(), new TextEncoder().encode('PLAINTEXT-CANARY'))).toBe(false);
  });

  it('refuses deleting a record no snapshot covers (ENVELOPE_DELETE_NOT_COVERED)', async () => {
    const c = await raw(bob);
    await synced(c);
    const map = c.envelope.getMap<Uint8Array>(ENVELOPE_MAP);
    const [victimKey, victimBytes] = [...map.entries()].find(([, v]) => v[3] === 1)!;
    map.delete(victimKey);
    expect(await refused(c)).toBe('ENVELOPE_DELETE_NOT_COVERED');
    expect(contains(relay.store.dumpAll(), victimBytes)).toBe(true);
    expect(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).has(victimKey)).toBe(true);
  });

  it('accepts deletes covered by a snapshot, and refuses re-inserting a covered record under its used key (ENVELOPE_KEY_EXISTS)', async () => {
    const c = await raw(bob);
    await synced(c);
    const old = [...c.envelope.getMap<Uint8Array>(ENVELOPE_MAP).entries()].find(([, v]) => v[3] === 1)!;
    await engineOf(a).sync.compact();
    await a.flush();
    await eventually(() => !c.envelope.getMap(ENVELOPE_MAP).has(old[0]), 5_000);
    expect(c.conn.refusal.value).toBeNull();
    // A fresh doc inserts the old record as a brand-new map entry, then syncs it up.
    const d = await raw(bob, { connect: false });
    d.envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(old[0], old[1]);
    await d.conn.connect();
    expect(await refused(d)).toBe('ENVELOPE_KEY_EXISTS');
    expect(engineOf(a).envelopeDoc.getMap(ENVELOPE_MAP).has(old[0])).toBe(false);
  });
});

describe('relay limits', () => {
  it('closes a connection that sends a frame over the limit, storing nothing', async () => {
    const relay = await testRelay({ maxFrameBytes: 64 * 1024 });
    const alice = generateSigningKeyPair();
    const a = await Profile.create({ signer: alice, relayUrl: relay.url, minReconnectDelayMs: 60_000 });
    await a.flush();
    const closed = engineOf(a).connection!.connection.when((s) => s !== 'connected', 10_000);
    const big = 'X'.repeat(200 * 1024);
    setField(a, 'documents', 'scan', big);
    await closed;
    expect(contains(relay.store.dumpAll(), new TextEncoder().encode(big.slice(0, 1000)))).toBe(false);
    await a.close();
    await relay.destroy();
  });
});
