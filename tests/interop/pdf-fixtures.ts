/**
 * Hand-made profiles for the PDF tests (synthetic data): names and text in Latin with accents,
 * Cyrillic and Greek; trends with a previous value and an out-of-range latest; a medication list
 * long enough to run over pages.
 */
import type { MedicationStatementRecord } from '../../crdt-schemas/health/index.ts';
import type { ProfileData } from './export-helpers.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org' as const;
const loinc = (code: string, text: string) => ({ text, coding: [{ system: LOINC, code }] });
const base = (id: string) => ({ id, schemaVersion: 1 });
const active = (system: string) => ({ coding: [{ system, code: 'active' as const }] });
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

const vital = (id: string, at: string, code: string, text: string, value: number, unit: string) => ({
  ...base(id),
  resourceType: 'Observation' as const,
  status: 'final' as const,
  code: loinc(code, text),
  effectiveDateTime: at,
  valueQuantity: { value, unit, system: UCUM, code: unit },
});

const hba1c = (id: string, at: string, value: number) => ({
  ...base(id),
  resourceType: 'Observation' as const,
  status: 'final' as const,
  code: loinc('4548-4', 'HbA1c'),
  effectiveDateTime: at,
  valueQuantity: { value, unit: '%', system: UCUM, code: '%' },
  referenceRange: [{ low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } }],
});

export const UNICODE_PROFILE: ProfileData = {
  demographics: [
    {
      ...base('patient'),
      resourceType: 'Patient',
      name: [{ text: 'Zoë Ångström-Øvergaard', family: 'Ångström-Øvergaard' }],
      birthDate: '1980-04-15',
      gender: 'female',
      contact: [{ name: { text: 'Мария Петрова' }, relationship: [{ text: 'Mother' }], telecom: [{ system: 'phone', value: '+7 900 123-45-67', use: 'mobile' }] }],
    },
  ],
  allergies: [
    {
      ...base('pen'),
      resourceType: 'AllergyIntolerance',
      clinicalStatus: active('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical'),
      criticality: 'high',
      code: { text: 'Пеніцилін' },
      reaction: [{ manifestation: [{ text: 'Anaphylaxis' }, { text: 'Hives' }], severity: 'severe' }],
    },
  ],
  conditions: [
    { ...base('asthma'), resourceType: 'Condition', clinicalStatus: active(CONDITION_CLINICAL), code: { text: 'Asthma' } },
    { ...base('dm2'), resourceType: 'Condition', clinicalStatus: active(CONDITION_CLINICAL), code: { text: 'Διαβήτης τύπου 2 (Ελένη’s note)' } },
  ],
  medications: [
    {
      ...base('metformin'),
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: { text: 'Metformin 500 mg' },
      dosage: [{ text: '1 tablet twice a day with food', timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd', timeOfDay: ['08:00:00', '20:00:00'] } } }],
    },
  ],
  immunizations: [
    {
      ...base('flu'),
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { text: 'Influenza vaccine' },
      occurrenceDateTime: '2026-10-01',
      lotNumber: 'LOT-42',
      protocolApplied: [{ doseNumberPositiveInt: 1, seriesDosesPositiveInt: 1 }],
    },
  ],
  'lab-results': [hba1c('a1c-1', '2026-05-20', 7.2), hba1c('a1c-2', '2026-11-20', 8.1)],
  'list:vitals': [
    vital('hr1', '2026-11-01T09:00:00Z', '8867-4', 'Heart rate', 80, '/min'),
    vital('hr2', '2026-11-25T09:00:00Z', '8867-4', 'Heart rate', 72, '/min'),
    {
      ...base('bp1'),
      resourceType: 'Observation',
      status: 'final',
      code: loinc('85354-9', 'Blood pressure'),
      effectiveDateTime: '2026-11-25T09:05:00Z',
      component: [
        { code: loinc('8480-6', 'Systolic'), valueQuantity: { value: 142, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
        { code: loinc('8462-4', 'Diastolic'), valueQuantity: { value: 91, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
      ],
    },
  ],
  'blood-donor': [{ ...base('current'), abo: 'A', rh: 'positive', organDonor: 'yes' } as never],
  'care-team': [
    {
      ...base('gp'),
      resourceType: 'Practitioner',
      name: [{ text: 'Дмитрий Иванов' }],
      qualification: [{ code: { text: 'General practitioner' } }],
      telecom: [{ system: 'phone', value: '+30 210 000 0000' }],
    },
  ],
};

/** `n` active medicines with long names and dosage texts, so the table runs over pages. */
export function longMedicationList(n: number): MedicationStatementRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    ...base(`med-${i}`),
    resourceType: 'MedicationStatement' as const,
    status: 'active' as const,
    medicationCodeableConcept: { text: `Medicine number ${String(i).padStart(3, '0')} extended-release tablets` },
    dosage: [{ text: `${(i % 3) + 1} tablets by mouth, ${i % 2 ? 'after meals' : 'before breakfast'}`, timing: { repeat: { frequency: (i % 4) + 1, period: 1, periodUnit: 'd' as const } } }],
  }));
}
