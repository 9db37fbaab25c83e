/**
 * Envelope map keys (decision 0023): what Yjs keeps for a deleted map key, and the two key
 * formats. A record's key is decided by its signed format version, so one record has one key:
 * v1 = base64url(id) (43 characters), v2 and v3 = base64url(first 16 bytes of id) (22 characters).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { toHex } from '../../src/lib/crypto/index.ts';
import {
  checkEnvelopeUpdate,
  encodeUpdatePayload,
  parseRecord,
  rebuildEnvelopeIndex,
  recordKey,
  RecordType,
  RecordVersion,
  sealRecord,
  ZERO_HASH,
  type RecordVersionCode,
} from '../../src/lib/protocol/index.ts';
import { toBase64Url } from '../../src/lib/crypto/index.ts';
import { buildWorld, engine, T0, type World } from '../fuzz/envelope-world.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';

/** Stored bytes per key left by deleting `n` map entries whose keys have `chars` characters. */
function residue(chars: number, n: number): { perKey: number; state: Uint8Array; keys: string[] } {
  // Fixed clientIDs: a random one's varint length (written once per run of structs) would move
  // the per-key figure by a few thousandths between the two calls compared below.
  const writer = new Y.Doc();
  writer.clientID = 1;
  const keys = Array.from({ length: n }, (_, i) => `${i}`.padStart(chars, 'k'));
  writer.transact(() => keys.forEach((k) => writer.getMap('r').set(k, new Uint8Array(300).fill(9))));
  // Another client deletes them, as a compacting device does.
  const compactor = new Y.Doc();
  compactor.clientID = 2;
  Y.applyUpdate(compactor, Y.encodeStateAsUpdate(writer));
  compactor.transact(() => keys.forEach((k) => compactor.getMap('r').delete(k)));
  const state = Y.encodeStateAsUpdate(compactor);
  return { perKey: (state.length - Y.encodeStateAsUpdate(new Y.Doc()).length) / n, state, keys };
}

describe('what Yjs keeps for a deleted map key', () => {
  it('the value is gone, but an item with its key string stays for ever: the residue grows with the key length, one byte per character', () => {
    const long = residue(43, 500);
    const short = residue(22, 500);
    // The item's content is garbage-collected (no 300-byte values left)...
    const { structs, ds } = Y.decodeUpdate(long.state);
    expect(structs.length).toBe(500);
    for (const s of structs) {
      expect(s).toBeInstanceOf(Y.Item);
      expect((s as Y.Item).content).toBeInstanceOf(Y.ContentDeleted);
    }
    expect(long.perKey).toBeLessThan(60);
    // ...but each item keeps its map key (parentSub), written out in full in the stored state.
    expect(new Set(structs.map((s) => (s as Y.Item).parentSub))).toEqual(new Set(long.keys));
    const text = new TextDecoder('latin1').decode(long.state);
    for (const k of long.keys.slice(0, 20)) expect(text.includes(k)).toBe(true);
    // A contiguous run of deletions is one delete-set range: the residue is the items, not the delete set.
    expect([...ds.clients.values()].flat().length).toBe(1);
    // Everything but the key is a fixed per-item overhead, the same for both lengths.
    expect(long.perKey - short.perKey).toBeCloseTo(43 - 22, 5);
    expect(long.perKey - 43).toBeCloseTo(short.perKey - 22, 5);
  });

  it('the residue survives a reload: a fresh doc applying the stored state holds the same deleted items', () => {
    const { state, keys } = residue(22, 50);
    const reloaded = new Y.Doc();
    Y.applyUpdate(reloaded, state);
    expect(reloaded.getMap('r').size).toBe(0);
    expect(Y.encodeStateAsUpdate(reloaded).length).toBe(state.length);
    expect(new Set(Y.decodeUpdate(Y.encodeStateAsUpdate(reloaded)).structs.map((s) => (s as Y.Item).parentSub))).toEqual(new Set(keys));
  });
});

async function sealed(world: World, seq: number, version?: RecordVersionCode) {
  const s = await sealRecord({
    header: { type: RecordType.update, docId: world.docId, epoch: world.epoch, author: world.keys.editor.publicKey, seq, prev: ZERO_HASH, ext: new Uint8Array(0) },
    payload: encodeUpdatePayload({ sessions: [1], update: new Uint8Array([0, 0]) }),
    key: world.epochKey,
    secretKey: world.keys.editor.secretKey,
    engine,
    random: (n) => new Uint8Array(n).fill(7),
    ...(version ? { version } : {}),
  });
  const parsed = parseRecord(s.bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  return parsed.value;
}

/** The relay's verdict on one new item under `key` holding `bytes`, sent by the editor. */
async function verdict(world: World, key: string, bytes: Uint8Array): Promise<string> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, world.state);
  const { index } = rebuildEnvelopeIndex(world.docId, world.state, world.bindings);
  const client = 2 ** 33;
  const update = encodeRawUpdate([{ client, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: key, content: { kind: 'binary', bytes } }] }], []);
  const v = await checkEnvelopeUpdate(update, index, { engine, now: T0, stateOf: (c) => Y.getState(doc.store, c), sender: toHex(world.keys.editor.publicKey) });
  return v.ok ? 'accepted' : v.code;
}

describe('record key formats', () => {
  it('devices write v3 records; v3 and v2 are stored under the first 16 bytes of the id (22 characters); v1 records keep the whole id (43)', async () => {
    const world = await buildWorld();
    const current = await sealed(world, 89_999);
    expect(current.version).toBe(RecordVersion.v3);
    expect(recordKey(current)).toBe(toBase64Url(current.id.subarray(0, 16)));
    const v2 = await sealed(world, 90_000, RecordVersion.v2);
    const v1 = await sealed(world, 90_001, RecordVersion.v1);
    expect(v2.version).toBe(RecordVersion.v2);
    expect(recordKey(v2)).toBe(toBase64Url(v2.id.subarray(0, 16)));
    expect(recordKey(v2)).toHaveLength(22);
    expect(v1.version).toBe(RecordVersion.v1);
    expect(recordKey(v1)).toBe(toBase64Url(v1.id));
    expect(recordKey(v1)).toHaveLength(43);
  });

  it('the relay takes each record under its own format key only: a v2 record under its whole id, or a v1 record under a 16-byte prefix, is RECORD_KEY_MISMATCH', async () => {
    const world = await buildWorld();
    const v2 = await sealed(world, 90_000, RecordVersion.v2);
    const v1 = await sealed(world, 90_000, RecordVersion.v1);
    expect(await verdict(world, toBase64Url(v2.id), v2.bytes)).toBe('RECORD_KEY_MISMATCH');
    expect(await verdict(world, toBase64Url(v1.id.subarray(0, 16)), v1.bytes)).toBe('RECORD_KEY_MISMATCH');
    expect(await verdict(world, recordKey(v2), v2.bytes)).toBe('accepted');
    const v3 = await sealed(world, 90_000, RecordVersion.v3);
    expect(await verdict(world, toBase64Url(v3.id), v3.bytes)).toBe('RECORD_KEY_MISMATCH');
    expect(await verdict(world, recordKey(v3), v3.bytes)).toBe('accepted');
    // An old app's record (sealed offline before the update) is still taken under its long key.
    expect(await verdict(world, recordKey(v1), v1.bytes)).toBe('accepted');
  });

  it('one seq cannot be used twice through the two formats: the second is a fork (forks compare whole ids, never keys)', async () => {
    const world = await buildWorld();
    const v2 = await sealed(world, 90_000);
    const v1 = await sealed(world, 90_000, RecordVersion.v1);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, world.state);
    doc.getMap<Uint8Array>('r').set(recordKey(v2), v2.bytes);
    const state = Y.encodeStateAsUpdate(doc);
    const after: World = { ...world, state };
    expect(await verdict(after, recordKey(v1), v1.bytes)).toBe('RECORD_FORK');
  });

  it('a version byte other than 1, 2 or 3 is RECORD_BAD_VERSION', async () => {
    const world = await buildWorld();
    const v2 = await sealed(world, 90_000);
    for (const v of [0, 4, 255]) {
      const t = v2.bytes.slice();
      t[2] = v;
      const parsed = parseRecord(t);
      expect(parsed.ok ? 'ok' : parsed.code).toBe('RECORD_BAD_VERSION');
    }
  });
});
