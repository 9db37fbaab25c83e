/**
 * Dose reminders and follow notices (docs/decisions/0044): what is due and next, which slots a
 * wake-up notifies (each once, never a settled one), notification text that names nothing by
 * default, and notices only for followed sections changed by someone else.
 */
import { describe, expect, it } from 'vitest';
import type { DoseLogEntry, MedicationStatementRecord } from '../../src/lib/vault/health.ts';
import type { HistoryEntry } from '../../src/lib/vault/app.ts';
import { dosesForDay } from '../../src/lib/state/schedule.ts';
import { toFhirDateTime } from '../../src/lib/state/fhir-time.ts';
import { doseNotification, FOLLOW_NOTIFICATION, followNotices, reminderPlan, slotsReached } from '../../src/lib/state/reminders.ts';

const on = (hh: number, mm = 0) => new Date(2026, 10, 23, hh, mm);
const med = (id: string, text: string, times: string[]): MedicationStatementRecord => ({
  id,
  schemaVersion: 1,
  resourceType: 'MedicationStatement',
  status: 'active',
  medicationCodeableConcept: { text },
  dosage: [{ text: `${text} dose`, timing: { repeat: { timeOfDay: times } } }],
});
const MEDS = [med('metformin', 'Metformin-CANARY', ['08:00:00', '20:00:00']), med('lisinopril', 'Lisinopril', ['12:00:00'])];
const taken = (medicationId: string, at: Date): DoseLogEntry => ({ id: `d-${medicationId}`, schemaVersion: 1, medicationId, medication: { text: medicationId }, status: 'taken', by: 'ab'.repeat(32), at: toFhirDateTime(at, true), scheduledFor: toFhirDateTime(at) });

describe('reminder plan', () => {
  it('says what is due now and what is next today, and when the next reminder fires', () => {
    const plan = reminderPlan(dosesForDay(MEDS, [], on(8, 20)));
    expect(plan.dueNow.map((s) => s.medicationId)).toEqual(['metformin']);
    expect(plan.next?.medicationId).toBe('lisinopril');
    expect(plan.nextAt).toBe(on(12).getTime());
    const evening = reminderPlan(dosesForDay(MEDS, [], on(21, 30)));
    expect(evening.next).toBeUndefined();
    expect(evening.nextAt).toBeUndefined();
  });

  it('a wake-up notifies the slots reached since the last one, each once, never a settled one', () => {
    const noon = dosesForDay(MEDS, [], on(12, 0));
    expect(slotsReached(noon, on(8, 30).getTime(), on(12).getTime()).map((s) => s.medicationId)).toEqual(['lisinopril']);
    // The next wake-up, a minute later, does not notify it again.
    expect(slotsReached(dosesForDay(MEDS, [], on(12, 1)), on(12).getTime(), on(12, 1).getTime())).toEqual([]);
    // A dose already taken before its reminder fires is not reminded.
    const settled = dosesForDay(MEDS, [taken('lisinopril', on(12))], on(12, 0));
    expect(slotsReached(settled, on(8, 30).getTime(), on(12).getTime())).toEqual([]);
  });
});

describe('notification text', () => {
  const due = dosesForDay(MEDS, [], on(8, 0)).filter((s) => s.state === 'due');

  it('by default names no medicine, time or person', () => {
    const text = doseNotification(due, { details: false });
    expect(text).toEqual({ title: 'A dose is due', body: 'Open Family Health Vault to see it.' });
    expect(JSON.stringify(text)).not.toContain('CANARY');
    expect(JSON.stringify(FOLLOW_NOTIFICATION)).not.toMatch(/allerg|medic|CANARY/i);
  });

  it('shows the medicine and time only where the person chose it', () => {
    expect(doseNotification(due, { details: true }).body).toBe('08:00 Metformin-CANARY');
  });
});

describe('follow notices', () => {
  const h = (section: string, author: string, at: string, id = 'r1'): HistoryEntry => ({ section, id, action: 'edit', at, author, proof: 'signed' });
  const ME = 'me'.repeat(32);
  const BEN = 'be'.repeat(32);
  const entries = [
    h('allergies', BEN, '2026-11-23T10:00:00Z'),
    h('allergies', ME, '2026-11-23T10:05:00Z'),
    h('conditions', BEN, '2026-11-23T10:06:00Z'),
    h('medications', BEN, '2026-11-23T09:00:00Z'),
    h('medications', BEN, '2026-11-23T11:00:00+01:00', 'm2'),
  ];
  const since = Date.parse('2026-11-23T09:30:00Z');

  it('only followed sections or records, only others, only after the last read, newest first', () => {
    const notices = followNotices(entries, { follows: new Set(['allergies', 'medications/m2']), mine: (a) => a === ME, since });
    // Ben's allergy edit and his change to the one followed medication (both 10:00Z); not mine,
    // not the unfollowed conditions, not the 09:00 change read before.
    expect(notices.map((n) => `${n.section}/${n.id}@${n.at}`)).toEqual(['allergies/r1@2026-11-23T10:00:00Z', 'medications/m2@2026-11-23T11:00:00+01:00']);
    // 11:00+01:00 is 10:00Z: after `since` too, compared as instants, not as strings.
    const later = followNotices(entries, { follows: new Set(['medications/m2']), mine: (a) => a === ME, since });
    expect(later.map((n) => n.id)).toEqual(['m2']);
    expect(followNotices(entries, { follows: new Set(), mine: (a) => a === ME, since })).toEqual([]);
  });
});
