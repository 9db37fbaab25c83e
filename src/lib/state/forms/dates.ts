/**
 * Between input-element values and FHIR date/time strings.
 *
 * A `datetime-local` value is wall-clock time in the device's time zone. It becomes a FHIR
 * dateTime with seconds and the offset that zone has *at that moment* (not today's offset: a
 * summer reading entered in winter gets the summer offset), so the stored value keeps both the
 * instant and the wall-clock time it was written in. Shown again, it is converted to the
 * viewer's own zone. Text that is no such value is passed through unchanged: validation
 * reports it, on the field it came from.
 */

import { offsetOf, parseFhirDateTime, toFhirDateTime } from '../fhir-time.ts';

export { offsetOf, parseFhirDateTime, toFhirDateTime };

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** `d` as a `datetime-local` value in the device's zone: "2026-11-23T14:05". */
export function toLocalInput(d: Date): string {
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function localDate(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "2026-11-23T14:05" (device zone) → "2026-11-23T14:05:00+01:00". Other text is returned as it is. */
export function localInputToFhir(value: string): string {
  const m = LOCAL.exec(value);
  if (!m) return value;
  const [y, mo, da, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (h > 23 || mi > 59 || s > 59) return value;
  const d = new Date(2000, 0, 1);
  d.setFullYear(y, mo - 1, da);
  // A wall-clock time skipped by a daylight-saving jump comes out an hour later, as Date resolves it.
  d.setHours(h, mi, s, 0);
  if (Number.isNaN(d.getTime()) || d.getFullYear() !== y || d.getMonth() !== mo - 1 || d.getDate() !== da) return value;
  return toFhirDateTime(d);
}

/**
 * A stored FHIR dateTime as a `datetime-local` value in the device's zone. Dates without a time
 * show as midnight (the first of the month or year when only those are known); "" when unknown.
 */
export function fhirToLocalInput(value: unknown): string {
  if (typeof value !== 'string') return '';
  const full = parseFhirDateTime(value);
  if (full) return toLocalInput(full);
  const m = DATE.exec(value);
  if (!m) return '';
  return `${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}T00:00`;
}

/**
 * A stored FHIR date or dateTime as a `date` input value: its calendar date as written (in the
 * offset it was recorded with). A bare year or year-month is returned as it is.
 */
export function fhirToDateInput(value: unknown): string {
  if (typeof value !== 'string') return '';
  const m = /^(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:T|$)/.exec(value);
  return m ? m[1]! : '';
}

/** "08:30" or "8:30" → "08:30:00" (a FHIR time); other text unchanged. */
export function timeInputToFhir(value: string): string {
  const m = /^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) return value.trim();
  return `${pad(Number(m[1]))}:${m[2]}:${m[3] ?? '00'}`;
}

/** "08:30:00" → "08:30"; seconds kept when they are not zero. */
export function fhirTimeToInput(value: unknown): string {
  if (typeof value !== 'string') return '';
  return /^\d{2}:\d{2}:00(\.0+)?$/.test(value) ? value.slice(0, 5) : value;
}
