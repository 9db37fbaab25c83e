/**
 * Envelope policy rules that the fuzzer's pool does not reach on its own: the record-type
 * allow-list, and a replay of a record older than a snapshot under a key the relay never saw.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { toHex } from '../../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, encodeUpdatePayload, parseRecord, rebuildEnvelopeIndex, recordKey, RecordType, sealRecord, ZERO_HASH, type RecordTypeCode } from '../../src/lib/protocol/index.ts';
import { buildWorld, engine, T0, type World } from '../fuzz/envelope-world.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';

async function check(world: World, type: RecordTypeCode, seq: number) {
  const sealed = await sealRecord({
    header: { type, docId: world.docId, epoch: world.epoch, author: world.keys.editor.publicKey, seq, prev: ZERO_HASH, ext: new Uint8Array(0) },
    payload: encodeUpdatePayload({ sessions: [1], update: new Uint8Array([0, 0]) }),
    key: world.epochKey,
    secretKey: world.keys.editor.secretKey,
    engine,
    random: (n) => new Uint8Array(n).fill(7),
  });
  const parsed = parseRecord(sealed.bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, world.state);
  const { index } = rebuildEnvelopeIndex(world.docId, world.state, world.bindings);
  const client = 2 ** 33;
  const update = encodeRawUpdate([{ client, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: recordKey(parsed.value), content: { kind: 'binary', bytes: sealed.bytes } }] }], []);
  return checkEnvelopeUpdate(update, index, { engine, now: T0, stateOf: (c) => Y.getState(doc.store, c), sender: toHex(world.keys.editor.publicKey) });
}

describe('envelope policy: allow-list and replay', () => {
  it('a well-signed record of a type not on the envelope allow-list (presence) is refused: RECORD_UNKNOWN_TYPE', async () => {
    const world = await buildWorld();
    const verdict = await check(world, RecordType.presence, 90_000);
    expect(verdict.ok ? 'accepted' : verdict.code).toBe('RECORD_UNKNOWN_TYPE');
    // The same record as an update type is accepted: only the type decides.
    const control = await check(world, RecordType.update, 90_000);
    expect(control.ok).toBe(true);
  });

  it('a fresh record at a seq a snapshot already covers is refused: RECORD_REPLAY', async () => {
    const world = await buildWorld();
    const verdict = await check(world, RecordType.update, 1);
    expect(verdict.ok ? 'accepted' : verdict.code).toBe('RECORD_REPLAY');
  });
});
