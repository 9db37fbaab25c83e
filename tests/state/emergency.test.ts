/**
 * The emergency card: hand-made records pin down each rule (what counts as current, the order of
 * allergies, age wording, the phone to call); generated records check the invariants at scale.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import {
  ALLERGY_CLINICAL,
  ALLERGY_VERIFICATION,
  CONDITION_CLINICAL,
  CONDITION_VERIFICATION,
  SNOMED,
  type AllergyIntoleranceRecord,
  type ConditionRecord,
  type DeviceRecord,
  type FlagRecord,
  type MedicationStatementRecord,
  type PatientRecord,
  type PractitionerRecord,
} from '../../src/lib/vault/health.ts';
import { emergencyCard, type EmergencyInput } from '../../src/lib/state/emergency.ts';
import { toFhirDateTime } from '../../src/lib/state/fhir-time.ts';

const FILE = 'tests/state/emergency.test.ts';
const NOW = new Date(2026, 10, 23, 12, 0); // 23 November 2026, local noon
const base = { schemaVersion: 1 };
const empty: EmergencyInput = { allergies: [], conditions: [], medications: [], alerts: [], careTeam: [], devices: [] };

const patient = (extra: Partial<PatientRecord> = {}): PatientRecord => ({ ...base, id: 'patient', resourceType: 'Patient', name: [{ text: 'Ana Example' }], ...extra });
const allergy = (id: string, extra: Partial<AllergyIntoleranceRecord> = {}): AllergyIntoleranceRecord => ({
  ...base,
  id,
  resourceType: 'AllergyIntolerance',
  code: { text: id },
  clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] },
  ...extra,
});
const condition = (id: string, status: 'active' | 'relapse' | 'resolved' | 'inactive', extra: Partial<ConditionRecord> = {}): ConditionRecord => ({
  ...base,
  id,
  resourceType: 'Condition',
  code: { text: id },
  clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: status }] },
  ...extra,
});
const medication = (id: string, status: MedicationStatementRecord['status'], dosage?: MedicationStatementRecord['dosage']): MedicationStatementRecord => ({
  ...base,
  id,
  resourceType: 'MedicationStatement',
  status,
  medicationCodeableConcept: { text: id },
  ...(dosage ? { dosage } : {}),
});
const flag = (id: string, status: FlagRecord['status'], period?: FlagRecord['period']): FlagRecord => ({ ...base, id, resourceType: 'Flag', status, code: { text: id }, ...(period ? { period } : {}) });
const device = (id: string, extra: Partial<DeviceRecord> = {}): DeviceRecord => ({ ...base, id, resourceType: 'Device', type: { text: id }, ...extra });
const doctor = (id: string, extra: Partial<PractitionerRecord> = {}): PractitionerRecord => ({ ...base, id, resourceType: 'Practitioner', name: [{ text: id }], ...extra });

describe('emergencyCard', () => {
  it('name, age, gender, blood type and donor status', () => {
    const card = emergencyCard(
      {
        ...empty,
        demographics: patient({ name: [{ text: 'Ana Maiden', use: 'maiden' }, { text: 'Ana Official', use: 'official' }, { text: 'Ana', use: 'usual' }], birthDate: '1972-11-24', gender: 'female' }),
        blood: { ...base, id: 'current', abo: 'A', rh: 'negative', organDonor: 'limited', organDonorNote: ' kidneys only ' },
      },
      NOW,
    );
    expect(card).toMatchObject({ name: 'Ana', age: 53, ageText: '53 years', birthDate: '1972-11-24', gender: 'female', bloodType: 'A Rh−', organDonor: { status: 'limited', note: 'kidneys only' } });
    expect(emergencyCard({ ...empty, demographics: patient({ birthDate: '1972-11-23' }) }, NOW).age).toBe(54); // birthday today
    expect(emergencyCard({ ...empty, blood: { ...base, id: 'current', bloodGroup: { text: 'O Rh+' }, abo: 'A', organDonor: 'yes' } }, NOW)).toMatchObject({ bloodType: 'O Rh+', organDonor: { status: 'yes' } });
  });

  it('no records: an empty card, nothing invented', () => {
    expect(emergencyCard(empty, NOW)).toEqual({ name: '', allergies: [], conditions: [], medications: [], devices: [], alerts: [], contacts: [] });
  });

  it('ages of babies in weeks or months; partial birth dates say "about"; future ones give none', () => {
    const age = (birthDate: string) => emergencyCard({ ...empty, demographics: patient({ birthDate }) }, NOW);
    expect(age('2026-11-02')).toMatchObject({ age: 0, ageText: '3 weeks' });
    expect(age('2026-03-10')).toMatchObject({ age: 0, ageText: '8 months' });
    expect(age('2025-10-23')).toMatchObject({ age: 1, ageText: '13 months' });
    expect(age('2024-11-23')).toMatchObject({ age: 2, ageText: '2 years' });
    expect(age('1980')).toMatchObject({ age: 46, ageText: 'about 46 years' });
    expect(age('1980-12')).toMatchObject({ age: 45, ageText: 'about 45 years' });
    expect(age('2027-01-01').age).toBeUndefined();
    expect(age('2027-01-01').ageText).toBeUndefined();
  });

  it('allergies: current ones only, high criticality first, then worst reaction, reactions listed once', () => {
    const reaction = (severity: 'mild' | 'severe', ...m: string[]) => ({ severity, manifestation: m.map((text) => ({ text })) });
    const card = emergencyCard(
      {
        ...empty,
        allergies: [
          allergy('Latex', { criticality: 'low' }),
          allergy('Bee venom', { reaction: [reaction('mild', 'Hives'), reaction('severe', 'Anaphylaxis', 'Hives')] }),
          allergy('Peanut', { criticality: 'high', reaction: [reaction('severe', 'Anaphylaxis')] }),
          allergy('Shellfish', { clinicalStatus: undefined, criticality: 'unable-to-assess' }),
          allergy('Aspirin', { verificationStatus: { coding: [{ system: ALLERGY_VERIFICATION, code: 'unconfirmed' }] } }),
          allergy('Resolved', { clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'resolved' }] }, criticality: 'high' }),
          allergy('Refuted', { verificationStatus: { coding: [{ system: ALLERGY_VERIFICATION, code: 'refuted' }] } }),
          allergy('Error', { verificationStatus: { coding: [{ system: ALLERGY_VERIFICATION, code: 'entered-in-error' }] }, criticality: 'high' }),
        ],
      },
      NOW,
    );
    expect(card.allergies.map((a) => a.substance)).toEqual(['Peanut', 'Shellfish', 'Bee venom', 'Aspirin', 'Latex']);
    expect(card.allergies[0]).toEqual({ id: 'Peanut', substance: 'Peanut', criticality: 'high', severity: 'severe', reactions: ['Anaphylaxis'], unconfirmed: false });
    expect(card.allergies[2]).toMatchObject({ severity: 'severe', reactions: ['Hives', 'Anaphylaxis'] });
    expect(card.allergies[3]!.unconfirmed).toBe(true);
  });

  it('conditions, medications, devices and alerts: only the current ones', () => {
    const card = emergencyCard(
      {
        ...empty,
        conditions: [
          condition('Type 2 diabetes', 'active', { severity: { text: 'moderate' } }),
          condition('Asthma', 'relapse'),
          condition('Measles', 'resolved'),
          condition('Gout', 'inactive'),
          condition('Mistake', 'active', { verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'entered-in-error' }] } }),
        ],
        medications: [
          medication('Metformin', 'active', [{ text: '500 mg twice a day' }, { text: '1 more at night' }]),
          medication('Salbutamol', 'active', [{ text: '2 puffs', asNeededBoolean: true }]),
          medication('Vitamin D', 'active'),
          medication('Amoxicillin', 'completed', [{ text: 'x' }]),
          medication('Wrong', 'entered-in-error', [{ text: 'x' }]),
        ],
        devices: [
          device('Pacemaker', { status: 'active', safety: [{ text: 'MR conditional' }], deviceName: [{ name: 'Heart thing', type: 'user-friendly-name' }], manufacturer: 'Acme' }),
          device('Hip prosthesis'),
          device('Old pump', { status: 'inactive' }),
          device('Wrong', { status: 'entered-in-error' }),
        ],
        alerts: [
          flag('On anticoagulants', 'active', { start: '2026-01-01' }),
          flag('Difficult airway', 'active', undefined),
          flag('Expired', 'active', { end: '2026-11-22' }),
          flag('Not yet', 'active', { start: toFhirDateTime(new Date(2026, 10, 23, 13)) }),
          flag('Inactive', 'inactive'),
          flag('Error', 'entered-in-error'),
        ],
      },
      NOW,
    );
    expect(card.conditions).toEqual([{ id: 'Asthma', text: 'Asthma' }, { id: 'Type 2 diabetes', text: 'Type 2 diabetes', detail: 'moderate' }]);
    expect(card.medications).toEqual([
      { id: 'Metformin', name: 'Metformin', dose: '500 mg twice a day; 1 more at night', asNeeded: false },
      { id: 'Salbutamol', name: 'Salbutamol', dose: '2 puffs', asNeeded: true },
      { id: 'Vitamin D', name: 'Vitamin D', asNeeded: false },
    ]);
    expect(card.devices).toEqual([
      { id: 'Hip prosthesis', name: 'Hip prosthesis', safety: [] },
      { id: 'Pacemaker', name: 'Pacemaker', detail: 'Heart thing, Acme', safety: ['MR conditional'] },
    ]);
    expect(card.alerts.map((a) => a.text)).toEqual(['Difficult airway', 'On anticoagulants']);
  });

  it('emergency contacts with the number to call, and a tel: link a dialler accepts', () => {
    const card = emergencyCard(
      {
        ...empty,
        demographics: patient({
          contact: [
            {
              relationship: [{ text: 'Mother' }, { text: 'Emergency contact' }],
              name: { text: 'Maria Example' },
              telecom: [
                { system: 'email', value: 'maria@example.org' },
                { system: 'phone', value: '+44 20 7946 0000', use: 'work' },
                { system: 'phone', value: '+44 (0)7700 900123', use: 'mobile' },
                { system: 'phone', value: '000', use: 'old' },
              ],
            },
            { relationship: [{ text: 'Neighbour' }], name: { text: 'Bob' }, telecom: [{ system: 'email', value: 'bob@example.org' }] },
            { relationship: [{ text: 'Son' }], name: { text: 'Sam' }, telecom: [{ system: 'sms', value: 'call me' }] },
          ],
        }),
      },
      NOW,
    );
    expect(card.contacts).toEqual([
      { name: 'Maria Example', relationship: 'Mother, Emergency contact', phone: '+44 (0)7700 900123', tel: 'tel:+4407700900123' },
      { name: 'Bob', relationship: 'Neighbour' },
      { name: 'Sam', relationship: 'Son', phone: 'call me' },
    ]);
  });

  it('primary care: a GP by SNOMED code or by wording, else the first doctor with a phone; inactive ones never', () => {
    const phone = [{ system: 'phone' as const, value: '0123 456' }];
    const gp = doctor('Dr GP', { telecom: phone, qualification: [{ code: { text: 'Family doctor', coding: [{ system: SNOMED, code: '62247001' }] } }] });
    const cardio = doctor('Dr Heart', { telecom: phone, qualification: [{ code: { text: 'Cardiologist' } }] });
    const retired = doctor('Dr Old', { active: false, telecom: phone, qualification: [{ code: { text: 'GP' } }] });
    const pick = (careTeam: PractitionerRecord[]) => emergencyCard({ ...empty, careTeam }, NOW).primaryCare;
    expect(pick([cardio, retired, gp])).toEqual({ name: 'Dr GP', role: 'Family doctor', phone: '0123 456', tel: 'tel:0123456' });
    expect(pick([cardio, doctor('Dr Words', { qualification: [{ code: { text: 'General practitioner' } }] })])).toEqual({ name: 'Dr Words', role: 'General practitioner' });
    expect(pick([doctor('No phone'), cardio])?.name).toBe('Dr Heart');
    expect(pick([retired, doctor('No phone')])).toBeUndefined();
  });
});

describe('generated records', () => {
  const name = 'cards from generated records hold only current items, allergies ordered by criticality';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      const many = <T>(make: () => T, max = 8) => Array.from({ length: prng.int(0, max) }, make);
      for (let round = 0; round < 50; round++) {
        const input: EmergencyInput = {
          demographics: prng.bool(0.8) ? generateRecord('demographics', prng.next) : undefined,
          blood: prng.bool(0.7) ? generateRecord('blood-donor', prng.next) : undefined,
          allergies: many(() => generateRecord('allergies', prng.next)),
          conditions: many(() => generateRecord('conditions', prng.next)),
          medications: many(() => generateRecord('medications', prng.next)),
          alerts: many(() => generateRecord('alerts', prng.next)),
          careTeam: many(() => generateRecord('care-team', prng.next), 4),
          devices: many(() => generateRecord('devices', prng.next), 4),
        };
        const card = emergencyCard(input, NOW);
        const byId = <T extends { id: string }>(list: readonly T[], id: string) => list.find((x) => x.id === id)!;

        if (input.demographics) expect(input.demographics.name.map((n) => n.text)).toContain(card.name);
        else expect(card.name).toBe('');
        if (card.age !== undefined) expect(card.age).toBeGreaterThanOrEqual(0);
        expect(card.bloodType === undefined || card.bloodType.length > 0).toBe(true);
        expect(card.organDonor?.status).toBe(input.blood?.organDonor);
        for (const a of card.allergies) expect(['active', undefined]).toContain(byId(input.allergies, a.id).clinicalStatus?.coding[0]?.code);
        const rank = (c: string | undefined) => ({ high: 0, 'unable-to-assess': 1, low: 3 })[c as 'high'] ?? 2;
        for (let i = 1; i < card.allergies.length; i++) expect(rank(card.allergies[i - 1]!.criticality)).toBeLessThanOrEqual(rank(card.allergies[i]!.criticality));
        for (const c of card.conditions) expect(['active', 'recurrence', 'relapse']).toContain(byId(input.conditions, c.id).clinicalStatus.coding[0]!.code);
        expect(card.medications.length).toBe(input.medications.filter((m) => m.status === 'active').length);
        for (const d of card.devices) expect(byId(input.devices, d.id).status).not.toBe('inactive');
        for (const f of card.alerts) expect(byId(input.alerts, f.id).status).toBe('active');
        expect(card.contacts.length).toBe(input.demographics?.contact?.length ?? 0);
        for (const c of [...card.contacts, ...(card.primaryCare ? [card.primaryCare] : [])]) if (c.tel) expect(c.tel).toMatch(/^tel:\+?\d+$/);
      }
    }),
  );
});
