/**
 * How the app writes a moment for people: always with its date, since invites, sessions and
 * links live for days ("Link valid until 9:20 PM" meant tomorrow). One place, so every
 * screen says it the same way. Locale and time zone are injectable for tests.
 */
export interface WhenOptions {
  readonly locale?: string;
  readonly timeZone?: string;
}

/** "9 Dec 2026, 21:20" (in the reader's locale). */
export function formatWhen(ms: number, o: WhenOptions = {}): string {
  return new Intl.DateTimeFormat(o.locale, {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: o.timeZone,
  }).format(ms);
}

/** "9 Dec 2026" (in the reader's locale). */
export function formatDay(ms: number, o: WhenOptions = {}): string {
  return new Intl.DateTimeFormat(o.locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: o.timeZone }).format(ms);
}
