/**
 * How a keyed record is stored: a Y.Map of its top-level fields, written field by field, read
 * back as plain JSON. Apart from records.ts: pure over one Y.Map, no history, no validation.
 */
import * as Y from 'yjs';
import type { AnyRecord } from './records-types.ts';

/**
 * A keyed record is a Y.Map of its top-level fields, so concurrent edits of different fields
 * merge (two relatives changing a medication's dose and its note both keep theirs); the same
 * field is last-writer-wins. Only fields whose value changed are written. Records stored whole
 * (layout v1, the CLI) are converted on their next write.
 */
export function writeFields(section: Y.Map<unknown>, record: AnyRecord): boolean {
  let fields = section.get(record.id);
  let changed = false;
  if (!(fields instanceof Y.Map)) {
    fields = new Y.Map<unknown>();
    section.set(record.id, fields);
    changed = true;
  }
  const target = fields as Y.Map<unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (sameJson(target.get(key), value)) continue;
    target.set(key, value);
    changed = true;
  }
  for (const key of [...target.keys()]) {
    if (Object.hasOwn(record, key)) continue;
    target.delete(key);
    changed = true;
  }
  return changed;
}

/** A stored keyed record as plain JSON (field maps or whole values). */
export function plainValue(v: unknown): unknown {
  return v instanceof Y.Map ? v.toJSON() : v;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b));
}
