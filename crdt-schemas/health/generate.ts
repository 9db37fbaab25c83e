/**
 * Seeded random records for tests and the harness: every section gets values its schema accepts,
 * with optional fields present or absent at random. Randomness comes from the caller's `next()`
 * (uniform in [0, 1)), so a test seed reproduces every record. Synthetic data only.
 */
import { CVX, LOINC, RXNORM, SNOMED, UCUM, type Coding, type Concept } from './common.ts';
import type { SectionName, SectionRecord } from './sections.ts';
import { BLOOD_PRESSURE_PANEL, VITALS, type VitalName, type VitalSpec } from './vitals.ts';
import { fromFirstUnit } from './plausibility.ts';
import { ALLERGY_CLINICAL } from './allergy.ts';
import { CONDITION_CLINICAL } from './condition.ts';
import { OBSERVATION_CATEGORY } from './lab.ts';
import { ENCOUNTER_CLASS } from './encounter.ts';
import { CONSENT_SCOPE, PATIENT_HELD_POLICY } from './advance-directive.ts';

export type Next = () => number;

interface Rand {
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  bool(p?: number): boolean;
  word(): string;
  words(min: number, max: number): string;
  maybe<T>(make: () => T, p?: number): T | undefined;
  list<T>(min: number, max: number, make: () => T): T[];
  id(): string;
  date(): string;
  dateTime(): string;
  instant(): string;
  hex(bytes: number): string;
}

function rand(next: Next): Rand {
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const word = () => Array.from({ length: int(2, 9) }, () => 'abcdefghijklmnopqrstuvwxyz'[int(0, 25)]).join('');
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const ymd = () => `${int(1930, 2030)}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
  const hms = () => `${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`;
  const tz = () => pick(['Z', '+01:00', '-05:00', '+05:30', '+14:00']);
  return {
    int,
    pick,
    bool: (p = 0.5) => next() < p,
    word,
    words: (min, max) => Array.from({ length: int(min, max) }, word).join(' '),
    maybe: (make, p = 0.5) => (next() < p ? make() : undefined),
    list: (min, max, make) => Array.from({ length: int(min, max) }, make),
    id: () => Array.from({ length: int(4, 24) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-_.'[int(0, 38)]).join(''),
    date: () => pick([() => String(int(1930, 2030)), () => `${int(1930, 2030)}-${pad(int(1, 12))}`, ymd])(),
    dateTime: () => pick([ymd, () => `${ymd()}T${hms()}${tz()}`, () => `${ymd()}T${hms()}.${int(0, 999)}${tz()}`])(),
    instant: () => `${ymd()}T${hms()}${tz()}`,
    hex: (bytes) => Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join(''),
  };
}

/** Drops undefined fields, as a JSON round trip through the Y doc would. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

type Vocab = readonly (readonly [text: string, code: string])[];
const SUBSTANCES: Vocab = [['Penicillin', '764146007'], ['Peanut', '762952008'], ['Latex', '111088007'], ['Bee venom', '288328004'], ['Shellfish', '227037002']];
const REACTIONS: Vocab = [['Hives', '126485001'], ['Anaphylaxis', '39579001'], ['Wheezing', '56018004'], ['Rash', '271807003']];
const CONDITIONS: Vocab = [['Asthma', '195967001'], ['Type 2 diabetes', '44054006'], ['Hypertension', '38341003'], ['Migraine', '37796009'], ['Eczema', '43116000']];
const MEDICINES: Vocab = [['Metformin 500 mg tablet', '861007'], ['Lisinopril 10 mg tablet', '314076'], ['Salbutamol inhaler', '745752'], ['Levothyroxine 50 mcg', '966222']];
const VACCINES: Vocab = [['Influenza, seasonal', '141'], ['MMR', '03'], ['Tdap', '115'], ['COVID-19 mRNA', '208'], ['Hepatitis B', '08']];
const LABS: Vocab = [['Hemoglobin A1c', '4548-4'], ['Cholesterol total', '2093-3'], ['Creatinine', '2160-0'], ['TSH', '3016-3']];
const PROCEDURES: Vocab = [['Appendectomy', '80146002'], ['Colonoscopy', '73761001'], ['Tonsillectomy', '173422009'], ['Knee arthroscopy', '80953001']];
const DEVICES: Vocab = [['Cardiac pacemaker', '14106009'], ['Insulin pump', '69805005'], ['Hip prosthesis', '304120007'], ['Cochlear implant', '43252007']];
const ALERTS: Vocab = [['On anticoagulants', '182764009'], ['Difficult airway', '718447001'], ['Do not resuscitate', '304253006']];
const SYMPTOMS: Vocab = [['Headache', '25064002'], ['Nausea', '422587007'], ['Fatigue', '84229001'], ['Dizziness', '404640003']];
const SPECIALTIES: Vocab = [['General practitioner', '62247001'], ['Cardiologist', '17561000'], ['Pediatrician', '82296001']];

function concept(r: Rand, vocab: Vocab, system: string): Concept {
  const [text, code] = r.pick(vocab);
  // Free text always; sometimes the user's own words; codes only sometimes.
  return clean({
    text: r.bool(0.2) ? r.words(1, 4) : text,
    coding: r.maybe((): Coding[] => [clean({ system, code, display: r.maybe(() => text) })], 0.6),
  });
}
const freeConcept = (r: Rand): Concept => ({ text: r.words(1, 4) });
const status = <const C extends string>(system: string, code: C) => ({ coding: [{ system, code }] });
const annotations = (r: Rand) => r.maybe(() => r.list(1, 3, () => clean({ text: r.words(1, 12), time: r.maybe(r.dateTime) })), 0.3);
const humanName = (r: Rand) => clean({ text: r.words(2, 3), family: r.maybe(r.word), given: r.maybe(() => r.list(1, 2, r.word)) });
const telecom = (r: Rand) =>
  r.maybe(() => r.list(1, 3, () => clean({ system: r.pick(['phone', 'email', 'sms'] as const), value: `${r.word()}-${r.int(100, 999999)}`, use: r.maybe(() => r.pick(['home', 'mobile', 'work'] as const)) })));
const address = (r: Rand) => clean({ text: r.words(3, 8), city: r.maybe(r.word), postalCode: r.maybe(() => String(r.int(1000, 99999))), country: r.maybe(r.word) });
const base = (r: Rand) => ({ id: r.id(), schemaVersion: 1 });
const quantity = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });

type Generators = { [S in SectionName]: (r: Rand) => SectionRecord<S> };

const GENERATORS: Generators = {
  demographics: (r) =>
    clean({
      ...base(r),
      id: 'patient',
      resourceType: 'Patient' as const,
      name: r.list(1, 2, () => humanName(r)),
      birthDate: r.maybe(r.date),
      gender: r.maybe(() => r.pick(['male', 'female', 'other', 'unknown'] as const)),
      telecom: telecom(r),
      address: r.maybe(() => [address(r)]),
      communication: r.maybe(() => [clean({ language: freeConcept(r), preferred: r.maybe(() => r.bool()) })]),
      contact: r.maybe(() =>
        r.list(1, 3, () => clean({ relationship: [{ text: r.pick(['Mother', 'Partner', 'Neighbour', 'Son']), coding: r.maybe(() => [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C' }]) }], name: humanName(r), telecom: telecom(r), address: r.maybe(() => address(r)) })),
      ),
    }),
  allergies: (r) =>
    clean({
      ...base(r),
      resourceType: 'AllergyIntolerance' as const,
      clinicalStatus: r.maybe(() => status(ALLERGY_CLINICAL, r.pick(['active', 'inactive', 'resolved'] as const))),
      type: r.maybe(() => r.pick(['allergy', 'intolerance'] as const)),
      category: r.maybe(() => [r.pick(['food', 'medication', 'environment', 'biologic'] as const)]),
      criticality: r.maybe(() => r.pick(['low', 'high', 'unable-to-assess'] as const)),
      code: concept(r, SUBSTANCES, SNOMED),
      onsetDateTime: r.maybe(r.dateTime),
      reaction: r.maybe(() => r.list(1, 2, () => clean({ manifestation: r.list(1, 2, () => concept(r, REACTIONS, SNOMED)), severity: r.maybe(() => r.pick(['mild', 'moderate', 'severe'] as const)), description: r.maybe(() => r.words(1, 10)) }))),
      note: annotations(r),
    }),
  conditions: (r) =>
    clean({
      ...base(r),
      resourceType: 'Condition' as const,
      clinicalStatus: status(CONDITION_CLINICAL, r.pick(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'] as const)),
      code: concept(r, CONDITIONS, SNOMED),
      severity: r.maybe(() => freeConcept(r)),
      onsetDateTime: r.maybe(r.dateTime),
      abatementDateTime: r.maybe(r.dateTime),
      note: annotations(r),
    }),
  medications: (r) =>
    clean({
      ...base(r),
      resourceType: 'MedicationStatement' as const,
      status: r.pick(['active', 'completed', 'stopped', 'on-hold', 'intended'] as const),
      medicationCodeableConcept: concept(r, MEDICINES, RXNORM),
      effectivePeriod: r.maybe(() => clean({ start: r.maybe(r.dateTime), end: r.maybe(r.dateTime) })),
      dosage: r.maybe(() =>
        r.list(1, 2, () =>
          clean({
            text: r.words(2, 8),
            timing: r.maybe(() => ({
              repeat: clean({
                frequency: r.maybe(() => r.int(1, 4)),
                period: r.maybe(() => r.int(1, 3)),
                periodUnit: r.maybe(() => r.pick(['h', 'd', 'wk'] as const)),
                timeOfDay: r.maybe(() => r.list(1, 4, () => `${String(r.int(0, 23)).padStart(2, '0')}:${r.pick(['00', '30'])}:00`)),
                when: r.maybe(() => [r.pick(['MORN', 'EVE', 'HS', 'PC'] as const)]),
              }),
            })),
            asNeededBoolean: r.maybe(() => r.bool()),
            doseAndRate: r.maybe(() => [{ doseQuantity: quantity(r.int(1, 4), r.pick(['{tbl}', 'mg', 'mL'])) }]),
          }),
        ),
      ),
      reasonCode: r.maybe(() => [concept(r, CONDITIONS, SNOMED)]),
      note: annotations(r),
    }),
  immunizations: (r) =>
    clean({
      ...base(r),
      resourceType: 'Immunization' as const,
      status: r.pick(['completed', 'not-done'] as const),
      vaccineCode: concept(r, VACCINES, CVX),
      occurrenceDateTime: r.dateTime(),
      lotNumber: r.maybe(() => `${r.word().toUpperCase()}${r.int(1, 9999)}`),
      site: r.maybe(() => freeConcept(r)),
      protocolApplied: r.maybe(() => [{ doseNumberPositiveInt: r.int(1, 3), seriesDosesPositiveInt: 3 }]),
      note: annotations(r),
    }),
  'lab-results': (r) => {
    const value = r.pick(['quantity', 'string', 'concept'] as const);
    return clean({
      ...base(r),
      resourceType: 'Observation' as const,
      status: r.pick(['final', 'preliminary', 'amended', 'corrected'] as const),
      category: r.maybe(() => [status(OBSERVATION_CATEGORY, 'laboratory')]),
      code: concept(r, LABS, LOINC),
      effectiveDateTime: r.maybe(r.dateTime),
      valueQuantity: value === 'quantity' ? quantity(r.int(1, 5000) / 10, r.pick(['%', 'mg/dL', 'mmol/L', 'm[IU]/L'])) : undefined,
      valueString: value === 'string' ? r.words(1, 5) : undefined,
      valueCodeableConcept: value === 'concept' ? freeConcept(r) : undefined,
      interpretation: r.maybe(() => [{ text: r.pick(['High', 'Low', 'Normal']) }]),
      referenceRange: r.maybe(() => [clean({ low: r.maybe(() => quantity(r.int(0, 10), 'mg/dL')), high: r.maybe(() => quantity(r.int(10, 200), 'mg/dL')), text: r.maybe(() => r.words(1, 3)) })]),
      note: annotations(r),
    });
  },
  'diagnostic-reports': (r) =>
    clean({
      ...base(r),
      resourceType: 'DiagnosticReport' as const,
      status: r.pick(['final', 'preliminary', 'amended', 'entered-in-error'] as const),
      category: r.maybe(() => [{ text: 'Laboratory', coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }]),
      code: concept(r, LABS, LOINC),
      effectiveDateTime: r.maybe(r.dateTime),
      issued: r.maybe(r.instant),
      // Links to records that may or may not be in the profile (an export keeps the name of a missing one).
      result: r.maybe(() => r.list(1, 4, () => clean({ reference: r.maybe(() => `lab-results/${r.id()}`), display: r.words(1, 3) }))),
      conclusion: r.maybe(() => r.words(2, 12)),
    }),
  procedures: (r) =>
    clean({
      ...base(r),
      resourceType: 'Procedure' as const,
      status: r.pick(['completed', 'in-progress', 'preparation', 'not-done'] as const),
      code: concept(r, PROCEDURES, SNOMED),
      performedDateTime: r.maybe(r.dateTime),
      performer: r.maybe(() => [{ actor: clean({ display: r.words(2, 3), reference: r.maybe(() => `care-team/${r.id()}`) }) }]),
      bodySite: r.maybe(() => [freeConcept(r)]),
      outcome: r.maybe(() => freeConcept(r)),
      note: annotations(r),
    }),
  devices: (r) =>
    clean({
      ...base(r),
      resourceType: 'Device' as const,
      status: r.maybe(() => r.pick(['active', 'inactive'] as const)),
      type: concept(r, DEVICES, SNOMED),
      deviceName: r.maybe(() => [{ name: r.words(1, 3), type: r.pick(['user-friendly-name', 'model-name'] as const) }]),
      manufacturer: r.maybe(() => r.words(1, 2)),
      serialNumber: r.maybe(() => r.hex(6)),
      safety: r.maybe(() => [{ text: r.pick(['MR conditional', 'MR unsafe', 'MR safe']) }]),
      note: annotations(r),
    }),
  alerts: (r) =>
    clean({
      ...base(r),
      resourceType: 'Flag' as const,
      status: r.pick(['active', 'inactive'] as const),
      category: r.maybe(() => [freeConcept(r)]),
      code: concept(r, ALERTS, SNOMED),
      period: r.maybe(() => clean({ start: r.maybe(r.dateTime), end: r.maybe(r.dateTime) })),
    }),
  'blood-donor': (r) => {
    const abo = r.pick(['A', 'B', 'AB', 'O'] as const);
    const rh = r.pick(['positive', 'negative'] as const);
    return clean({
      ...base(r),
      id: 'current',
      bloodGroup: r.maybe(() => ({ text: `${abo} Rh${rh === 'positive' ? '+' : '-'}` })),
      abo: r.maybe(() => abo),
      rh: r.maybe(() => rh),
      organDonor: r.pick(['yes', 'no', 'limited', 'unknown'] as const),
      organDonorNote: r.maybe(() => r.words(1, 8)),
      recordedDate: r.maybe(r.dateTime),
    });
  },
  visits: (r) =>
    clean({
      ...base(r),
      resourceType: 'Encounter' as const,
      status: r.pick(['planned', 'finished', 'cancelled', 'in-progress'] as const),
      class: { system: ENCOUNTER_CLASS, code: r.pick(['AMB', 'EMER', 'IMP', 'HH', 'VR'] as const) },
      type: [freeConcept(r)],
      period: r.maybe(() => clean({ start: r.maybe(r.dateTime), end: r.maybe(r.dateTime) })),
      participant: r.maybe(() => r.list(1, 2, () => ({ individual: clean({ reference: r.maybe(() => `care-team/${r.id()}`), display: r.maybe(() => r.words(2, 3)) }) }))),
      reasonCode: r.maybe(() => [concept(r, CONDITIONS, SNOMED)]),
      serviceProvider: r.maybe(() => ({ display: r.words(1, 4) })),
    }),
  'care-team': (r) => {
    const kind = r.pick(['Practitioner', 'Practitioner', 'Organization', 'Location'] as const);
    const workTelecom = () => r.maybe(() => r.list(1, 2, () => clean({ system: r.pick(['phone', 'email'] as const), value: `${r.word()}-${r.int(100, 999999)}`, use: r.maybe(() => 'work' as const) })));
    if (kind === 'Organization') {
      return clean({ ...base(r), resourceType: 'Organization' as const, active: r.maybe(() => r.bool()), name: r.words(2, 4), type: r.maybe(() => [freeConcept(r)]), telecom: workTelecom(), address: r.maybe(() => [address(r)]) });
    }
    if (kind === 'Location') {
      return clean({
        ...base(r),
        resourceType: 'Location' as const,
        status: r.maybe(() => r.pick(['active', 'inactive'] as const)),
        name: r.words(2, 4),
        type: r.maybe(() => [freeConcept(r)]),
        telecom: workTelecom(),
        address: r.maybe(() => address(r)),
        managingOrganization: r.maybe(() => ({ display: r.words(2, 3) })),
      });
    }
    return clean({
      ...base(r),
      resourceType: 'Practitioner' as const,
      active: r.maybe(() => r.bool()),
      name: [humanName(r)],
      telecom: telecom(r),
      address: r.maybe(() => [address(r)]),
      qualification: r.maybe(() => [{ code: concept(r, SPECIALTIES, SNOMED) }]),
    });
  },
  'advance-directives': (r) =>
    clean({
      ...base(r),
      resourceType: 'Consent' as const,
      status: r.pick(['active', 'active', 'inactive', 'draft'] as const),
      scope: { coding: [{ system: CONSENT_SCOPE, code: 'adr' as const }] },
      category: [r.pick([{ text: 'Living will', coding: [{ system: LOINC, code: '75320-2' }] }, { text: 'Do not resuscitate' }, freeConcept(r)])],
      dateTime: r.maybe(r.dateTime),
      policyRule: { ...PATIENT_HELD_POLICY },
      provision: r.maybe(() => clean({ type: r.maybe(() => r.pick(['deny', 'permit'] as const)), period: r.maybe(() => clean({ start: r.maybe(r.dateTime), end: r.maybe(r.dateTime) })) })),
    }),
  documents: (r) =>
    clean({
      ...base(r),
      resourceType: 'DocumentReference' as const,
      status: r.pick(['current', 'superseded'] as const),
      type: r.maybe(() => freeConcept(r)),
      date: r.maybe(r.instant),
      description: r.maybe(() => r.words(1, 10)),
      content: r.list(1, 2, () => ({
        attachment: clean({
          title: r.words(1, 4),
          contentType: r.pick(['application/pdf', 'image/jpeg', 'image/png', 'text/plain']),
          size: r.int(0, 20_000_000),
          hash: `${Array.from({ length: 43 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[r.int(0, 63)]).join('')}=`,
          creation: r.maybe(r.dateTime),
        }),
      })),
    }),
  kept: (r) =>
    clean({
      ...base(r),
      resource: clean({ resourceType: r.pick(['Claim', 'ExplanationOfBenefit', 'Goal', 'CarePlan', 'CareTeam'] as const), id: r.maybe(() => r.id().replace(/_/g, '-')) }),
    }),
  'list:vitals': (r) => {
    const name = r.pick([...(Object.keys(VITALS) as VitalName[]).filter((n) => n !== 'systolic' && n !== 'diastolic'), 'bloodPressure'] as const);
    // Drawn within the plausibility limits in the first unit, then written in a unit the code
    // allows (converted, and rounded inwards so the limits still hold).
    const reading = (spec: VitalSpec, from: number = spec.range[0], to: number = spec.range[1]) => {
      const unit = r.pick(spec.units);
      // Rounded to 0.1 in the written unit, staying inside [from, to] once converted back.
      const lo = Math.ceil(fromFirstUnit(spec, from, unit) * 10) / 10;
      const top = Math.floor(fromFirstUnit(spec, to, unit) * 10) / 10;
      return quantity(Math.round((lo + r.int(0, 1000) * ((top - lo) / 1000)) * 10) / 10, unit);
    };
    const coded = (loinc: string, display: string) => ({ text: r.bool(0.8) ? display : r.words(1, 3), coding: [clean({ system: LOINC, code: loinc, display: r.maybe(() => display) })] });
    const common = {
      ...base(r),
      resourceType: 'Observation' as const,
      status: r.pick(['final', 'amended', 'preliminary'] as const),
      category: r.maybe(() => [status(OBSERVATION_CATEGORY, 'vital-signs')]),
      effectiveDateTime: r.dateTime(),
      note: annotations(r),
    };
    if (name === 'bloodPressure') {
      return clean({
        ...common,
        code: coded(BLOOD_PRESSURE_PANEL.loinc, BLOOD_PRESSURE_PANEL.display),
        // Diastolic below systolic, as in every living person (plausibility.ts).
        component: ((sys) => [
          { code: coded(VITALS.systolic.loinc, VITALS.systolic.display), valueQuantity: sys },
          { code: coded(VITALS.diastolic.loinc, VITALS.diastolic.display), valueQuantity: reading(VITALS.diastolic, VITALS.diastolic.range[0], Math.min(VITALS.diastolic.range[1], sys.value - 1)) },
        ])(reading(VITALS.systolic)),
      });
    }
    const spec = VITALS[name];
    return clean({ ...common, code: coded(spec.loinc, spec.display), valueQuantity: reading(spec) });
  },
  'list:doses': (r) => {
    const skipped = r.bool(0.3);
    return clean({
      ...base(r),
      medicationId: r.id(),
      medication: concept(r, MEDICINES, RXNORM),
      status: skipped ? ('skipped' as const) : ('taken' as const),
      by: r.hex(32),
      at: r.instant(),
      scheduledFor: r.maybe(r.dateTime),
      reason: skipped ? r.maybe(() => r.words(1, 6)) : undefined,
      note: r.maybe(() => r.words(1, 8), 0.2),
    });
  },
  'list:journal': (r) =>
    clean({
      ...base(r),
      symptom: concept(r, SYMPTOMS, SNOMED),
      severity: r.int(0, 10),
      at: r.dateTime(),
      notes: r.maybe(() => r.words(1, 15)),
      triggers: r.maybe(() => r.list(1, 3, () => r.words(1, 2))),
    }),
};

/** A random valid record of `section`, drawn from `next`. */
export function generateRecord<S extends SectionName>(section: S, next: Next): SectionRecord<S> {
  return GENERATORS[section](rand(next));
}
