/**
 * Today's medication schedule: which doses are due, overdue, coming up or already settled, derived
 * from the profile's MedicationStatements and its dose log. Pure functions of their inputs and
 * `now`, so every screen and every test sees the same schedule.
 *
 * Times are wall-clock times of the device's zone: a medicine taken "at 08:00" is taken at 08:00
 * wherever the person is, so slots are built from the local calendar day of `now`. A dose entry
 * settles a slot when it names the same medication and the same wall-clock date and time (its
 * offset aside): a relative in another zone then sees the same dose as taken, not as overdue.
 *
 */
import type { Coding, DoseLogEntry, MedicationStatementRecord } from '../vault/health.ts';
import { inPeriod, parseFhirDateTime, toFhirDateTime, type Period } from './fhir-time.ts';

const pad = (n: number): string => String(n).padStart(2, '0');
const hhmm = (d: Date): string => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

export type DoseState = 'taken' | 'skipped' | 'due' | 'overdue' | 'upcoming';

export interface DoseSlot {
  /** Key of the MedicationStatement in `medications`. */
  medicationId: string;
  /** The medicine's free text. */
  medication: string;
  /** The dosage's free text ("1 tablet with food"). */
  dose: string;
  /** FHIR dateTime with the device's offset at that moment, e.g. 2026-11-23T08:00:00+01:00. */
  scheduledFor: string;
  /** Wall-clock "08:00". */
  time: string;
  state: DoseState;
  /** The log entry that settled it (the latest one for this slot). */
  entry?: DoseLogEntry;
  /** The medicine's codes (RxNorm), copied into the log entry so it exports with them. */
  medicationCoding?: Coding[];
}

export interface AsNeededMedication {
  medicationId: string;
  medication: string;
  dose: string;
}

export interface ScheduleOptions {
  /** Minutes either side of a slot during which it is "due" rather than upcoming or overdue. */
  dueWindowMin?: number;
}

export const DEFAULT_DUE_WINDOW_MIN = 60;

type Dosage = NonNullable<MedicationStatementRecord['dosage']>[number];
type Repeat = NonNullable<Dosage['timing']>['repeat'];

const DAY_CODES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_MS = 86_400_000;
/** Days per period unit for day-or-longer cycles; 0 for calendar months and years. Sub-day units are absent. */
const CYCLE_DAYS: Partial<Record<string, number>> = { d: 1, wk: 7, mo: 0, a: 0 };

/** The scheduled doses of the local day of `now`, settled or not, sorted by time. */
export function dosesForDay(medications: readonly MedicationStatementRecord[], doses: readonly DoseLogEntry[], now: Date, o: ScheduleOptions = {}): DoseSlot[] {
  const windowMs = (o.dueWindowMin ?? DEFAULT_DUE_WINDOW_MIN) * 60_000;
  const settled = latestBySlot(doses);
  const slots: { slot: DoseSlot; t: number }[] = [];
  const seen = new Set<string>();
  for (const med of medications) {
    if (med.status !== 'active') continue;
    for (const dosage of med.dosage ?? []) {
      // As-needed doses have no clock: they are offered separately (asNeeded).
      if (dosage.asNeededBoolean === true) continue;
      const repeat = dosage.timing?.repeat;
      if (!repeat?.timeOfDay?.length || !onDay(repeat, med.effectivePeriod, now)) continue;
      for (const tod of repeat.timeOfDay) {
        const at = atTimeOfDay(now, tod);
        if (!at || !inPeriod(repeat.boundsPeriod, at.getTime()) || !inPeriod(med.effectivePeriod, at.getTime())) continue;
        const scheduledFor = toFhirDateTime(at);
        // Two dosage lines at the same minute are one dose to take: the first one's text is shown.
        const key = `${med.id}\u0000${wallClock(scheduledFor)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const entry = settled.get(key);
        const diff = now.getTime() - at.getTime();
        const state: DoseState = entry ? entry.status : Math.abs(diff) <= windowMs ? 'due' : diff > 0 ? 'overdue' : 'upcoming';
        const slot: DoseSlot = { medicationId: med.id, medication: med.medicationCodeableConcept.text, dose: dosage.text, scheduledFor, time: hhmm(at), state };
        if (entry) slot.entry = entry;
        if (med.medicationCodeableConcept.coding?.length) slot.medicationCoding = med.medicationCodeableConcept.coding;
        slots.push({ slot, t: at.getTime() });
      }
    }
  }
  return slots
    .sort((a, b) => a.t - b.t || a.slot.medication.localeCompare(b.slot.medication) || a.slot.medicationId.localeCompare(b.slot.medicationId))
    .map((s) => s.slot);
}

/** Active medications with an as-needed dosage (one item per such dosage), in input order. With `now`, only those within their effective period. */
export function asNeeded(medications: readonly MedicationStatementRecord[], now?: Date): AsNeededMedication[] {
  const out: AsNeededMedication[] = [];
  for (const med of medications) {
    if (med.status !== 'active' || (now && !inPeriod(med.effectivePeriod, now.getTime()))) continue;
    for (const dosage of med.dosage ?? []) {
      if (dosage.asNeededBoolean === true) out.push({ medicationId: med.id, medication: med.medicationCodeableConcept.text, dose: dosage.text });
    }
  }
  return out;
}

export interface DoseEntryOptions {
  /** The recording member's signing key, lowercase hex. */
  by: string;
  now: Date;
  newId: () => string;
  reason?: string;
}

/** A dose-log entry settling `slot`, ready for appendToList('doses'). */
export function doseEntry(slot: DoseSlot, status: 'taken' | 'skipped', o: DoseEntryOptions): DoseLogEntry {
  const medication: DoseLogEntry['medication'] = { text: slot.medication };
  if (slot.medicationCoding?.length) medication.coding = slot.medicationCoding;
  const entry: DoseLogEntry = {
    id: o.newId(),
    schemaVersion: 1,
    medicationId: slot.medicationId,
    medication,
    status,
    by: o.by,
    // Milliseconds kept: two corrections within one second still order by time.
    at: toFhirDateTime(o.now, true),
    scheduledFor: slot.scheduledFor,
  };
  const reason = o.reason?.trim();
  if (reason) entry.reason = reason;
  return entry;
}

/** The latest entry (by `at`, then log order) per medication and wall-clock scheduled time. */
function latestBySlot(doses: readonly DoseLogEntry[]): Map<string, DoseLogEntry> {
  const best = new Map<string, { entry: DoseLogEntry; at: number }>();
  for (const entry of doses) {
    if (!entry.scheduledFor) continue; // an unscheduled (as-needed) dose settles no slot
    const clock = wallClock(entry.scheduledFor);
    if (!clock) continue;
    const key = `${entry.medicationId}\u0000${clock}`;
    const at = parseFhirDateTime(entry.at)?.getTime() ?? -Infinity;
    const prev = best.get(key);
    if (!prev || at >= prev.at) best.set(key, { entry, at });
  }
  return new Map([...best].map(([k, v]) => [k, v.entry]));
}

/** "2026-11-23T08:00:00" of a full FHIR dateTime: its wall-clock date and time, offset and fraction dropped. */
function wallClock(value: string): string | undefined {
  return /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/.exec(value)?.[1];
}

/** Whether the repeat's day rules (dayOfWeek, or a cycle longer than a day) include the local day of `now`. */
function onDay(repeat: Repeat, effective: Period, now: Date): boolean {
  if (repeat.dayOfWeek?.length) return repeat.dayOfWeek.includes(DAY_CODES[now.getDay()]!);
  const unitDays = repeat.periodUnit === undefined ? undefined : CYCLE_DAYS[repeat.periodUnit];
  if (unitDays === undefined || repeat.period === undefined) return true; // sub-day or no period: every day
  const period = repeat.period;
  if (unitDays === 1 && period <= 1) return true;
  // Every N days/weeks/months: which days depends on when it started. Without a start day it is
  // left off rather than shown daily (a weekly medicine taken daily is a classic overdose).
  const anchor = localDay(repeat.boundsPeriod?.start ?? effective?.start);
  if (!anchor || !Number.isInteger(period)) return false;
  const today = { y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate() };
  if (unitDays > 0) {
    const days = Math.round((Date.UTC(today.y, today.m - 1, today.d) - Date.UTC(anchor.y, anchor.m - 1, anchor.d)) / DAY_MS);
    return days >= 0 && days % (unitDays * period) === 0;
  }
  // Monthly and yearly: on the start's day of the month (none in months without that day).
  const months = (today.y - anchor.y) * 12 + (today.m - anchor.m);
  const step = repeat.periodUnit === 'mo' ? period : period * 12;
  return today.d === anchor.d && months >= 0 && months % step === 0;
}

/** The calendar date a FHIR date/dateTime is written with (its own offset), if it has a day. */
function localDay(value: string | undefined): { y: number; m: number; d: number } | undefined {
  const m = value ? /^(\d{4})-(\d{2})-(\d{2})/.exec(value) : null;
  return m ? { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) } : undefined;
}

/** `now`'s local day at a FHIR time ("08:00:00"). A time skipped by a daylight-saving jump resolves as Date does (an hour later). */
function atTimeOfDay(now: Date, tod: string): Date | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})/.exec(tod);
  if (!m) return undefined;
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate(), Number(m[1]), Number(m[2]), Number(m[3]), 0);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
