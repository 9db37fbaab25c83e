/**
 * The client rule of decision 0026 on real Yjs updates: what a device sends the relay keeps its
 * own person's structs, a clientID with no live record, and what it wrote locally, and leaves
 * out structs on clientIDs that carry another person's record; delete sets are sent whole.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, MembershipView } from '../../src/lib/protocol/index.ts';
import { OwnWriting } from '../../src/lib/sync/own-writing.ts';
import { encoderBytes, encoderOf, frame, readVarBytes, readVarUint } from '../../src/lib/protocol/hocuspocus-frames.ts';
import { forgeRecord } from '../helpers/forge.ts';

const docId = new Uint8Array(16).fill(3);
const key = new Uint8Array(32).fill(9) as SymmetricKey;
const alice = generateSigningKeyPair();
const bob = generateSigningKeyPair();
const [ALICE_CLIENT, BOB_CLIENT, COMPACTED_CLIENT] = [101, 202, 303];

/** A doc holding one record of Alice's, one of Bob's, and a deleted one on a third clientID. */
async function world(): Promise<Y.Doc> {
  const wire = new Y.Doc();
  const put = async (client: number, signer: typeof alice, seq: number, remove = false) => {
    const r = await forgeRecord({ signer, docId, key, seq });
    const d = new Y.Doc();
    d.clientID = client;
    Y.applyUpdate(d, Y.encodeStateAsUpdate(wire));
    d.getMap<Uint8Array>(ENVELOPE_MAP).set(r.key, r.bytes);
    if (remove) d.getMap(ENVELOPE_MAP).delete(r.key);
    Y.applyUpdate(wire, Y.encodeStateAsUpdate(d));
  };
  await put(ALICE_CLIENT, alice, 1);
  await put(BOB_CLIENT, bob, 1);
  await put(COMPACTED_CLIENT, alice, 2, true);
  return wire;
}

const clientsIn = (update: Uint8Array) => [...Y.parseUpdateMeta(update).to.keys()].sort((a, b) => a - b);
const deletedClients = (update: Uint8Array) => [...Y.decodeUpdate(update).ds.clients.keys()].sort((a, b) => a - b);

describe('a device sends the relay only its own person\'s writing', () => {
  it("leaves out another person's clientIDs, keeps its own, the unattributed and the delete set", async () => {
    const wire = await world();
    const own = new OwnWriting(wire, [bob.publicKey], () => new MembershipView(docId));
    const everything = Y.encodeStateAsUpdate(wire);
    expect(clientsIn(everything)).toEqual([ALICE_CLIENT, BOB_CLIENT, COMPACTED_CLIENT]);
    const sent = own.filter(everything);
    expect(clientsIn(sent)).toEqual([BOB_CLIENT, COMPACTED_CLIENT]);
    expect(deletedClients(sent)).toEqual(deletedClients(everything));
    // What Yjs makes of it: Bob's record and the placeholder arrive, Alice's does not.
    const relay = new Y.Doc();
    Y.applyUpdate(relay, sent);
    expect(relay.store.clients.has(ALICE_CLIENT)).toBe(false);
    expect([...relay.getMap(ENVELOPE_MAP).keys()]).toHaveLength(1);
    // Alice's device sends her record and not Bob's.
    expect(clientsIn(new OwnWriting(wire, [alice.publicKey], () => new MembershipView(docId)).filter(everything))).toEqual([ALICE_CLIENT, COMPACTED_CLIENT]);
  });

  it("keeps every person's writing whose key the device holds (a device key and its identity's, before the certificate is folded)", async () => {
    const wire = await world();
    const device = generateSigningKeyPair();
    const own = new OwnWriting(wire, [device.publicKey, alice.publicKey], () => new MembershipView(docId));
    expect(clientsIn(own.filter(Y.encodeStateAsUpdate(wire)))).toEqual([ALICE_CLIENT, COMPACTED_CLIENT]);
  });

  it('keeps a clientID this device wrote on locally, whoever else wrote there', async () => {
    const wire = await world();
    const own = new OwnWriting(wire, [bob.publicKey], () => new MembershipView(docId));
    own.wroteOn(ALICE_CLIENT);
    expect(clientsIn(own.filter(Y.encodeStateAsUpdate(wire)))).toEqual([ALICE_CLIENT, BOB_CLIENT, COMPACTED_CLIENT]);
  });

  it('rewrites a sync step 2 frame and leaves other frames as they are', async () => {
    const wire = await world();
    const own = new OwnWriting(wire, [bob.publicKey], () => new MembershipView(docId));
    const frame = (type: number, sub: number, payload: Uint8Array) => {
      const e = encoding.createEncoder();
      encoding.writeVarString(e, 'doc');
      encoding.writeVarUint(e, type);
      encoding.writeVarUint(e, sub);
      encoding.writeVarUint8Array(e, payload);
      return encoding.toUint8Array(e);
    };
    const everything = Y.encodeStateAsUpdate(wire);
    const out = decoding.createDecoder(own.filterMessage(frame(0, 1, everything)));
    expect([decoding.readVarString(out), decoding.readVarUint(out), decoding.readVarUint(out)]).toEqual(['doc', 0, 1]);
    expect(clientsIn(decoding.readVarUint8Array(out))).toEqual([BOB_CLIENT, COMPACTED_CLIENT]);
    const step1 = frame(0, 0, Y.encodeStateVector(wire));
    expect(own.filterMessage(step1)).toBe(step1);
  });
});

describe('Hocuspocus frame bytes without lib0 at run time', () => {
  it('reads and writes what lib0 writes and reads, and moves bytes in and out of its Encoder', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 52 + 3];
    const payload = new Uint8Array(70_000).map((_, i) => i & 0xff);
    const e = encoding.createEncoder();
    encoding.writeVarString(e, 'dóc');
    for (const v of values) encoding.writeVarUint(e, v);
    encoding.writeVarUint8Array(e, payload);
    const lib0Bytes = encoding.toUint8Array(e);
    // A long payload makes lib0 finish buffers: encoderBytes must join them in order.
    expect(e.bufs.length).toBeGreaterThan(0);
    expect(encoderBytes(e)).toEqual(lib0Bytes);
    expect(frame([new TextEncoder().encode('dóc'), ...values, payload])).toEqual(lib0Bytes);
    const r = { bytes: lib0Bytes, pos: 0 };
    expect(new TextDecoder().decode(readVarBytes(r))).toBe('dóc');
    expect(values.map(() => readVarUint(r))).toEqual(values);
    expect(readVarBytes(r)).toEqual(payload);
    expect(encoding.toUint8Array(encoderOf(lib0Bytes))).toEqual(lib0Bytes);
    const d = decoding.createDecoder(frame([5, payload]));
    expect([decoding.readVarUint(d), decoding.readVarUint8Array(d)]).toEqual([5, payload]);
  });
});
