/**
 * A device's check of an erase order (decision 0035), kept apart from erase.ts because it runs
 * the write policy (envelope.ts), which itself reads the erase ext codec.
 */
import type { Ed25519Engine } from '../crypto/index.ts';
import { authorizeRecord } from './envelope.ts';
import type { IndexView } from './envelope-index.ts';
import { decodeEraseExt, isEraseRecord, type EraseOrder } from './erase.ts';
import { fail, type Result } from './errors.ts';
import { parseRecord } from './record.ts';

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
