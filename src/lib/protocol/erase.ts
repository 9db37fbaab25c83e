/**
 * Erasure (decision 0035): an owner's signed order to delete a profile everywhere.
 *
 *   erase record = a cleartext record of type 7 (erase) for the document, signed by a current
 *                  owner (or an owner's certified device); ext = erasedAt(u48 ms)
 *
 * The relay reads and authorises it like a lockbox (writers: owners, record-types.ts), stores
 * only a tombstone (the document name, erasedAt and this record, no PHI) and drops the
 * document's log, owners and files. Devices drop their copy and keys once they see it: live in
 * the envelope, or from the relay's tombstone, which they verify against their own copy's
 * membership (`verifyTombstone`, erase-tombstone.ts): a relay cannot make a device drop a profile no owner erased.
 */
import { ByteReader, ByteWriter } from './codec.ts';
import { RecordType } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import type { ParsedRecord } from './record.ts';

export interface EraseOrder {
  /** When the owner ordered it (ms since the epoch, the owner's clock): shown in audits. */
  readonly erasedAt: number;
}

export function encodeEraseExt(o: EraseOrder): Uint8Array {
  return new ByteWriter().u48(o.erasedAt).finish();
}

export function decodeEraseExt(ext: Uint8Array): Result<EraseOrder> {
  const r = new ByteReader(ext);
  const erasedAt = r.u48();
  if (erasedAt === null || r.remaining !== 0) return fail('ERASE_MALFORMED', 'erase ext is not erasedAt(u48)');
  return ok({ erasedAt });
}

/** Is this record an erase order (of any document)? */
export const isEraseRecord = (record: ParsedRecord): boolean => record.header.type === RecordType.erase;
