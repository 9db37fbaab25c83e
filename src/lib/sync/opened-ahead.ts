/**
 * Update records the relay is sending, opened while their signatures are checked
 * (docs/decisions/0058). A reader used to wait for its WebCrypto verify (a thread round trip) and
 * only then decrypt the record, decode its payload, derive its clientIDs and parse its Yjs update;
 * that work now runs on the main thread while the engine's thread verifies.
 *
 * It decides nothing. The result is kept out of reach until the inbox holds the record as a
 * VerifiedRecord that its authorisation accepted, and is handed out only for the exact bytes
 * opened and the exact key they were opened with; anything else (no entry, other bytes, another
 * key) is opened afresh, as before. Opening is a pure function of those bytes, that key and the
 * document id, so the answer (a failure included, with its code) is the one opening them then
 * would give. Nothing opened here reaches the plain doc, the index or the status before that.
 */
import { bytesEqual, type SymmetricKey } from '../crypto/index.ts';
import { openAhead, recordKey, RecordType, type ParsedRecord, type Result, type VerifiedRecord } from '../protocol/index.ts';
import { ownedUpdateOf, type OwnedUpdate } from './apply.ts';

/** Entries kept at most (a record the gate refuses is never taken; the oldest goes first). */
const LIMIT = 256;
/** Larger records (a catch-up's big edits) are opened when their turn comes, as before. */
const MAX_RECORD_BYTES = 64 * 1024;

interface Ahead {
  readonly bytes: Uint8Array;
  readonly key: SymmetricKey;
  readonly result: Result<{ update: Uint8Array; clients: readonly number[] }>;
}

export class OpenedAhead {
  private readonly entries = new Map<string, Ahead>();
  private readonly docId: Uint8Array;

  constructor(docId: Uint8Array) {
    this.docId = docId;
  }

  /** Opens an update record under `key` now (its signature not yet checked): kept, not used. */
  open(record: ParsedRecord, key: SymmetricKey): void {
    if (record.header.type !== RecordType.update || record.bytes.length > MAX_RECORD_BYTES) return;
    const id = recordKey(record);
    if (this.entries.has(id)) return;
    const payload = openAhead(record, key);
    const result = payload.ok ? ownedUpdateOf(payload.value, record.header.author, this.docId) : payload;
    if (this.entries.size >= LIMIT) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { bytes: record.bytes, key, result });
  }

  /**
   * What opening `record` (verified and authorised by the caller) under `key` gives, if it was
   * opened ahead from the same bytes under the same key; undefined otherwise. Taken once.
   */
  take(record: VerifiedRecord, key: SymmetricKey): Result<OwnedUpdate> | undefined {
    const id = recordKey(record);
    const ahead = this.entries.get(id);
    if (ahead === undefined) return undefined;
    this.entries.delete(id);
    if (!bytesEqual(ahead.bytes, record.bytes) || !bytesEqual(ahead.key, key)) return undefined;
    return ahead.result as Result<OwnedUpdate>;
  }

  get size(): number {
    return this.entries.size;
  }
}
