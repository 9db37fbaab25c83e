/**
 * The day's medication schedule. Times are the device's wall clock, so expectations are built
 * from the same local Date components (never from hard-coded offsets) and compared as instants;
 * one block re-runs the core cases under several TZ values (Node re-reads process.env.TZ, and
 * vitest's forks keep the change inside this file's process).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPrng, withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { validateRecord, type DoseLogEntry, type MedicationStatementRecord } from '../../src/lib/vault/health.ts';
import { asNeeded, doseEntry, dosesForDay, type DoseSlot } from '../../src/lib/state/schedule.ts';
import { inPeriod, parseFhirDateTime, toFhirDateTime } from '../../src/lib/state/fhir-time.ts';

const FILE = 'tests/state/schedule.test.ts';
const KEY = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);

/** 23 November 2026 (a Monday) at hh:mm local time. */
const on = (hh: number, mm = 0, day = 23, month = 10) => new Date(2026, month, day, hh, mm);

type Repeat = NonNullable<NonNullable<NonNullable<MedicationStatementRecord['dosage']>[number]['timing']>['repeat']>;
function med(id: string, text: string, repeat: Repeat, extra: Partial<MedicationStatementRecord> = {}, dosageExtra: object = {}): MedicationStatementRecord {
  return {
    id,
    schemaVersion: 1,
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: { text },
    dosage: [{ text: `${text} dose`, timing: { repeat }, ...dosageExtra }],
    ...extra,
  };
}

let n = 0;
function dose(medicationId: string, scheduledFor: string, status: 'taken' | 'skipped', at: Date, by = KEY): DoseLogEntry {
  return { id: `d${++n}`, schemaVersion: 1, medicationId, medication: { text: medicationId }, status, by, at: toFhirDateTime(at, true), scheduledFor };
}

const instant = (s: DoseSlot) => new Date(s.scheduledFor).getTime();

const METFORMIN = med('metformin', 'Metformin', { timeOfDay: ['20:00:00', '08:00:00'] });
const LISINOPRIL = med('lisinopril', 'Lisinopril', { timeOfDay: ['09:30:00'] });

describe('dosesForDay', () => {
  it('one slot per time of day on the local day of now, sorted by time, with local-offset dateTimes', () => {
    const slots = dosesForDay([METFORMIN, LISINOPRIL], [], on(9));
    expect(slots.map((s) => [s.medication, s.time])).toEqual([
      ['Metformin', '08:00'],
      ['Lisinopril', '09:30'],
      ['Metformin', '20:00'],
    ]);
    expect(slots.map(instant)).toEqual([on(8).getTime(), on(9, 30).getTime(), on(20).getTime()]);
    for (const s of slots) {
      expect(s.scheduledFor).toMatch(/^2026-11-23T\d{2}:\d{2}:00[+-]\d{2}:\d{2}$/);
      expect(validateRecord('list:doses', { ...doseEntry(s, 'taken', { by: KEY, now: on(9), newId: () => 'x' }) }).ok).toBe(true);
    }
    expect(slots[0]).toMatchObject({ medicationId: 'metformin', dose: 'Metformin dose' });
  });

  it('unsettled slots are due within the window, overdue after it, upcoming before it', () => {
    const states = (now: Date, o?: { dueWindowMin?: number }) => dosesForDay([METFORMIN], [], now, o).map((s) => s.state);
    expect(states(on(8))).toEqual(['due', 'upcoming']);
    expect(states(on(7, 0))).toEqual(['due', 'upcoming']); // exactly 60 min early
    expect(states(on(6, 59))).toEqual(['upcoming', 'upcoming']);
    expect(states(on(9, 0))).toEqual(['due', 'upcoming']); // exactly 60 min late
    expect(states(on(9, 1))).toEqual(['overdue', 'upcoming']);
    expect(states(on(23, 59))).toEqual(['overdue', 'overdue']);
    expect(states(on(8, 20), { dueWindowMin: 15 })).toEqual(['overdue', 'upcoming']);
    expect(states(on(7, 50), { dueWindowMin: 15 })).toEqual(['due', 'upcoming']);
  });

  it('a slot is settled by the latest entry for it; entries for other slots, days or medicines do not count', () => {
    const [eight] = dosesForDay([METFORMIN], [], on(10));
    const first = dose('metformin', eight!.scheduledFor, 'skipped', on(8, 5));
    const correction = dose('metformin', eight!.scheduledFor, 'taken', on(8, 30), OTHER);
    const yesterday = dose('metformin', toFhirDateTime(on(20, 0, 22)), 'taken', on(20, 1, 22));
    const otherMed = dose('lisinopril', eight!.scheduledFor, 'taken', on(8, 1));
    const adHoc = { ...dose('metformin', '', 'taken', on(8)), scheduledFor: undefined };

    const slots = dosesForDay([METFORMIN], [correction, first, yesterday, otherMed, adHoc], on(10));
    expect(slots.map((s) => s.state)).toEqual(['taken', 'upcoming']);
    expect(slots[0]!.entry).toBe(correction); // later `at` wins whatever the log order
    expect(slots[1]!.entry).toBeUndefined();

    // Same `at`: the one later in the log wins.
    const tie = dose('metformin', eight!.scheduledFor, 'skipped', on(8, 30));
    expect(dosesForDay([METFORMIN], [correction, tie], on(10))[0]!.entry).toBe(tie);
  });

  it('an entry written in another time zone settles the slot with the same wall-clock time', () => {
    const [eight] = dosesForDay([METFORMIN], [], on(10));
    const wall = eight!.scheduledFor.slice(0, 19);
    const elsewhere = wall + (eight!.scheduledFor.endsWith('+05:30') ? '-05:00' : '+05:30');
    const entry = dose('metformin', elsewhere, 'taken', on(8, 2));
    expect(dosesForDay([METFORMIN], [entry], on(10))[0]).toMatchObject({ state: 'taken', entry });
  });

  it('only active medications with timeOfDay make slots; as-needed dosages none', () => {
    const meds = [
      med('stopped', 'Stopped', { timeOfDay: ['08:00:00'] }, { status: 'stopped' }),
      med('error', 'Error', { timeOfDay: ['08:00:00'] }, { status: 'entered-in-error' }),
      med('paused', 'Paused', { timeOfDay: ['08:00:00'] }, { status: 'on-hold' }),
      med('vague', 'Vague', { frequency: 2, period: 1, periodUnit: 'd' }),
      med('prn', 'Salbutamol', { timeOfDay: ['08:00:00'] }, {}, { asNeededBoolean: true }),
      { ...med('nodosage', 'No dosage', {}), dosage: undefined },
      LISINOPRIL,
    ];
    expect(dosesForDay(meds, [], on(9)).map((s) => s.medicationId)).toEqual(['lisinopril']);
    expect(asNeeded(meds)).toEqual([{ medicationId: 'prn', medication: 'Salbutamol', dose: 'Salbutamol dose' }]);
    expect(asNeeded([{ ...meds[4]!, status: 'stopped' }])).toEqual([]);
    expect(asNeeded([{ ...meds[4]!, effectivePeriod: { end: '2026-11-01' } }], on(9))).toEqual([]);
  });

  it('two dosage lines at the same time make one slot', () => {
    const twice: MedicationStatementRecord = { ...METFORMIN, dosage: [...METFORMIN.dosage!, { text: 'again', timing: { repeat: { timeOfDay: ['08:00:00'] } } }] };
    expect(dosesForDay([twice], [], on(9)).map((s) => [s.time, s.dose])).toEqual([
      ['08:00', 'Metformin dose'],
      ['20:00', 'Metformin dose'],
    ]);
  });

  it('respects dayOfWeek (local day of now)', () => {
    const weekdays = med('w', 'Weekdays', { timeOfDay: ['08:00:00'], dayOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    expect(dosesForDay([weekdays], [], on(9, 0, 23))).toHaveLength(1); // Monday
    expect(dosesForDay([weekdays], [], on(9, 0, 28))).toHaveLength(0); // Saturday
    expect(dosesForDay([weekdays], [], on(9, 0, 29))).toHaveLength(0); // Sunday
  });

  it('respects boundsPeriod and effectivePeriod, dates as whole local days and dateTimes as instants', () => {
    const bounded = (period: { start?: string; end?: string }, where: 'bounds' | 'effective') =>
      where === 'bounds' ? med('b', 'B', { timeOfDay: ['08:00:00', '20:00:00'], boundsPeriod: period }) : med('b', 'B', { timeOfDay: ['08:00:00', '20:00:00'] }, { effectivePeriod: period });
    for (const where of ['bounds', 'effective'] as const) {
      const times = (p: { start?: string; end?: string }) => dosesForDay([bounded(p, where)], [], on(9)).map((s) => s.time);
      expect(times({ start: '2026-11-23' })).toEqual(['08:00', '20:00']);
      expect(times({ end: '2026-11-23' })).toEqual(['08:00', '20:00']); // the end day is included
      expect(times({ start: '2026-11-24' })).toEqual([]);
      expect(times({ end: '2026-11-22' })).toEqual([]);
      expect(times({ start: '2026-11', end: '2026' })).toEqual(['08:00', '20:00']);
      expect(times({ end: toFhirDateTime(on(12)) })).toEqual(['08:00']);
      expect(times({ start: toFhirDateTime(on(12)) })).toEqual(['20:00']);
    }
  });

  it('a cycle longer than a day counts from its start; without a start it makes no slots', () => {
    const everyOther = (start?: string) => med('e', 'Every other day', { timeOfDay: ['08:00:00'], frequency: 1, period: 2, periodUnit: 'd' }, start ? { effectivePeriod: { start } } : {});
    expect(dosesForDay([everyOther('2026-11-21')], [], on(9))).toHaveLength(1);
    expect(dosesForDay([everyOther('2026-11-22')], [], on(9))).toHaveLength(0);
    expect(dosesForDay([everyOther()], [], on(9))).toHaveLength(0);
    const weekly = med('mtx', 'Methotrexate', { timeOfDay: ['08:00:00'], frequency: 1, period: 1, periodUnit: 'wk', boundsPeriod: { start: '2026-11-02' } });
    expect(dosesForDay([weekly], [], on(9, 0, 23))).toHaveLength(1);
    expect(dosesForDay([weekly], [], on(9, 0, 24))).toHaveLength(0);
    expect(dosesForDay([{ ...weekly, dosage: [{ text: 'weekly', timing: { repeat: { timeOfDay: ['08:00:00'], period: 1, periodUnit: 'wk' } } }] }], [], on(9))).toHaveLength(0);
    const monthly = med('m', 'Monthly', { timeOfDay: ['08:00:00'], period: 1, periodUnit: 'mo', boundsPeriod: { start: '2026-01-23' } });
    expect(dosesForDay([monthly], [], on(9, 0, 23))).toHaveLength(1);
    expect(dosesForDay([monthly], [], on(9, 0, 22))).toHaveLength(0);
    // Sub-day cycles and "once a day" keep every day.
    expect(dosesForDay([med('h', 'Hourly', { timeOfDay: ['08:00:00'], frequency: 1, period: 8, periodUnit: 'h' })], [], on(9))).toHaveLength(1);
    expect(dosesForDay([med('d', 'Daily', { timeOfDay: ['08:00:00'], frequency: 1, period: 1, periodUnit: 'd' })], [], on(9))).toHaveLength(1);
  });
});

describe('doseEntry', () => {
  const slot = (): DoseSlot => dosesForDay([{ ...METFORMIN, medicationCodeableConcept: { text: 'Metformin', coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '861007' }] } }], [], on(9))[0]!;

  it('builds a schema-valid entry that keeps scheduledFor and the medicine codes, at a local instant', () => {
    const now = new Date(2026, 10, 23, 8, 5, 7, 250);
    const e = doseEntry(slot(), 'taken', { by: KEY, now, newId: () => 'id-1' });
    expect(validateRecord('list:doses', e)).toMatchObject({ ok: true, value: e });
    expect(e).toMatchObject({ id: 'id-1', medicationId: 'metformin', status: 'taken', by: KEY, scheduledFor: slot().scheduledFor });
    expect(e.medication.coding?.[0]?.code).toBe('861007');
    expect(new Date(e.at).getTime()).toBe(now.getTime());
    expect(parseFhirDateTime(e.at)?.getTime()).toBe(now.getTime());
    expect(e.reason).toBeUndefined();
  });

  it('a skip keeps its reason, and the new entry settles the slot', () => {
    const s = slot();
    const e = doseEntry(s, 'skipped', { by: KEY, now: on(8, 10), newId: () => 'id-2', reason: ' felt sick ' });
    expect(validateRecord('list:doses', e).ok).toBe(true);
    expect(e.reason).toBe('felt sick');
    expect(dosesForDay([METFORMIN], [e], on(9))[0]).toMatchObject({ state: 'skipped', entry: e });
  });
});

describe('FHIR period helpers', () => {
  it('inPeriod: open ends, dates as whole local days', () => {
    const t = on(12).getTime();
    expect(inPeriod(undefined, t)).toBe(true);
    expect(inPeriod({ start: '2026-11-23', end: '2026-11-23' }, t)).toBe(true);
    expect(inPeriod({ start: '2026-11-24' }, t)).toBe(false);
    expect(inPeriod({ end: toFhirDateTime(on(11, 59)) }, t)).toBe(false);
    expect(inPeriod({ start: 'garbage' }, t)).toBe(true);
  });
});

describe('under other time zones', () => {
  const original = process.env.TZ;
  afterAll(() => {
    if (original === undefined) delete process.env.TZ;
    else process.env.TZ = original;
  });

  for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
    it(`${tz}: slots sit at local wall-clock times and settle by scheduledFor`, () => {
      process.env.TZ = tz;
      const now = on(9);
      const slots = dosesForDay([METFORMIN], [], now);
      expect(slots.map(instant)).toEqual([on(8).getTime(), on(20).getTime()]);
      expect(slots.map((s) => s.scheduledFor.slice(0, 19))).toEqual(['2026-11-23T08:00:00', '2026-11-23T20:00:00']);
      const e = doseEntry(slots[0]!, 'taken', { by: KEY, now, newId: () => 'tz' });
      expect(validateRecord('list:doses', e).ok).toBe(true);
      expect(dosesForDay([METFORMIN], [e], now).map((s) => s.state)).toEqual(['taken', 'upcoming']);
    });
  }

  it('Europe/Berlin, spring forward: a skipped wall-clock time resolves an hour later, offsets follow the day', () => {
    process.env.TZ = 'Europe/Berlin';
    const night = med('n', 'Night', { timeOfDay: ['02:30:00', '08:00:00'] });
    const slots = dosesForDay([night], [], new Date(2026, 2, 29, 12));
    expect(slots.map((s) => s.scheduledFor)).toEqual(['2026-03-29T03:30:00+02:00', '2026-03-29T08:00:00+02:00']);
    expect(dosesForDay([night], [], new Date(2026, 2, 28, 12)).map((s) => s.scheduledFor)).toEqual(['2026-03-28T02:30:00+01:00', '2026-03-28T08:00:00+01:00']);
  });
});

describe('generated records', () => {
  const name = 'generated medications and doses give consistent, sorted, valid slots';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      let total = 0;
      for (let round = 0; round < 100; round++) {
        const meds = Array.from({ length: prng.int(0, 8) }, () => generateRecord('medications', prng.next));
        // The schema generator makes a schedulable medication (active, timed, in its period) only
        // now and then (about 15 slots per 100 rounds; seed 1763531996 made none): add a known
        // schedulable one to half the rounds so every run checks slots, not just their absence.
        if (prng.bool()) meds.push(med(`gen${round}`, 'Generated', { timeOfDay: [`${String(prng.int(0, 23)).padStart(2, '0')}:${prng.pick(['00', '15', '30', '45'])}:00`] }));
        const now = new Date(2026, prng.int(0, 11), prng.int(1, 28), prng.int(0, 23), prng.int(0, 59));
        const first = dosesForDay(meds, [], now);
        // Settle a random half of the slots through doseEntry, then check the schedule reflects it.
        const log: DoseLogEntry[] = [];
        for (const s of first) if (prng.bool()) log.push(doseEntry(s, prng.pick(['taken', 'skipped'] as const), { by: KEY, now, newId: () => `g${log.length}`, reason: prng.bool() ? 'r' : undefined }));
        for (const e of log) expect(validateRecord('list:doses', e).ok).toBe(true);
        const noise = Array.from({ length: prng.int(0, 5) }, () => generateRecord('list:doses', prng.next));
        const slots = dosesForDay(meds, [...noise, ...log], now);
        total += slots.length;

        expect(slots.map((s) => s.scheduledFor)).toEqual(first.map((s) => s.scheduledFor));
        for (let i = 1; i < slots.length; i++) expect(instant(slots[i - 1]!)).toBeLessThanOrEqual(instant(slots[i]!));
        for (const s of slots) {
          const m = meds.find((x) => x.id === s.medicationId)!;
          expect(m.status).toBe('active');
          expect(new Date(instant(s)).getDate()).toBe(now.getDate());
          const settledBy = log.find((e) => e.scheduledFor === s.scheduledFor && e.medicationId === s.medicationId);
          if (settledBy) expect(s).toMatchObject({ state: settledBy.status, entry: settledBy });
          else expect(['due', 'overdue', 'upcoming']).toContain(s.state);
        }
        for (const a of asNeeded(meds)) expect(meds.find((m) => m.id === a.medicationId)?.status).toBe('active');
      }
      expect(total).toBeGreaterThan(0); // slots were really checked
    }),
  );

  it('the same seed gives the same schedule', () => {
    const make = () => {
      const p = createPrng(5);
      return dosesForDay(Array.from({ length: 20 }, () => generateRecord('medications', p.next)), [], on(12));
    };
    expect(make()).toEqual(make());
  });
});
