/**
 * The first step of the inbox (inbox.ts): envelope keys that arrived, read from the envelope map
 * and parsed into records. Keys already processed, or gone again (compacted away: their snapshot
 * covers them), are skipped; a value that is not a record, or not under its own id, is refused.
 * Separate from inbox.ts because it only reads bytes: nothing here is verified or trusted yet.
 */
import { parseRecord, recordKey, type ParsedRecord } from '../protocol/index.ts';
import type { InboxContext } from './inbox-context.ts';
import type { RecordRefusals } from './record-refusals.ts';

export function parseIncoming(keys: string[], c: Pick<InboxContext, 'state' | 'map'>, refusals: Pick<RecordRefusals, 'refuse'>): ParsedRecord[] {
  const batch: ParsedRecord[] = [];
  for (const key of keys) {
    if (c.state.processed.has(key)) continue;
    const bytes = c.map.get(key);
    if (bytes === undefined) continue; // compacted away before we got to it: its snapshot covers it
    if (!(bytes instanceof Uint8Array)) {
      refusals.refuse(key, undefined, { ok: false, code: 'ENVELOPE_BAD_STRUCT', message: 'envelope value is not binary' });
      continue;
    }
    // A type this app does not know (a newer app wrote it) is kept and followed, never dropped.
    const parsed = parseRecord(bytes, undefined, { unknownTypes: true });
    if (!parsed.ok) refusals.refuse(key, undefined, parsed);
    else if (recordKey(parsed.value) !== key) refusals.refuse(key, parsed.value, { ok: false, code: 'RECORD_KEY_MISMATCH', message: 'map key is not the record id' });
    else batch.push(parsed.value);
  }
  return batch;
}
