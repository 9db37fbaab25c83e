/**
 * Same-field concurrent edits of one open profile, as notices (issue 13 item 4, decision 0041):
 * found by sync/field-conflicts.ts in each remote transaction of the plain doc, kept here until
 * the person restores the lost value (an ordinary edit, validated and sealed like any other) or
 * dismisses the notice. Both people get one, each on their own device.
 *
 * The lost value is PHI: it lives in this object's memory only (never in logs, storage or an
 * error message) and goes with the profile when it closes.
 */
import type * as Y from 'yjs';
import { fieldConflicts } from '../sync/field-conflicts.ts';
import { Observable } from '../sync/observable.ts';
import { REMOTE_ORIGIN } from '../sync/profile-sync.ts';
import { isSection, type SectionName } from './health.ts';
import { isLogSection, RecordError, type ProfileRecords } from './records.ts';

export interface ConflictNotice {
  /** Unique within this open profile. */
  readonly id: number;
  readonly section: SectionName;
  readonly record: string;
  readonly field: string;
  /** 'mine': this person's value was replaced; 'theirs': the other person's value lost to this one's. */
  readonly lost: 'mine' | 'theirs';
  readonly lostValue: unknown;
  readonly keptValue: unknown;
  /** Hex signing key of the other writer (undefined if their record did not name it). */
  readonly other: string | undefined;
  readonly at: number;
}

/** At most this many notices are kept: the oldest go first. */
const MAX_NOTICES = 20;

export interface ConflictContext {
  readonly plain: Y.Doc;
  readonly records: ProfileRecords;
  readonly me: string;
  readonly authorOfClient: (client: number) => string | undefined;
  readonly now: () => number;
}

export class ProfileConflicts {
  readonly notices = new Observable<readonly ConflictNotice[]>([]);
  private readonly c: ConflictContext;
  private nextId = 1;
  private readonly detach: () => void;

  constructor(c: ConflictContext) {
    this.c = c;
    const isOwn = (client: number) => client === c.plain.clientID || c.authorOfClient(client) === c.me;
    const watches = (root: string) => isSection(root) && !isLogSection(root as SectionName);
    const onTransaction = (tr: Y.Transaction) => {
      if (tr.origin !== REMOTE_ORIGIN || tr.changed.size === 0) return;
      const found = fieldConflicts(c.plain, tr, { isOwn, watches });
      if (found.length === 0) return;
      const at = c.now();
      const fresh = found.map((f) => ({
        id: this.nextId++,
        section: f.root as SectionName,
        record: f.record,
        field: f.field,
        lost: f.lost,
        lostValue: f.lostValue,
        keptValue: f.keptValue,
        other: c.authorOfClient(f.otherClient),
        at,
      }));
      // One notice per field: a newer conflict on it replaces the older one.
      const kept = this.notices.value.filter((n) => !fresh.some((f) => f.section === n.section && f.record === n.record && f.field === n.field));
      this.notices.set([...kept, ...fresh].slice(-MAX_NOTICES));
    };
    c.plain.on('afterTransaction', onTransaction);
    this.detach = () => c.plain.off('afterTransaction', onTransaction);
  }

  dismiss(id: number): void {
    this.notices.set(this.notices.value.filter((n) => n.id !== id));
  }

  /**
   * Puts the lost value back: an ordinary edit of the record as it is now (validated, in the
   * history, undoable, sealed and synced), which the other person then sees as a normal change.
   */
  restore(id: number): void {
    const notice = this.notices.value.find((n) => n.id === id);
    if (!notice) return;
    const current = this.c.records.get(notice.section, notice.record) as Record<string, unknown> | undefined;
    if (!current) throw new RecordError('RECORD_NOT_FOUND', 'That record no longer exists.');
    this.c.records.put(notice.section, { ...current, [notice.field]: notice.lostValue });
    this.dismiss(id);
  }

  destroy(): void {
    this.detach();
    this.notices.set([]);
  }
}
