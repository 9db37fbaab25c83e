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
 * membership (`verifyTombstone`): a relay cannot make a device drop a profile no owner erased.
 */
import type { Ed25519Engine } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { RecordType } from './constants.ts';
import { authorizeRecord, type IndexView } from './envelope.ts';
import { fail, ok, type Result } from './errors.ts';
import { parseRecord, type ParsedRecord } from './record.ts';

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

/**
 * Checks a tombstone's record as a device: it parses, is an erase for this device's document
 * (`index.docId`), is validly signed, and its author was an owner in this device's own fold of
 * the membership (replica rules: the relay took it, so time limits are not applied again).
 */
export async function verifyTombstone(bytes: Uint8Array, index: IndexView, engine: Ed25519Engine): Promise<Result<EraseOrder>> {
  const parsed = parseRecord(bytes);
  if (!parsed.ok || !isEraseRecord(parsed.value)) return fail('ERASE_TOMBSTONE_INVALID', 'not an erase record');
  const verdict = await authorizeRecord(parsed.value, index, { engine, now: 0, replica: true });
  if (!verdict.ok) return fail('ERASE_TOMBSTONE_INVALID', `the erase record does not hold here (${verdict.code})`);
  return decodeEraseExt(parsed.value.header.ext);
}
