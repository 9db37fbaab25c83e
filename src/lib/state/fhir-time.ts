/**
 * FHIR date and time in the device's zone: writing (`toFhirDateTime`), reading
 * (`parseFhirDateTime`, `fhirSpan` for partial dates) and period checks. One module for the
 * forms, the schedule, the emergency card and the trends.
 */
/** A FHIR Period as records hold it (either end optional). */
export type Period = { start?: string; end?: string } | undefined;

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
const hhmm = (d: Date): string => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** "+05:30": the device zone's offset at `d` (not today's: summer times keep the summer offset). */
export function offsetOf(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  return `${minutes < 0 ? '-' : '+'}${pad(Math.trunc(minutes / 60))}:${pad(minutes % 60)}`;
}

/** `d` in the device's zone as a FHIR dateTime, which is also a valid instant: "2026-11-23T08:00:00+01:00". */
export function toFhirDateTime(d: Date, millis = false): string {
  const ms = millis ? `.${pad(d.getMilliseconds(), 3)}` : '';
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${hhmm(d)}:${pad(d.getSeconds())}${ms}${offsetOf(d)}`;
}

const FULL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;
const PARTIAL = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** The instant a full FHIR dateTime/instant names; undefined for dates and other text. */
export function parseFhirDateTime(value: string): Date | undefined {
  const m = FULL.exec(value);
  if (!m) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0);
  if (m[8] !== 'Z') d.setTime(d.getTime() - (Number(m[10]) * 60 + Number(m[11])) * (m[9] === '-' ? -1 : 1) * 60_000);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export type FhirPrecision = 'year' | 'month' | 'day' | 'instant';

/**
 * The span of time a FHIR date or dateTime stands for, in epoch ms, end exclusive: an instant is
 * itself, a date (or month, or year) is that whole local calendar period of the device.
 */
export function fhirSpan(value: string | undefined): { start: number; end: number; precision: FhirPrecision } | undefined {
  if (!value) return undefined;
  const full = parseFhirDateTime(value);
  if (full) return { start: full.getTime(), end: full.getTime() + 1, precision: 'instant' };
  const m = PARTIAL.exec(value);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) - 1 : undefined;
  const da = m[3] ? Number(m[3]) : undefined;
  const local = (yy: number, mm: number, dd: number) => {
    const d = new Date(2000, 0, 1);
    d.setFullYear(yy, mm, dd); // setFullYear: the constructor maps years 0-99 to 1900-1999
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  };
  if (mo === undefined) return { start: local(y, 0, 1), end: local(y + 1, 0, 1), precision: 'year' };
  if (da === undefined) return { start: local(y, mo, 1), end: local(y, mo + 1, 1), precision: 'month' };
  return { start: local(y, mo, da), end: local(y, mo, da + 1), precision: 'day' };
}

/** Whether instant `t` falls within a FHIR Period (either end open when absent or unreadable). */
export function inPeriod(period: Period, t: number): boolean {
  const start = fhirSpan(period?.start);
  const end = fhirSpan(period?.end);
  return (!start || t >= start.start) && (!end || t < end.end);
}
