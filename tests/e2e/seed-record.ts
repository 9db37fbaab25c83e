/** A realistic synthetic record (no real person) for the screen tour: written as a relative would. */
import type { Profile } from '../../src/lib/vault/profile.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITAL_CAT = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];
const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:00`;

export function seedRecord(p: Profile, now = new Date()): void {
  const day = (n: number, h = 8) => new Date(now.getTime() - n * 86_400_000 + (h - now.getHours()) * 3_600_000).toISOString();
  const put = (section: Parameters<Profile['records']['put']>[0], value: Record<string, unknown>) =>
    p.records.put(section, { schemaVersion: 1, ...value });

  put('demographics', {
    id: 'patient',
    resourceType: 'Patient',
    name: [{ text: 'Rose Example' }],
    birthDate: '1946-03-14',
    gender: 'female',
    contact: [{ name: { text: 'Ana Example' }, relationship: [{ text: 'Daughter' }], telecom: [{ system: 'phone', value: '+44 7700 900123' }] }],
  });
  put('blood-donor', { id: 'current', resourceType: 'BloodAndDonor', abo: 'A', rh: 'positive', organDonor: 'yes' });
  put('allergies', {
    id: 'pen',
    resourceType: 'AllergyIntolerance',
    code: { text: 'Penicillin' },
    criticality: 'high',
    reaction: [{ manifestation: [{ text: 'Hives' }, { text: 'Swollen lips' }], severity: 'severe' }],
  });
  put('conditions', {
    id: 't2d',
    resourceType: 'Condition',
    code: { text: 'Type 2 diabetes' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  });
  put('conditions', {
    id: 'htn',
    resourceType: 'Condition',
    code: { text: 'High blood pressure' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  });
  put('alerts', { id: 'fall', resourceType: 'Flag', status: 'active', code: { text: 'Fall risk: uses a walking frame' } });
  put('medications', {
    id: 'metformin',
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: { text: 'Metformin 500 mg tablet' },
    dosage: [{ text: '1 tablet with breakfast and dinner', timing: { repeat: { timeOfDay: ['08:00:00', '18:00:00', hhmm(now)].sort() } } }],
  });
  put('medications', {
    id: 'paracetamol',
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: { text: 'Paracetamol 500 mg' },
    dosage: [{ text: '1–2 tablets, at most 4 times a day', asNeededBoolean: true }],
  });
  put('care-team', {
    id: 'gp',
    resourceType: 'Practitioner',
    name: [{ text: 'Dr. Priya Shah' }],
    qualification: [{ code: { text: 'Family doctor' } }],
    telecom: [{ system: 'phone', value: '+44 20 7946 0000' }],
    active: true,
  });
  for (let i = 9; i >= 0; i--) {
    put('list:vitals', {
      id: `bp${i}`,
      resourceType: 'Observation',
      status: 'final',
      category: VITAL_CAT,
      code: { text: 'Blood pressure', coding: [{ system: LOINC, code: '85354-9' }] },
      effectiveDateTime: day(i),
      component: [
        { code: { text: 'Systolic', coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 128 + ((i * 7) % 15), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
        { code: { text: 'Diastolic', coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 78 + ((i * 5) % 9), unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      ],
    });
    put('list:vitals', {
      id: `w${i}`,
      resourceType: 'Observation',
      status: 'final',
      category: VITAL_CAT,
      code: { text: 'Weight', coding: [{ system: LOINC, code: '29463-7' }] },
      effectiveDateTime: day(i, 7),
      valueQuantity: { value: 71.5 - i * 0.1 + ((i * 3) % 4) / 10, unit: 'kg', system: UCUM, code: 'kg' },
    });
  }
  put('list:journal', { id: 'j1', symptom: { text: 'Dizziness when standing up' }, severity: 4, at: day(2, 10), triggers: ['standing quickly'] });
}
