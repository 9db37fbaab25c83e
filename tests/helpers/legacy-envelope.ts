/** An envelope as an app before record format v2 stored it (43-character keys), for decision 0023's tests. */
import * as Y from 'yjs';
import { nobleEngine, seededRandom, type SigningKeyPair, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import {
  deriveClientId,
  deriveDocId,
  encodeMembershipExt,
  encodeUpdatePayload,
  ENVELOPE_MAP,
  parseRecord,
  recordKey,
  RecordType,
  RecordVersion,
  Role,
  sealRecord,
  ZERO_HASH,
  type ParsedRecord,
} from '../../src/lib/protocol/index.ts';

const engine = nobleEngine;
const SESSION = 7;

/** A v1 genesis (the owner alone) and `updates` v1 update records, each appending one vitals entry. */
export async function legacyEnvelope(owner: SigningKeyPair, epochKey: SymmetricKey, updates: number) {
  const nonce = new Uint8Array(16).fill(5);
  const docId = deriveDocId(owner.publicKey, nonce);
  const records: ParsedRecord[] = [];
  const seal = async (seq: number, prev: Uint8Array, type: typeof RecordType.membership | typeof RecordType.update, ext: Uint8Array, payload: Uint8Array) => {
    const sealed = await sealRecord({ header: { type, docId, epoch: 0, author: owner.publicKey, seq, prev, ext }, payload, key: epochKey, secretKey: owner.secretKey, engine, random: seededRandom(seq), version: RecordVersion.v1 });
    const parsed = parseRecord(sealed.bytes);
    if (!parsed.ok) throw new Error(parsed.code);
    records.push(parsed.value);
    return parsed.value;
  };
  let head = await seal(1, ZERO_HASH, RecordType.membership, encodeMembershipExt({ kind: 'genesis', nonce, clock: 0, members: [{ publicKey: owner.publicKey, role: Role.owner, expiresAt: 0 }] }), new Uint8Array(0));
  const plain = new Y.Doc();
  plain.clientID = deriveClientId(docId, owner.publicKey, SESSION);
  for (let i = 0; i < updates; i++) {
    const before = Y.encodeStateVector(plain);
    plain.getArray('list:vitals').push([{ date: `2020-01-${String(i + 1).padStart(2, '0')}`, hr: 60 + i }]);
    const update = Y.encodeStateAsUpdateV2(plain, before);
    head = await seal(head.header.seq + 1, head.id, RecordType.update, new Uint8Array(0), encodeUpdatePayload({ sessions: [SESSION], update }));
  }
  const envelope = new Y.Doc();
  envelope.transact(() => records.forEach((r) => envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKey(r), r.bytes)));
  return { docId, state: Y.encodeStateAsUpdate(envelope), records };
}

