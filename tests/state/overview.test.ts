/**
 * The overview read model: critical allergies first, active conditions, medications with today's
 * doses, the latest vital per kind with its flag, lab results against their own range, recent
 * changes by name, and which sections are empty. Records go through validateRecord first, so
 * every fixture is one the app could hold.
 */
import { describe, expect, it } from 'vitest';
import { BLOOD_PRESSURE_PANEL, LOINC, UCUM, VITALS, validateRecord, type SectionName, type SectionRecord } from '../../src/lib/vault/health.ts';
import type { HistoryEntry } from '../../src/lib/vault/app.ts';
import { overview, type OverviewSource } from '../../src/lib/state/overview.ts';
import { toFhirDateTime } from '../../src/lib/state/fhir-time.ts';

const NOW = new Date(2026, 11, 2, 9, 30);
const at = (d: number, h = 8) => toFhirDateTime(new Date(2026, 10, d, h, 0));
const ALLERGY_ACTIVE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] };
const ALLERGY_RESOLVED = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'resolved' }] };
const COND = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
const q = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const coded = (loinc: string, text: string) => ({ text, coding: [{ system: LOINC, code: loinc }] });

function valid<S extends SectionName>(section: S, r: Record<string, unknown>): SectionRecord<S> {
  const v = validateRecord(section, { schemaVersion: 1, ...r });
  if (!v.ok) throw new Error(`fixture for ${section} is invalid: ${JSON.stringify(v.issues)}`);
  return v.value;
}

function source(records: Partial<Record<SectionName, Record<string, unknown>[]>>, history: HistoryEntry[] = []): OverviewSource {
  const validated = new Map<string, unknown[]>();
  for (const [s, list] of Object.entries(records)) validated.set(s, list.map((r) => valid(s as SectionName, r)));
  return {
    list: (<S extends SectionName>(s: S) => (validated.get(s) ?? []) as SectionRecord<S>[]) as OverviewSource['list'],
    recent: (limit = 30) => history.slice(0, limit),
    nameOf: (key) => ({ aa: 'Ana', bb: 'Ben' })[key] ?? `member ${key}`,
  };
}

const allergy = (id: string, text: string, extra: Record<string, unknown> = {}) => ({ id, resourceType: 'AllergyIntolerance', code: { text }, ...extra });

describe('overview', () => {
  it('lists active allergies with high criticality or a severe reaction first, saying why in words', () => {
    const o = overview(
      source({
        allergies: [
          allergy('a1', 'Dust', { clinicalStatus: ALLERGY_ACTIVE, criticality: 'low' }),
          allergy('a2', 'Peanut', { type: 'allergy', category: ['food'], reaction: [{ manifestation: [{ text: 'Swelling' }], severity: 'severe', description: 'Throat closed' }] }),
          allergy('a3', 'Cats', { clinicalStatus: ALLERGY_RESOLVED, criticality: 'high' }),
          allergy('a4', 'Penicillin', { criticality: 'high', type: 'allergy', category: ['medication'] }),
          allergy('a5', 'Aspirin', {}),
        ],
      }),
      NOW,
    );
    expect(o.allergies.map((a) => a.substance)).toEqual(['Peanut', 'Penicillin', 'Aspirin', 'Dust']);
    expect(o.allergies.map((a) => a.critical)).toEqual([true, true, false, false]);
    expect(o.allergies[0]).toMatchObject({ why: 'Severe reaction', kind: 'Allergy · food', reactions: 'Swelling: Throat closed' });
    expect(o.allergies[1]).toMatchObject({ why: 'High criticality', kind: 'Allergy · medication' });
  });

  it("shows active conditions only, and each active medication with its reason and today's doses", () => {
    const o = overview(
      source({
        conditions: [
          { id: 'c1', resourceType: 'Condition', clinicalStatus: COND('active'), code: { text: 'Type 2 diabetes' } },
          { id: 'c2', resourceType: 'Condition', clinicalStatus: COND('resolved'), code: { text: 'Chickenpox' } },
        ],
        medications: [
          {
            id: 'm1',
            resourceType: 'MedicationStatement',
            status: 'active',
            medicationCodeableConcept: { text: 'Metformin' },
            reasonCode: [{ text: 'Type 2 diabetes' }],
            dosage: [{ text: '500 mg twice a day', timing: { repeat: { timeOfDay: ['08:00:00', '20:00:00'] } } }],
          },
          { id: 'm2', resourceType: 'MedicationStatement', status: 'stopped', medicationCodeableConcept: { text: 'Amoxicillin' } },
          { id: 'm3', resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Salbutamol' }, dosage: [{ text: '2 puffs when needed', asNeededBoolean: true }] },
        ],
        'list:doses': [
          { id: 'd1', medicationId: 'm1', medication: { text: 'Metformin' }, status: 'taken', by: 'aa'.repeat(32), at: toFhirDateTime(new Date(2026, 11, 2, 8, 5)), scheduledFor: toFhirDateTime(new Date(2026, 11, 2, 8, 0)) },
        ],
      }),
      NOW,
    );
    expect(o.conditions.map((c) => c.name)).toEqual(['Type 2 diabetes']);
    expect(o.medications.map((m) => [m.name, m.reason, m.asNeeded])).toEqual([
      ['Metformin', 'Type 2 diabetes', false],
      ['Salbutamol', undefined, true],
    ]);
    expect(o.medications[0]!.today.map((s) => [s.time, s.state])).toEqual([
      ['08:00', 'taken'],
      ['20:00', 'upcoming'],
    ]);
    expect(o.medications[1]!.today).toEqual([]);
  });

  it('keeps the latest reading of each vital, flags it against the range for the age at the reading, and none where no range is known', () => {
    const bp = (id: string, sys: number, dia: number, when: string) => ({
      id,
      resourceType: 'Observation',
      status: 'final',
      code: coded(BLOOD_PRESSURE_PANEL.loinc, 'Blood pressure'),
      effectiveDateTime: when,
      component: [
        { code: coded(VITALS.systolic.loinc, 'Systolic'), valueQuantity: q(sys, 'mm[Hg]') },
        { code: coded(VITALS.diastolic.loinc, 'Diastolic'), valueQuantity: q(dia, 'mm[Hg]') },
      ],
    });
    const vital = (id: string, loinc: string, value: number, unit: string, when: string) => ({ id, resourceType: 'Observation', status: 'final', code: coded(loinc, 'x'), effectiveDateTime: when, valueQuantity: q(value, unit) });
    const records = {
      demographics: [{ id: 'patient', resourceType: 'Patient', name: [{ text: 'Rose' }], birthDate: '1950-03-04' }],
      'list:vitals': [
        bp('v1', 118, 76, at(1)),
        bp('v2', 150, 95, at(20)),
        bp('v3', 120, 70, at(10)),
        vital('v4', VITALS.bodyWeight.loinc, 154, '[lb_av]', at(3)),
        vital('v5', VITALS.heartRate.loinc, 48, '/min', at(3)),
        { ...vital('v6', VITALS.heartRate.loinc, 200, '/min', at(25)), status: 'entered-in-error' },
      ],
    };
    const o = overview(source(records), NOW);
    expect(o.vitals.map((v) => [v.label, v.value, v.flag?.level])).toEqual([
      ['Blood pressure', '150/95 mmHg', 'high'],
      ['Heart rate', '48 bpm', 'low'],
      ['Weight', '69.85 kg', undefined],
    ]);
    expect(o.vitals[0]!.flagText).toBe('Systolic High: above 90–120 mmHg (adult range)');
    expect(o.vitals[0]!.at).toBe(at(20));

    // The same heart rate in a 4-year-old (80-140 /min) is low too, and says which band it used.
    const child = overview(source({ ...records, demographics: [{ ...records.demographics[0]!, birthDate: '2022-06-01' }] }), NOW);
    expect(child.vitals.find((v) => v.label === 'Heart rate')!.flagText).toBe('Low: below 80–140 bpm (range for ages 3–5)');
    // A child's blood pressure has no default (the AAP's depend on height): no flag at all.
    expect(child.vitals.find((v) => v.label === 'Blood pressure')!.flag).toBeUndefined();
  });

  it('flags an HbA1c above its recorded range, not one without a range, and keeps the latest per test', () => {
    const lab = (id: string, text: string, value: number, when: string, range?: [number, number]) => ({
      id,
      resourceType: 'Observation',
      status: 'final',
      code: text === 'HbA1c' ? coded('4548-4', text) : { text },
      effectiveDateTime: when,
      valueQuantity: { value, unit: '%' },
      ...(range ? { referenceRange: [{ low: { value: range[0], unit: '%' }, high: { value: range[1], unit: '%' } }] } : {}),
    });
    const o = overview(source({ 'lab-results': [lab('l1', 'HbA1c', 5.2, at(1), [4, 5.6]), lab('l2', 'HbA1c', 7.2, at(15), [4, 5.6]), lab('l3', 'Vitamin D', 99, at(2))] }), NOW);
    expect(o.labs.map((l) => [l.label, l.value, l.flag?.level, l.flagText])).toEqual([
      ['HbA1c', '7.2 %', 'high', 'High: above 4–5.6 % (reference range)'],
      ['Vitamin D', '99 %', undefined, undefined],
    ]);
  });

  it('names who changed what, and splits sections into recorded (with counts) and empty', () => {
    const history: HistoryEntry[] = [
      { section: 'allergies', id: 'a1', action: 'add', at: '2026-12-01T10:00:00Z', author: 'aa', proof: 'signed' },
      { section: 'medications', id: 'm1', action: 'edit', at: '2026-12-01T09:00:00Z', author: 'bb', proof: 'signed' },
    ];
    const o = overview(source({ allergies: [allergy('a1', 'Dust')] }, history), NOW);
    expect(o.recent.map((r) => `${r.who} ${r.verb} ${r.section}`)).toEqual(['Ana added allergies', 'Ben changed medications']);
    expect(o.counts).toEqual([{ section: 'allergies', count: 1 }]);
    expect(o.empty).toContain('conditions');
    expect(o.empty).not.toContain('allergies');
  });
});
