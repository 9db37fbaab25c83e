/** Builds records the way an attacker (a member or the relay) could, for security tests. */
import * as Y from 'yjs';
import { nobleEngine, seededRandom, type SigningKeyPair, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import {
  deriveClientId,
  encodeUpdatePayload,
  ENVELOPE_MAP,
  parseRecord,
  recordKey,
  RecordType,
  sealRecord,
  ZERO_HASH,
  type RecordTypeCode,
} from '../../src/lib/protocol/index.ts';

export interface ForgeOptions {
  signer: SigningKeyPair;
  docId: Uint8Array;
  key: SymmetricKey;
  seq: number;
  prev?: Uint8Array;
  epoch?: number;
  type?: RecordTypeCode;
  /** Plain-doc edit to carry; runs on a doc whose clientID is `clientId`. */
  edit?: (doc: Y.Doc) => void;
  /** Raw payload instead of an edit (e.g. malformed Yjs bytes). */
  rawUpdate?: Uint8Array;
  /** The record's whole payload as is (e.g. a signed audit entry), instead of an update payload. */
  payload?: Uint8Array;
  /** Defaults to a clientID derived from the signer and session 7 (i.e. honestly owned). */
  clientId?: number;
  session?: number;
  ext?: Uint8Array;
}

export async function forgeRecord(o: ForgeOptions): Promise<{ bytes: Uint8Array; key: string; id: Uint8Array }> {
  const session = o.session ?? 7;
  let update = o.rawUpdate;
  if (!update) {
    const doc = new Y.Doc();
    doc.clientID = o.clientId ?? deriveClientId(o.docId, o.signer.publicKey, session);
    o.edit?.(doc);
    update = Y.encodeStateAsUpdateV2(doc);
  }
  const sealed = await sealRecord({
    header: {
      type: o.type ?? RecordType.update,
      docId: o.docId,
      epoch: o.epoch ?? 0,
      author: o.signer.publicKey,
      seq: o.seq,
      prev: o.prev ?? ZERO_HASH,
      ext: o.ext ?? new Uint8Array(0),
    },
    payload: o.payload ?? encodeUpdatePayload({ sessions: [session], update }),
    key: o.key,
    secretKey: o.signer.secretKey,
    engine: nobleEngine,
    random: seededRandom(o.seq),
  });
  const parsed = parseRecord(sealed.bytes);
  if (!parsed.ok) throw new Error(parsed.code);
  return { bytes: sealed.bytes, key: recordKey(parsed.value), id: sealed.id };
}

/** Inserts raw bytes into an envelope doc under `key`, as a relay could. */
export function inject(envelope: Y.Doc, key: string, bytes: Uint8Array): void {
  envelope.transact(() => envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(key, bytes), 'attacker');
}
