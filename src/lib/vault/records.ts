/**
 * Typed health records over a profile's plain doc (crdt-schemas/health, layout v1): keyed
 * sections are Y.Maps of id → record, logs are Y.Arrays of records with ids. Every write is
 * validated first (a bad record throws RecordError and changes nothing); every read is
 * validated and migrated, so a record from an older client reads as the current version and a
 * malformed one is counted, never shown half-parsed.
 *
 * History: each write appends {section, id, action, at, by} to `list:history` in the same
 * transaction. `by` is only a claim; the author shown is the signer whose verified record
 * carried the entry's Yjs struct (ProfileSync.authorOfClient), so a member cannot write history
 * in someone else's name.
 *
 * Beside it: its types and RecordError (records-types.ts), the history lines (records-history.ts)
 * and how a keyed record is stored field by field (records-fields.ts), re-exported from here.
 */
import * as Y from 'yjs';
import { SECTIONS, validateRecord, type SectionName, type SectionRecord } from './health.ts';
import { HISTORY_ROOT, historyWhere, noteHistory, type HistoryEntry } from './records-history.ts';
import { isLogSection, RecordError, type AnyRecord, type ImportWrite, type RecordsContext } from './records-types.ts';
import { plainValue, writeFields } from './records-fields.ts';

export { isLogSection, RecordError } from './records-types.ts';
export type { AnyRecord, ImportWrite, KeyedSection, LogSection, RecordsContext } from './records-types.ts';
export { HISTORY_ROOT } from './records-history.ts';
export type { HistoryAction, HistoryEntry } from './records-history.ts';
export { plainValue } from './records-fields.ts';

/** Transactions of this device's own edits: tracked by undo, sealed by ProfileSync like any local edit. */
export const LOCAL_ORIGIN = Symbol('fhv:local');

export class ProfileRecords {
  private readonly c: RecordsContext;
  /**
   * Validated reads per root, dropped when a transaction changes that root: screens read every
   * section on each render, and validation is the costly part (years of vitals).
   */
  private readonly cache = new Map<string, { valid: unknown[]; invalid: number }>();
  private historyCache: HistoryEntry[] | undefined;

  constructor(c: RecordsContext) {
    this.c = c;
  }

  /** Drops what was read from these roots; the profile calls it after every transaction that changed them. */
  invalidate(roots: ReadonlySet<string>): void {
    for (const name of roots) {
      this.cache.delete(name);
      if (name === HISTORY_ROOT) this.historyCache = undefined;
    }
  }

  /** Hex signing key of this device (what history and the dose log record as `by`). */
  get me(): string {
    return this.c.me;
  }

  /** Valid records of a section (migrated to the current version); invalid ones are skipped. Read-only: shared until the section changes. */
  list<S extends SectionName>(section: S): SectionRecord<S>[] {
    return this.validated(section).valid as SectionRecord<S>[];
  }

  /** How many stored records of a section fail validation (shown, not hidden). */
  invalidCount(section: SectionName): number {
    return this.validated(section).invalid;
  }

  private validated(section: SectionName): { valid: unknown[]; invalid: number } {
    let hit = this.cache.get(section);
    if (!hit) {
      hit = { valid: [], invalid: 0 };
      for (const raw of this.raw(section)) {
        const v = validateRecord(section, raw);
        if (v.ok) hit.valid.push(v.value);
        else hit.invalid++;
      }
      this.cache.set(section, hit);
    }
    return hit;
  }

  get<S extends SectionName>(section: S, id: string): SectionRecord<S> | undefined {
    const raw = isLogSection(section) ? this.raw(section).find((r) => (r as { id?: unknown }).id === id) : plainValue(this.map(section).get(id));
    if (raw === undefined) return undefined;
    const v = validateRecord(section, raw);
    return v.ok ? v.value : undefined;
  }

  /** Adds or replaces a record (by its id); returns what was stored. */
  put<S extends SectionName>(section: S, value: unknown): SectionRecord<S> {
    this.assertWritable();
    const v = validateRecord(section, value);
    if (!v.ok) throw new RecordError('RECORD_INVALID', `this ${SECTIONS[section].kind} record is not valid`, v.issues);
    const record = v.value as AnyRecord;
    this.c.doc.transact(() => {
      let existed: boolean;
      let changed = true;
      if (isLogSection(section)) {
        const arr = this.array(section);
        const i = this.indexOf(arr, record.id);
        existed = i >= 0;
        if (existed) arr.delete(i, 1);
        arr.insert(existed ? i : arr.length, [record]);
      } else {
        const map = this.map(section);
        existed = map.has(record.id);
        changed = writeFields(map, record);
      }
      // Saving an unchanged form writes nothing and leaves no history line.
      if (changed) noteHistory(this.c, section, record.id, existed ? 'edit' : 'add');
    }, LOCAL_ORIGIN);
    return record as SectionRecord<S>;
  }

  /**
   * Checks an import's records before any is written (docs/decisions/0029): one invalid record
   * refuses the import with RECORD_INVALID and nothing changes.
   */
  checkImport(writes: readonly ImportWrite[]): void {
    this.assertWritable();
    for (const w of writes) {
      const v = validateRecord(w.section, w.record);
      if (!v.ok) throw new RecordError('RECORD_INVALID', `an imported ${SECTIONS[w.section].kind} record is not valid`, v.issues);
    }
  }

  /**
   * Writes one chunk of an import in one transaction (the outbox seals it as one record). History:
   * an 'edit' line for each new version of a record already there, none for added records; the
   * chunk that carries `summary` adds the import's one line ("Imported N records from …").
   */
  writeImport(writes: readonly ImportWrite[], summary?: { readonly source: string; readonly count: number }): void {
    this.assertWritable();
    // Positions in each log, read once: looking each id up in the whole array made a large import quadratic (S9).
    const positions = new Map<string, Map<unknown, number>>();
    const positionsOf = (arr: Y.Array<unknown>, section: string) => {
      let p = positions.get(section);
      if (!p) positions.set(section, (p = new Map(arr.toArray().map((r, i) => [(r as { id?: unknown } | null)?.id, i]))));
      return p;
    };
    const appended = new Map<string, AnyRecord[]>();
    this.c.doc.transact(() => {
      for (const w of writes) {
        const record = w.record as AnyRecord;
        let existed: boolean;
        if (isLogSection(w.section)) {
          const arr = this.array(w.section);
          const at = positionsOf(arr, w.section);
          const i = at.get(record.id);
          existed = i !== undefined;
          if (i !== undefined) {
            arr.delete(i, 1);
            arr.insert(i, [record]);
          } else {
            at.set(record.id, -1);
            appended.set(w.section, [...(appended.get(w.section) ?? []), record]);
          }
        } else {
          existed = this.map(w.section).has(record.id);
          writeFields(this.map(w.section), record);
        }
        if (existed) noteHistory(this.c, w.section, record.id, 'edit');
      }
      // One push per log: Yjs walks the whole array to find its end on every push.
      for (const [section, records] of appended) this.array(section as SectionName).push(records);
      if (summary) noteHistory(this.c, 'import', summary.source, 'import', summary.count);
    }, LOCAL_ORIGIN);
  }

  /**
   * The stored records of a section with these ids, validated (others are not): one pass over
   * a log instead of one scan per id (an import's diff).
   */
  getMany(section: SectionName, ids: ReadonlySet<string>): Map<string, AnyRecord> {
    const out = new Map<string, AnyRecord>();
    if (!isLogSection(section)) {
      for (const id of ids) {
        const r = this.get(section, id);
        if (r) out.set(id, r as AnyRecord);
      }
      return out;
    }
    for (const raw of this.array(section).toArray()) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !ids.has(id) || out.has(id)) continue;
      const v = validateRecord(section, raw);
      if (v.ok) out.set(id, v.value as AnyRecord);
    }
    return out;
  }

  remove(section: SectionName, id: string): void {
    this.assertWritable();
    this.c.doc.transact(() => {
      if (isLogSection(section)) {
        const arr = this.array(section);
        const i = this.indexOf(arr, id);
        if (i < 0) throw new RecordError('RECORD_NOT_FOUND', 'that record no longer exists');
        arr.delete(i, 1);
      } else {
        const map = this.map(section);
        if (!map.has(id)) throw new RecordError('RECORD_NOT_FOUND', 'that record no longer exists');
        map.delete(id);
      }
      noteHistory(this.c, section, id, 'delete');
    }, LOCAL_ORIGIN);
  }

  /** Who changed this record and when, oldest first. */
  history(section: string, id: string): HistoryEntry[] {
    return this.allHistory().filter((h) => h.section === section && h.id === id);
  }

  /** The latest changes across the profile, newest first. */
  recent(limit = 50): HistoryEntry[] {
    return this.allHistory().slice(-limit).reverse();
  }

  private allHistory(): HistoryEntry[] {
    return (this.historyCache ??= historyWhere(this.c, () => true));
  }

  /** Appends an undo/redo marker for a record (called by the undo controller). */
  noteUndo(section: string, id: string, action: 'undo' | 'redo'): void {
    this.c.doc.transact(() => noteHistory(this.c, section, id, action), LOCAL_ORIGIN);
  }

  /** Root names read by this layer (for observers and undo scope). */
  static roots(): string[] {
    return Object.keys(SECTIONS);
  }

  private assertWritable(): void {
    if (!this.c.canWrite()) throw new RecordError('RECORD_READ_ONLY', 'you can view this profile but not change it');
  }

  private raw(section: SectionName): unknown[] {
    return isLogSection(section) ? this.array(section).toArray() : [...this.map(section).values()].map(plainValue);
  }

  private map(section: SectionName): Y.Map<unknown> {
    return this.c.doc.getMap(section);
  }

  private array(section: SectionName): Y.Array<unknown> {
    return this.c.doc.getArray(section);
  }

  private indexOf(arr: Y.Array<unknown>, id: string): number {
    return arr.toArray().findIndex((r) => (r as { id?: unknown } | null)?.id === id);
  }
}
