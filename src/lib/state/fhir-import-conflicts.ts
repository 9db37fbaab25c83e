/**
 * Flagged import conflicts as the app lists them (docs/decisions/0034, 0037): a record edited on
 * this device since its import, whose file later changed, waits for a person to choose "keep
 * mine" or "take the file's version". The list is read from the profile's reactive sections; the
 * choice goes to the facade's resolveImportConflict with the waiting version's digest, so a
 * person only ever takes the version they were shown.
 */
import { describeError } from '../vault/errors.ts';
import { resolveImportConflict, type ConflictChoice } from '../vault/fhir-import-conflicts.ts';
import type { SectionName } from '../vault/health.ts';
import type { Profile } from '../vault/profile.ts';
import { fieldForPath, SECTION_FORMS } from './forms/index.ts';
import type { SectionForm } from './forms/types.ts';

export type { ConflictChoice };

export interface ConflictView {
  readonly key: string;
  readonly section: SectionName;
  /** "Conditions" */
  readonly sectionTitle: string;
  readonly id: string;
  readonly digest: string;
  /** The record as this device holds it, and as the file now says (each its section's summary). */
  readonly mine: string;
  readonly imported: string;
  /** What differs, by the form's field labels ("Started"), else the element's name; bookkeeping left out. */
  readonly changed: readonly string[];
}

type Rec = Record<string, unknown>;
const BOOKKEEPING = new Set(['id', 'schemaVersion', 'imported', 'meta']);

function changedFields(form: SectionForm, a: Rec, b: Rec): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !BOOKKEEPING.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return [...new Set(keys.map((k) => fieldForPath(form, [k])?.label ?? k))].sort();
}

/** The conflicts among `records` of `section` (what `profile.list(section)` returns). */
export function conflictsIn(section: SectionName, records: readonly unknown[]): ConflictView[] {
  const form = SECTION_FORMS[section];
  const out: ConflictView[] = [];
  for (const r of records as Rec[]) {
    const conflict = (r.imported as { conflict?: { digest: string; record: Rec } } | undefined)?.conflict;
    if (!conflict) continue;
    out.push({
      key: `${section}/${String(r.id)}`,
      section,
      sectionTitle: form.title,
      id: String(r.id),
      digest: conflict.digest,
      mine: form.summary(r).title,
      imported: form.summary(conflict.record).title,
      changed: changedFields(form, r, conflict.record),
    });
  }
  return out;
}

/** Every conflict of a profile, section by section; `list` is the profile state's reactive read. */
export function allConflicts(list: (section: SectionName) => readonly unknown[]): ConflictView[] {
  return (Object.keys(SECTION_FORMS) as SectionName[]).flatMap((s) => conflictsIn(s, list(s)));
}

/** Applies a choice; a message for a person when it was refused (typed, never the record's content). */
export function resolveConflict(profile: Profile, c: Pick<ConflictView, 'section' | 'id' | 'digest'>, choice: ConflictChoice): string | undefined {
  try {
    resolveImportConflict(profile, c.section, c.id, choice, c.digest);
    return undefined;
  } catch (e) {
    return describeError(e);
  }
}
