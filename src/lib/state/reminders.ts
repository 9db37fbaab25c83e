/**
 * Dose reminders and follow notices on this device (docs/decisions/0044), as pure functions of
 * the schedule, the history and `now`, so the panel, the notifier and the tests agree.
 *
 * A notification can show on a locked phone screen, to anyone near it: by default it says only
 * "A dose is due" and never whose or which; the medicine and time are shown only where the person
 * chose that on this device. A person's name is never in a notification.
 */
import type { HistoryEntry } from '../vault/app.ts';
import type { DoseSlot } from './schedule.ts';

export interface ReminderPlan {
  /** Doses to take now (due or overdue), in time order. */
  readonly dueNow: readonly DoseSlot[];
  /** The next dose later today, if any. */
  readonly next?: DoseSlot;
  /** When the next reminder fires (ms since epoch): the next upcoming slot's time. */
  readonly nextAt?: number;
}

export function reminderPlan(slots: readonly DoseSlot[]): ReminderPlan {
  const dueNow = slots.filter((s) => s.state === 'due' || s.state === 'overdue');
  const next = slots.find((s) => s.state === 'upcoming');
  const at = next ? Date.parse(next.scheduledFor) : NaN;
  return Number.isNaN(at) ? { dueNow, next } : { dueNow, next, nextAt: at };
}

/** Slots whose time has come since `since` (exclusive) up to `now` (inclusive), unsettled: each fires once. */
export function slotsReached(slots: readonly DoseSlot[], since: number, now: number): DoseSlot[] {
  return slots.filter((s) => {
    if (s.state === 'taken' || s.state === 'skipped') return false;
    const at = Date.parse(s.scheduledFor);
    return at > since && at <= now;
  });
}

export interface NotificationText {
  readonly title: string;
  readonly body: string;
}

/** The text of a dose notification: neutral unless the person chose details on this device. */
export function doseNotification(slots: readonly DoseSlot[], o: { details: boolean }): NotificationText {
  if (!o.details || slots.length === 0) {
    return { title: slots.length > 1 ? 'Doses are due' : 'A dose is due', body: 'Open Family Health Vault to see it.' };
  }
  return { title: slots.length > 1 ? 'Doses are due' : 'A dose is due', body: slots.map((s) => `${s.time} ${s.medication}`).join(', ') };
}

/** The text of a follow notice's notification: never which record, what it says, or whose. */
export const FOLLOW_NOTIFICATION: NotificationText = { title: 'A record you follow changed', body: 'Open Family Health Vault to see it.' };

export interface FollowNotice {
  readonly section: string;
  readonly id: string;
  readonly action: HistoryEntry['action'];
  readonly at: string;
  /** Device key of who changed it (named with the profile's member names when shown). */
  readonly author: string;
}

/**
 * Changes by someone else to a followed section or record after `since` (ms since epoch; the
 * authors' own signed times), newest first.
 * A follow is a section name ("allergies") or one record ("allergies/<id>").
 */
export function followNotices(entries: readonly HistoryEntry[], o: { follows: ReadonlySet<string>; mine: (author: string) => boolean; since: number }): FollowNotice[] {
  const t = (e: HistoryEntry) => Date.parse(e.at);
  return entries
    .filter((e) => (o.follows.has(e.section) || o.follows.has(`${e.section}/${e.id}`)) && !o.mine(e.author) && t(e) > o.since)
    .sort((a, b) => t(b) - t(a))
    .map((e) => ({ section: e.section, id: e.id, action: e.action, at: e.at, author: e.author }));
}
