/**
 * The first reading of an envelope update: its structs, refused in every shape whose effect the
 * rules cannot vouch for (I2 fresh keys, I3 nothing pending, and the shapes outside the
 * layout), and the new items it would add with their records parsed. Nothing is verified or
 * authorised here; the gate (envelope.ts) does that next, on these items.
 */
import * as Y from 'yjs';
import { fail, ok, type Failure, type Result } from './errors.ts';
import { ENVELOPE_MAP, recordKey, type ItemId } from './envelope-index.ts';
import type { EnvelopeCheckOptions, EnvelopeLimits } from './envelope-check-options.ts';
import { parseRecord, type ParsedRecord } from './record.ts';

const structFailure = (message: string): Failure => fail('ENVELOPE_BAD_STRUCT', message);

export interface NewItem {
  readonly id: ItemId;
  readonly key: string;
  /** Undefined for a content-less placeholder (ContentDeleted). */
  readonly record: ParsedRecord | undefined;
}

/** Reads the update's structs and refuses every shape whose effect the rules cannot vouch for. */
export function newItemsOf(decoded: ReturnType<typeof Y.decodeUpdate>, o: EnvelopeCheckOptions, limits: EnvelopeLimits): Result<{ items: NewItem[]; stateAfter: Map<number, number> }> {
  if (decoded.structs.length > limits.maxStructs) return fail('ENVELOPE_TOO_LARGE', 'too many structs in one update');
  const items: NewItem[] = [];
  const stateAfter = new Map<number, number>();
  const keysInUpdate = new Set<string>();
  /** Where each client's next struct in this update must start. */
  const inUpdate = new Map<number, number>();
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id;
    // Yjs keeps only the last block of a client that appears twice (readClientsStructRefs):
    // the structs checked and the structs applied would differ. Fuzz fixture: client-twice.
    if (inUpdate.has(client) && inUpdate.get(client) !== clock) return structFailure('a client appears twice in one update');
    inUpdate.set(client, clock + struct.length);
    if (!(struct instanceof Y.Item)) return structFailure('GC and skip structs are not accepted');
    if (struct.origin !== null || struct.rightOrigin !== null) return structFailure('only fresh map keys may be inserted');
    // In a decoded update, a root parent is the root type's name (Yjs types it loosely).
    if ((struct.parent as unknown) !== ENVELOPE_MAP || typeof struct.parentSub !== 'string') return structFailure('insert outside the envelope map');
    const next = stateAfter.get(client) ?? o.stateOf(client);
    stateAfter.set(client, Math.max(next, clock + struct.length));
    if (clock + struct.length <= next) continue; // already integrated: Yjs skips it
    if (clock < next) return structFailure('struct is partly known');
    if (clock > next) return fail('ENVELOPE_GAP', 'struct does not continue its client clock');
    const key = struct.parentSub;
    if (keysInUpdate.has(key)) return fail('ENVELOPE_KEY_EXISTS', 'key written twice in one update');
    keysInUpdate.add(key);
    if (struct.content instanceof Y.ContentDeleted) {
      if (struct.length !== 1) return structFailure('placeholder of more than one item');
      items.push({ id: { client, clock }, key, record: undefined });
      continue;
    }
    if (!(struct.content instanceof Y.ContentBinary)) return structFailure('envelope values must be binary records');
    const parsed = parseRecord(struct.content.content, limits.maxRecordBytes);
    const mismatch = parsed.ok && key !== recordKey(parsed.value);
    if (o.scope === 'replica' && (!parsed.ok || mismatch)) {
      items.push({ id: { client, clock }, key, record: undefined }); // the sync engine reports it
      continue;
    }
    if (!parsed.ok) return parsed;
    if (mismatch) return fail('RECORD_KEY_MISMATCH', 'map key is not the record id');
    items.push({ id: { client, clock }, key, record: parsed.value });
  }
  return ok({ items, stateAfter });
}
