/**
 * A plan against what the profile holds (docs/decisions/0029): a record whose identity is new is
 * added; the same identity with the same source content is unchanged; changed source content is a
 * new version of the record, unless the record was edited on a device since it was imported,
 * then the incoming version waits beside it as a flagged conflict. Pure: the caller reads the
 * profile's records and writes what this returns.
 */
import { isObject, objects, str, type Json } from './import-values.ts';
import type { ImportPlan, PlannedRecord } from './import-plan.ts';
import { recordDigestOf } from './import-plan.ts';

export type Change = 'add' | 'version' | 'conflict';

export interface PlannedWrite {
  readonly planned: PlannedRecord;
  readonly change: Change;
  /** What to store (for a conflict: the device's record with the incoming one beside it). */
  readonly record: Json;
}

export interface ImportDiff {
  readonly writes: readonly PlannedWrite[];
  readonly unchanged: number;
  readonly conflicts: number;
}

/** Reads a stored record (validated) by section and id. */
export type ReadRecord = (section: string, id: string) => Json | undefined;

export function diffPlan(plan: ImportPlan, read: ReadRecord): ImportDiff {
  const writes: PlannedWrite[] = [];
  let unchanged = 0;
  let conflicts = 0;
  for (const planned of plan.records) {
    const existing = read(planned.section, planned.record.id);
    const incoming = planned.record;
    if (!existing) {
      writes.push({ planned, change: 'add', record: incoming });
      continue;
    }
    const mark = isObject(existing.imported) ? existing.imported : undefined;
    if (!mark || mark.key !== incoming.imported.key) {
      // Only the Patient record has a fixed id: a person's own details, typed before any import.
      // They win; the file adds what they lack.
      const merged = mergePatient(existing, incoming);
      if (merged) writes.push({ planned, change: 'version', record: merged });
      else unchanged++;
      continue;
    }
    const stored = recordDigestOf(existing);
    const edited = mark.recordDigest !== stored;
    // The same source content, or another rendering of what the profile holds (its own FHIR
    // export read back: other ids and references, the same record): nothing to write.
    if (mark.digest === incoming.imported.digest || incoming.imported.recordDigest === stored) {
      unchanged++;
      continue;
    }
    if (!edited) {
      writes.push({ planned, change: 'version', record: incoming });
      continue;
    }
    const pending = isObject(mark.conflict) ? mark.conflict : undefined;
    if (pending && pending.digest === incoming.imported.digest) {
      unchanged++;
      continue;
    }
    const { imported: _drop, ...incomingBody } = incoming;
    const conflict = { digest: incoming.imported.digest, at: incoming.imported.at, record: incomingBody };
    writes.push({ planned, change: 'conflict', record: { ...existing, imported: { ...mark, conflict } } });
    conflicts++;
  }
  return { writes, unchanged, conflicts };
}

/**
 * The profile's own Patient record with what the file adds: fields it lacks, and contacts it
 * does not have (by name). Undefined when the file adds nothing.
 */
function mergePatient(existing: Json, incoming: PlannedRecord['record']): Json | undefined {
  if (existing.resourceType !== 'Patient') return undefined;
  const out: Json = { ...existing };
  let added = false;
  for (const [k, v] of Object.entries(incoming)) {
    if (k === 'contact' || k === 'imported' || k === 'meta' || out[k] !== undefined) continue;
    out[k] = v;
    added = true;
  }
  const names = new Set(objects(existing.contact).map((c) => (isObject(c.name) ? str(c.name.text) : undefined)));
  const newContacts = objects(incoming.contact).filter((c) => !names.has(isObject(c.name) ? str(c.name.text) : undefined));
  if (newContacts.length > 0) {
    out.contact = [...objects(existing.contact), ...newContacts];
    added = true;
  }
  return added ? out : undefined;
}
