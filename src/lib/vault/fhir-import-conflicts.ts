/**
 * Resolving an import conflict (docs/decisions/0034 designed it, 0037 built it): a record edited
 * on a device since its import, whose file later changed, holds the incoming version in
 * `imported.conflict` until a person chooses.
 *
 * - `mine`: the device's edit stays; the mark takes the waiting version's digest, so the same
 *   file again is unchanged (and `recordDigest` still tells the record was edited here).
 * - `imported`: the waiting version becomes the record, as a fresh import of it (its own
 *   `recordDigest`), so a later file is compared against it like any imported record.
 *
 * Either way the conflict is dropped, in one transaction: one history line ('edit'), one undo step.
 */
import { recordDigestOf } from '../interop/fhir/import-plan.ts';
import { VaultError } from './errors.ts';
import type { SectionName } from './health.ts';
import type { Profile } from './profile.ts';
import { RecordError } from './records.ts';

export type ConflictChoice = 'mine' | 'imported';

type Json = Record<string, unknown>;
interface Mark extends Json {
  digest: string;
  recordDigest: string;
  at: string;
  conflict?: { digest: string; at: string; record: Json };
}

/** A record with an incoming version waiting beside it. */
export interface ImportConflict {
  readonly section: SectionName;
  readonly id: string;
  /** The digest of the waiting version: pass it back so a person only ever takes the version they saw. */
  readonly digest: string;
  /** When the waiting version arrived (the import's time). */
  readonly at: string;
  /** The record as the device holds it, and the waiting version (both validated records). */
  readonly mine: Json;
  readonly imported: Json;
}

const markOf = (record: Json | undefined): Mark | undefined => (record && typeof record.imported === 'object' && record.imported !== null ? (record.imported as Mark) : undefined);

/** Every flagged conflict of a profile, section by section (what the app lists with the two choices). */
export function importConflicts(profile: Profile, sections: readonly SectionName[]): ImportConflict[] {
  const out: ImportConflict[] = [];
  for (const section of sections) {
    for (const record of profile.records.list(section) as readonly Json[]) {
      const c = markOf(record)?.conflict;
      if (c) out.push({ section, id: String(record.id), digest: c.digest, at: c.at, mine: record, imported: c.record });
    }
  }
  return out;
}

/**
 * Resolves the conflict of `section`/`id`. `digest` is the waiting version's digest as the person
 * saw it (IMPORT_CONFLICT_CHANGED if another import replaced it since); IMPORT_NO_CONFLICT if
 * there is none any more; RECORD_NOT_FOUND if the record is gone; RECORD_INVALID if the waiting
 * version no longer passes its section's schema (nothing is written).
 */
export function resolveImportConflict(profile: Profile, section: SectionName, id: string, choice: ConflictChoice, digest?: string): void {
  if (!profile.canWrite) throw new RecordError('RECORD_READ_ONLY', 'you can view this profile but not change it');
  const record = profile.records.get(section, id) as Json | undefined;
  if (!record) throw new RecordError('RECORD_NOT_FOUND', 'that record no longer exists');
  const mark = markOf(record);
  const conflict = mark?.conflict;
  if (!mark || !conflict) throw new VaultError('IMPORT_NO_CONFLICT', 'this record has no import conflict to resolve');
  if (digest !== undefined && digest !== conflict.digest) throw new VaultError('IMPORT_CONFLICT_CHANGED', 'the file changed again since this choice was shown; choose again');
  const { conflict: _resolved, ...settled } = mark;
  let next: Json;
  if (choice === 'mine') {
    next = { ...record, imported: { ...settled, digest: conflict.digest } };
  } else {
    const incoming: Json = { ...conflict.record, id };
    next = { ...incoming, imported: { ...settled, digest: conflict.digest, at: conflict.at, recordDigest: recordDigestOf(incoming) } };
  }
  const writes = [{ section, record: next }];
  profile.records.checkImport(writes);
  profile.records.writeImport(writes);
}
