/**
 * Reminders on this device while a tab is open (docs/decisions/0044): a timer to the next dose of
 * a profile's schedule that raises a browser notification (permission asked from a button, never
 * on load), and notices when someone else changes a followed section. A service worker cannot
 * wake on a timer without a push service, so nothing fires while the app is closed, and the panel
 * says so. What is followed, whether reminders are on, and when notices were last read are kept in
 * this browser's localStorage: section names, record ids and times, no health data.
 */
import { doseSlots } from './care.ts';
import { doseNotification, followNotices, FOLLOW_NOTIFICATION, reminderPlan, slotsReached, type FollowNotice, type NotificationText } from './reminders.ts';
import type { ProfileState } from './profile.svelte.ts';

/** Longest a timer can wait (setTimeout's limit); a later slot is re-planned when it wakes. */
const MAX_WAIT_MS = 2 ** 31 - 1;

interface Prefs {
  /** Dose notifications on for this profile on this device. */
  on: boolean;
  /** The medicine and time in the notification (off: "A dose is due"). */
  details: boolean;
  /** Followed sections ("allergies") or records ("allergies/<id>"). */
  follows: string[];
  /** Notices up to this time (ms) were read. */
  seenAt: number;
}

const storageKey = (docId: string) => `fhv-reminders:${docId}`;

function loadPrefs(docId: string, now: number): Prefs {
  const fresh: Prefs = { on: false, details: false, follows: [], seenAt: now };
  try {
    const raw = globalThis.localStorage?.getItem(storageKey(docId));
    return raw ? { ...fresh, ...(JSON.parse(raw) as Partial<Prefs>) } : fresh;
  } catch {
    return fresh;
  }
}

export type Permission = 'default' | 'granted' | 'denied' | 'unsupported';

const permissionNow = (): Permission => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

export class ProfileReminders {
  permission = $state<Permission>(permissionNow());
  prefs = $state<Prefs>({ on: false, details: false, follows: [], seenAt: 0 });
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopWatch: (() => void) | undefined;
  /** Slots already notified up to this time (each slot fires once). */
  private firedUpTo: number;
  private lastFollowNotified: number;
  private readonly p: ProfileState;
  private readonly now: () => number;

  constructor(p: ProfileState, now: () => number = Date.now) {
    this.p = p;
    this.now = now;
    this.prefs = loadPrefs(p.docId, now());
    this.firedUpTo = now();
    this.lastFollowNotified = now();
  }

  /** The follow notices not yet read (reactive with the profile). */
  get notices(): FollowNotice[] {
    return followNotices(this.p.recent(100), { follows: new Set(this.prefs.follows), mine: (a) => a === this.p.me, since: this.prefs.seenAt });
  }

  /** Asks for the browser's permission (from a button press only) and turns reminders on. */
  async enable(): Promise<void> {
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') await Notification.requestPermission();
    this.permission = permissionNow();
    this.save({ on: true });
    this.plan();
  }

  disable(): void {
    this.save({ on: false });
    this.plan();
  }

  setDetails(details: boolean): void {
    this.save({ details });
  }

  follows(what: string): boolean {
    return this.prefs.follows.includes(what);
  }

  setFollow(what: string, on: boolean): void {
    const rest = this.prefs.follows.filter((f) => f !== what);
    this.save({ follows: on ? [...rest, what] : rest });
  }

  markNoticesRead(): void {
    this.save({ seenAt: this.now() });
  }

  /** Starts watching (idempotent): dose timer and follow notices, while this tab is open. */
  start(): void {
    if (!this.stopWatch) this.stopWatch = this.p.profile.watch(() => this.onChange());
    this.plan();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  private onChange(): void {
    // A dose settled or a medicine changed moves the next reminder.
    this.plan();
    if (!this.prefs.on || this.permission !== 'granted') return;
    const fresh = followNotices(this.p.recent(100), { follows: new Set(this.prefs.follows), mine: (a) => a === this.p.me, since: this.lastFollowNotified });
    if (fresh.length) {
      this.lastFollowNotified = Math.max(...fresh.map((n) => Date.parse(n.at)));
      this.notify(FOLLOW_NOTIFICATION, 'fhv-follow');
    }
  }

  /** Sets the timer to the next dose's time; on waking, notifies the doses reached since. */
  private plan(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.prefs.on) return;
    const now = this.now();
    const { nextAt } = reminderPlan(doseSlots(this.p, new Date(now)));
    // Past midnight the day's schedule changes: plan again then if nothing comes sooner.
    const midnight = new Date(now);
    midnight.setHours(24, 0, 0, 0);
    const wake = Math.min(nextAt ?? Infinity, midnight.getTime());
    this.timer = setTimeout(() => this.wake(), Math.min(Math.max(0, wake - now), MAX_WAIT_MS));
  }

  private wake(): void {
    const now = this.now();
    const reached = slotsReached(doseSlots(this.p, new Date(now)), this.firedUpTo, now);
    this.firedUpTo = now;
    if (reached.length && this.permission === 'granted') this.notify(doseNotification(reached, { details: this.prefs.details }), 'fhv-dose');
    this.plan();
  }

  private notify(text: NotificationText, tag: string): void {
    try {
      new Notification(text.title, { body: text.body, tag, icon: '/icon.svg' });
    } catch {
      // Some browsers (Android Chrome) allow notifications only from a service worker: the in-app list still shows it.
    }
  }

  private save(change: Partial<Prefs>): void {
    this.prefs = { ...this.prefs, ...change };
    try {
      globalThis.localStorage?.setItem(storageKey(this.p.docId), JSON.stringify(this.prefs));
    } catch {
      // Private mode without storage: the choice lasts for this tab.
    }
  }
}

const running = new Map<string, ProfileReminders>();

/** The reminders of an open profile in this tab (made and started once). */
export function remindersFor(p: ProfileState): ProfileReminders {
  let r = running.get(p.docId);
  if (!r) {
    r = new ProfileReminders(p);
    running.set(p.docId, r);
  }
  r.start();
  return r;
}

/** Whether this browser turned reminders on for a profile (its stored choice; the app resumes those). */
export function remindersWanted(docId: string): boolean {
  return loadPrefs(docId, 0).on;
}

/** The profiles whose reminders run in this tab. */
export function runningReminders(): string[] {
  return [...running.keys()];
}

/** Stops every profile's reminders (the app locked or the person left this device). */
export function stopAllReminders(): void {
  for (const r of running.values()) r.stop();
  running.clear();
}
