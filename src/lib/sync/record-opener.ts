/**
 * Opening the inbox's sealed records with this device's epoch keys: an update record opened
 * ahead while its signature was checked (opened-ahead.ts, docs/decisions/0058) is taken from
 * there, anything else is opened when its turn comes. Separate from inbox.ts, which decides when
 * a record may be opened (verified and authorised); this only knows how, with which key.
 */
import { openRecord, type Failure, type ParsedRecord, type Result, type VerifiedRecord } from '../protocol/index.ts';
import { toVerifiedUpdate, type OwnedUpdate } from './apply.ts';
import type { EpochKeyRing } from './key-ring.ts';
import { OpenedAhead } from './opened-ahead.ts';

export class RecordOpener {
  private readonly docId: Uint8Array;
  private readonly keys: EpochKeyRing;
  /** Update records opened while their signatures were checked (docs/decisions/0058). */
  private readonly ahead: OpenedAhead;

  constructor(docId: Uint8Array, keys: EpochKeyRing) {
    this.docId = docId;
    this.keys = keys;
    this.ahead = new OpenedAhead(docId);
  }

  /** Opens a record the relay is sending, if its key is here; decides nothing (inbox.ts `openAhead`). */
  openAhead(record: ParsedRecord): void {
    const key = this.keys.get(record.header.epoch);
    if (key) this.ahead.open(record, key);
  }

  /** A verified, authorised update record's Yjs update: opened ahead (same bytes, same key), or now. */
  openUpdate(r: VerifiedRecord): Result<OwnedUpdate> {
    const key = this.keys.get(r.header.epoch);
    const ahead = key && this.ahead.take(r, key);
    if (ahead) return ahead;
    const opened = this.open(r);
    return opened.ok ? toVerifiedUpdate(opened.value, this.docId) : opened;
  }

  open(r: VerifiedRecord) {
    const key = this.keys.get(r.header.epoch);
    if (!key) return { ok: false, code: 'RECORD_UNKNOWN_EPOCH', message: 'no key for this record epoch' } as Failure;
    return openRecord(r, key);
  }
}
