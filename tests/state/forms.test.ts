import { describe, expect, it } from 'vitest';
import { withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES, SECTIONS, validateRecord, type SchemaIssue, type SectionName } from '../../src/lib/vault/health.ts';
import { doseForm, fieldErrors, fieldForPath, SECTION_FORMS, type FieldSpec, type FormContext, type FormValues, type SectionForm } from '../../src/lib/state/forms/index.ts';
import { fhirToLocalInput, localInputToFhir, parseFhirDateTime, toFhirDateTime } from '../../src/lib/state/forms/dates.ts';

const FILE = 'tests/state/forms.test.ts';
const CANARY = 'CANARY-PHI-7731';
const SAMPLES = 40;

let ids = 0;
const ctx = (now = new Date('2026-11-23T13:05:00Z')): FormContext => ({ now, by: 'ab'.repeat(32), newId: () => `new-${++ids}` });

/** A file the upload step has already described: documents are edited on top of it. */
const DOCUMENT_DRAFT = {
  id: 'doc-1',
  schemaVersion: 1,
  resourceType: 'DocumentReference',
  status: 'current',
  content: [{ attachment: { title: 'scan.pdf', contentType: 'application/pdf', size: 123_456, hash: `${'A'.repeat(43)}=` } }],
};
const previousFor = (section: SectionName): Record<string, unknown> | undefined => (section === 'documents' ? structuredClone(DOCUMENT_DRAFT) : undefined);

/** Every field filled with a plausible value (times of day sorted, as the form stores them). */
const FILLED: Record<SectionName, FormValues> = {
  kept: { resourceType: 'CarePlan' },
  'advance-directives': { kind: 'Living will', status: 'active', signed: '2024-03-01', start: '2024-03-01', end: '' },
  'diagnostic-reports': { report: 'Basic metabolic panel', status: 'final', date: '2025-01-10', conclusion: 'Within normal limits' },
  demographics: {
    name: 'Alex Example',
    birthDate: '1980-04-12',
    gender: 'female',
    language: 'English',
    phone: '+44 20 7946 0000',
    email: 'alex@example.org',
    address: '1 Example Street, Exampletown',
    contact1Name: 'Sam Example',
    contact1Relationship: 'Partner',
    contact1Phone: '+44 7700 900000',
    contact2Name: 'Jo Example',
    contact2Relationship: 'Mother',
    contact2Phone: '+44 7700 900001',
  },
  allergies: {
    substance: 'Penicillin',
    type: 'allergy',
    category: ['medication', 'food'],
    criticality: 'high',
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    onset: '2015-06-01',
    reactions: ['Hives', 'Swelling'],
    reactionSeverity: 'moderate',
    reactionDescription: 'Rash within an hour',
    note: 'Carries an antihistamine',
  },
  conditions: {
    condition: 'Asthma',
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    severity: '6736007',
    bodySite: ['Lungs'],
    onset: '2010-03-02',
    abatement: '2020-01-01',
    note: 'Worse in winter',
  },
  medications: {
    medication: 'Metformin 500 mg tablet',
    status: 'active',
    dose: '1 tablet twice a day with food',
    doseAmount: '1',
    doseUnit: '{tbl}',
    timesOfDay: ['08:00', '20:00'],
    when: ['MORN', 'EVE'],
    frequency: '2',
    period: '1',
    periodUnit: 'd',
    dayOfWeek: ['mon', 'wed'],
    asNeeded: true,
    route: 'by mouth',
    start: '2024-01-15',
    end: '2026-01-15',
    reason: ['Type 2 diabetes'],
    note: 'Take with food',
  },
  immunizations: {
    vaccine: 'MMR',
    date: '2019-05-20',
    status: 'completed',
    doseNumber: '1',
    seriesDoses: '2',
    lotNumber: 'AB1234',
    expirationDate: '2020-01-31',
    site: 'left arm',
    route: 'injection',
    performer: 'Dr Example',
    note: 'No reaction',
  },
  'lab-results': {
    test: 'HbA1c',
    result: '5.4',
    unit: '%',
    low: '4',
    high: '5.6',
    rangeText: '4.0-5.6 %',
    interpretation: 'N',
    date: '2026-10-01',
    status: 'final',
    lab: 'City Lab',
    note: 'Fasting',
  },
  procedures: {
    procedure: 'Appendectomy',
    status: 'completed',
    performed: '2012-08-14',
    performer: 'Dr Surgeon',
    location: 'City Hospital',
    reason: ['Appendicitis'],
    bodySite: ['Abdomen'],
    outcome: 'Recovered well',
    note: 'Keyhole',
  },
  devices: {
    device: 'Cardiac pacemaker',
    status: 'active',
    name: 'PaceMaker 3000',
    manufacturer: 'Example Medical',
    modelNumber: 'PM-3000',
    serialNumber: 'SN123',
    lotNumber: 'L42',
    udi: '(01)00844588003288',
    manufactured: '2021-02-03',
    expires: '2031-02-03',
    safety: ['MR conditional'],
    note: 'Check yearly',
  },
  alerts: { alert: 'On blood thinners', status: 'active', category: ['medication'], start: '2024-01-01', end: '2027-01-01' },
  'blood-donor': { abo: 'A', rh: 'positive', bloodGroup: 'A Rh+', organDonor: 'yes', organDonorNote: 'Registered 2020' },
  visits: {
    type: 'Annual check-up',
    class: 'AMB',
    status: 'finished',
    start: '2026-11-20T09:30',
    end: '2026-11-20T10:00',
    seenBy: 'Dr Example',
    provider: 'Example Practice',
    location: 'Room 3',
    reason: ['Check-up'],
  },
  'care-team': { name: 'Dr Ada Example', role: 'Family doctor', phone: '+44 20 7946 0001', email: 'ada@example.org', address: '2 Clinic Road', active: true },
  documents: { title: 'Discharge letter', type: 'Discharge summary', category: ['Hospital'], date: '2026-11-20T16:45', description: 'After knee surgery', status: 'current' },
  'list:vitals': { vital: 'bodyWeight', value: '72.5', unit: 'kg', systolic: '', diastolic: '', at: '2026-11-23T07:30', note: 'After breakfast' },
  'list:doses': { medicationId: 'med-1', medication: 'Metformin 500 mg tablet', status: 'skipped', at: '2026-11-23T08:05', scheduledFor: '2026-11-23T08:00', reason: 'Felt sick', note: 'Will take it at lunch' },
  'list:journal': { symptom: 'Headache', severity: '6', at: '2026-11-23T14:05', triggers: ['stress', 'coffee'], notes: 'Better after rest' },
};
const BLOOD_PRESSURE: FormValues = { vital: 'bloodPressure', systolic: '128', diastolic: '84', value: '', unit: '', at: '2026-11-23T07:30', note: '' };

const blankOf = (f: FieldSpec) => (f.kind === 'checkbox' ? false : f.kind === 'tags' || f.kind === 'checkboxes' ? [] : '');
const blanks = (form: SectionForm): FormValues => Object.fromEntries(form.fields.map((f) => [f.name, blankOf(f)]));
const visible = (form: SectionForm, values: FormValues) => form.fields.filter((f) => !f.visible || f.visible(values));

function expectValid(section: SectionName, record: unknown): Record<string, unknown> {
  const result = validateRecord(section, record);
  if (!result.ok) throw new Error(`${section} rejected: ${JSON.stringify(result.issues)}\n${JSON.stringify(record)}`);
  return result.value as Record<string, unknown>;
}
function issuesOf(section: SectionName, record: unknown): readonly SchemaIssue[] {
  const result = validateRecord(section, record);
  if (result.ok) throw new Error(`${section} accepted: ${JSON.stringify(record)}`);
  return result.issues;
}

const withTimeZone = (tz: string, body: () => void) => {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    body();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
};

describe('form specs', () => {
  it('there is one form per section, with unique field names, labels and issue paths', () => {
    expect(Object.keys(SECTION_FORMS).sort()).toEqual([...SECTION_NAMES].sort());
    expect(Object.keys(FILLED).sort()).toEqual([...SECTION_NAMES].sort());
    for (const s of SECTION_NAMES) {
      const form = SECTION_FORMS[s];
      expect(form.section).toBe(s);
      expect(form.title.length).toBeGreaterThan(0);
      expect(form.singular.length).toBeGreaterThan(0);
      const names = form.fields.map((f) => f.name);
      expect(new Set(names).size, s).toBe(names.length);
      for (const f of form.fields) {
        expect(f.label.length, `${s}.${f.name}`).toBeGreaterThan(0);
        expect(f.name, `${s}.${f.name}`).not.toBe('_form');
        expect(f.paths?.length, `${s}.${f.name} paths`).toBeGreaterThan(0);
        if (f.kind === 'select' || f.kind === 'checkboxes') expect(f.options, `${s}.${f.name} options`).toBeDefined();
      }
    }
  });

  it('empty() holds a value for every field; date-times that start now are the local present', () => {
    withTimeZone('Asia/Kolkata', () => {
      for (const s of SECTION_NAMES) {
        const form = SECTION_FORMS[s];
        const values = form.empty(new Date('2026-11-23T13:05:00Z'));
        for (const f of form.fields) expect(typeof values[f.name] === typeof blankOf(f) || Array.isArray(values[f.name]), `${s}.${f.name}`).toBe(true);
      }
      expect(SECTION_FORMS['list:journal'].empty(new Date('2026-11-23T13:05:00Z')).at).toBe('2026-11-23T18:35');
      expect(SECTION_FORMS['list:journal'].empty().at).toBe('');
    });
  });
});

describe('fromForm / toForm', () => {
  for (const section of SECTION_NAMES) {
    it(`${section}: filled values give a valid record and come back unchanged`, () => {
      const form = SECTION_FORMS[section];
      const values = FILLED[section];
      const record = form.fromForm(values, ctx(), previousFor(section));
      const valid = expectValid(section, record);
      expect(record.schemaVersion).toBe(SECTIONS[section].schemaVersion);
      expect(typeof record.id).toBe('string');
      expect(form.toForm(valid)).toEqual({ ...blanks(form), ...values });
      // Empty optional inputs leave no empty strings or containers behind.
      expect(JSON.stringify(record)).not.toMatch(/:""|:\[\]|:\{\}/);
    });
  }

  it('a blood pressure reading is the panel with systolic and diastolic components', () => {
    const form = SECTION_FORMS['list:vitals'];
    const record = form.fromForm(BLOOD_PRESSURE, ctx());
    expectValid('list:vitals', record);
    expect(record.valueQuantity).toBeUndefined();
    expect(record.component).toEqual([
      { code: { text: 'Systolic blood pressure', coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: 128, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { text: 'Diastolic blood pressure', coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: 84, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ]);
    expect(record.status).toBe('final');
    expect(record.category).toEqual([{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }]);
    expect(form.toForm(record)).toEqual(BLOOD_PRESSURE);
    // Values left in fields the choice hides are not written.
    expect(form.fromForm({ ...BLOOD_PRESSURE, value: '99', unit: 'kg' }, ctx())).toEqual({ ...record, id: expect.any(String) });
    // Switching a reading to another vital replaces the components by a value.
    const weight = form.fromForm(FILLED['list:vitals'], ctx(), record);
    expectValid('list:vitals', weight);
    expect(weight.component).toBeUndefined();
    expect(weight.valueQuantity).toEqual({ value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' });
  });

  it('builds FHIR shapes: status codings, concepts, UCUM quantities, schedule', () => {
    const c = ctx();
    const allergy = SECTION_FORMS.allergies.fromForm(FILLED.allergies, c);
    expect(allergy).toMatchObject({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      code: { text: 'Penicillin' },
      reaction: [{ manifestation: [{ text: 'Hives' }, { text: 'Swelling' }], severity: 'moderate', description: 'Rash within an hour' }],
      note: [{ text: 'Carries an antihistamine' }],
    });
    expect(allergy.recordedDate).toBe(toFhirDateTime(c.now));
    expect(allergy.id).toMatch(/^new-/);
    const med = SECTION_FORMS.medications.fromForm(FILLED.medications, c);
    expect(med.dosage).toEqual([
      {
        text: '1 tablet twice a day with food',
        doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet', system: 'http://unitsofmeasure.org', code: '{tbl}' } }],
        timing: { repeat: { timeOfDay: ['08:00:00', '20:00:00'], when: ['MORN', 'EVE'], frequency: 2, period: 1, periodUnit: 'd', dayOfWeek: ['mon', 'wed'] } },
        asNeededBoolean: true,
        route: { text: 'by mouth' },
      },
    ]);
    const lab = SECTION_FORMS['lab-results'].fromForm(FILLED['lab-results'], c);
    expect(lab.valueQuantity).toEqual({ value: 5.4, unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
    expect(lab.referenceRange).toEqual([{ low: { value: 4, unit: '%', system: 'http://unitsofmeasure.org', code: '%' }, high: { value: 5.6, unit: '%', system: 'http://unitsofmeasure.org', code: '%' }, text: '4.0-5.6 %' }]);
    const textual = SECTION_FORMS['lab-results'].fromForm({ ...FILLED['lab-results'], result: 'negative', low: '', high: '' }, c);
    expectValid('lab-results', textual);
    expect(textual.valueString).toBe('negative');
    expect(textual.valueQuantity).toBeUndefined();
    const patient = SECTION_FORMS.demographics.fromForm(FILLED.demographics, c);
    expect(patient.id).toBe('patient');
    expect(patient.telecom).toEqual([{ system: 'phone', value: '+44 20 7946 0000' }, { system: 'email', value: 'alex@example.org' }]);
    expect(patient.contact).toEqual([
      { name: { text: 'Sam Example' }, relationship: [{ text: 'Partner' }], telecom: [{ system: 'phone', value: '+44 7700 900000' }] },
      { name: { text: 'Jo Example' }, relationship: [{ text: 'Mother' }], telecom: [{ system: 'phone', value: '+44 7700 900001' }] },
    ]);
    expect(SECTION_FORMS['blood-donor'].fromForm(FILLED['blood-donor'], c).id).toBe('current');
  });

  it('empty optional inputs are absent, a second emergency contact alone becomes the first', () => {
    const form = SECTION_FORMS.demographics;
    const record = form.fromForm({ ...form.empty(), name: '  Alex  ', contact2Name: 'Jo', contact2Relationship: 'Mother' }, ctx());
    expectValid('demographics', record);
    expect(record).toEqual({ id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'Alex' }], contact: [{ name: { text: 'Jo' }, relationship: [{ text: 'Mother' }] }] });
    // Clearing every contact field removes the contact.
    const cleared = form.fromForm({ ...form.toForm(record), contact1Name: '', contact1Relationship: '' }, ctx(), record);
    expect(cleared.contact).toBeUndefined();
  });

  it('checkboxes: unticking an unset box leaves it unset, unticking a set one stores false', () => {
    const form = SECTION_FORMS['care-team'];
    const created = form.fromForm({ ...form.empty(), name: 'Dr A', active: false }, ctx());
    expect(created.active).toBeUndefined();
    const active = form.fromForm({ ...form.toForm(created), active: true }, ctx(), created);
    expect(active.active).toBe(true);
    expect(form.fromForm({ ...form.toForm(active), active: false }, ctx(), active).active).toBe(false);
  });

  it('an edit keeps codes behind unchanged text, drops them when the text changes, and keeps unknown nested fields', () => {
    const form = SECTION_FORMS.allergies;
    const previous = {
      ...form.fromForm(FILLED.allergies, ctx()),
      code: { text: 'Penicillin', coding: [{ system: 'http://snomed.info/sct', code: '764146007' }], futureNested: { a: 1 } },
      onsetDateTime: '2015-06-01T10:11:12.345+05:30',
    };
    const untouched = form.fromForm({ ...form.toForm(previous), criticality: 'low' }, ctx(), previous);
    expect(untouched.code).toEqual(previous.code);
    expect(untouched.onsetDateTime).toBe('2015-06-01T10:11:12.345+05:30');
    expect(untouched.criticality).toBe('low');
    const renamed = form.fromForm({ ...form.toForm(previous), substance: 'Amoxicillin' }, ctx(), previous);
    expect(renamed.code).toEqual({ text: 'Amoxicillin', futureNested: { a: 1 } });
    const spaced = form.fromForm({ ...form.toForm(previous), substance: ' Penicillin ', note: 'changed' }, ctx(), previous);
    expect(spaced.code).toEqual(previous.code);
  });

  it('the dose form copies the chosen medicine and records who logged it', () => {
    const form = doseForm([{ id: 'med-7', name: 'Lisinopril 10 mg' }]);
    const values = form.empty(new Date('2026-11-23T08:00:00Z'));
    expect(values.medicationId).toBe('med-7');
    const record = form.fromForm(values, ctx());
    expect(expectValid('list:doses', record)).toMatchObject({ medicationId: 'med-7', medication: { text: 'Lisinopril 10 mg' }, status: 'taken', by: 'ab'.repeat(32) });
    const field = form.fields.find((f) => f.name === 'medicationId')!;
    const options = typeof field.options === 'function' ? field.options(form.toForm({ ...record, medicationId: 'gone', medication: { text: 'Old pill' } })) : [];
    expect(options).toEqual([{ value: 'med-7', label: 'Lisinopril 10 mg' }, { value: 'gone', label: 'Old pill' }]);
    // Someone else editing the entry does not become its author.
    expect(form.fromForm({ ...form.toForm(record), note: 'late' }, { ...ctx(), by: 'cd'.repeat(32) }, record).by).toBe('ab'.repeat(32));
  });

  it('a record from a newer client keeps its schema version and fields', () => {
    const form = SECTION_FORMS['list:journal'];
    const newer = { ...form.fromForm(FILLED['list:journal'], ctx()), schemaVersion: 7, mood: { text: 'fine' } };
    const edited = form.fromForm({ ...form.toForm(newer), severity: '2' }, ctx(), newer);
    expect(edited).toEqual({ ...newer, severity: 2 });
  });
});

describe('generated records survive an edit', () => {
  for (const section of SECTION_NAMES) {
    const name = `${section}: ${SAMPLES} generated records, untouched and fully edited`;
    it(name, () =>
      withSeed(FILE, name, async (prng) => {
        const form = SECTION_FORMS[section];
        const writes = new Set(form.fields.flatMap((f) => (f.paths ?? []).map((p) => p[0])));
        for (const fixed of ['id', 'schemaVersion', 'resourceType', 'medication', 'category']) writes.add(fixed);
        for (let i = 0; i < SAMPLES; i++) {
          const record = { ...generateRecord(section, prng.next), futureField: { nested: ['kept', i] } } as Record<string, unknown>;
          const values = form.toForm(record);
          for (const f of form.fields) expect(values[f.name], `${section}.${f.name}`).toBeDefined();
          // Saving without a change writes exactly what was there.
          const same = form.fromForm(values, ctx(), record);
          expect(same, `sample ${i}`).toStrictEqual(record);
          expectValid(section, same);
          // Saving every field changed still validates and keeps what the form does not show.
          const edited = form.fromForm(FILLED[section], ctx(), record);
          expectValid(section, edited);
          expect(edited.id).toBe(record.id);
          for (const [k, v] of Object.entries(record)) if (!writes.has(k)) expect(edited[k], `sample ${i} ${k}`).toEqual(v);
          expect(form.toForm(edited)).toEqual({ ...values, ...FILLED[section] });
          const summary = form.summary(record);
          expect(summary.title.length).toBeGreaterThan(0);
          if (summary.when !== undefined) expect(typeof summary.when).toBe('string');
        }
      }),
    );
  }
});

describe('fieldErrors', () => {
  const requiredCases = SECTION_NAMES.flatMap((s) => {
    const variants = s === 'list:vitals' ? [FILLED[s], BLOOD_PRESSURE] : [FILLED[s]];
    return variants.flatMap((values) =>
      visible(SECTION_FORMS[s], values)
        .filter((f) => f.required)
        .map((f) => [s, f.name, values] as const),
    );
  });

  it('every section has required fields to check', () => {
    for (const s of SECTION_NAMES) expect(requiredCases.some(([x]) => x === s), s).toBe(true);
  });

  for (const [section, name, filled] of requiredCases) {
    it(`${section}: leaving ${name}${filled === BLOOD_PRESSURE ? ' (blood pressure)' : ''} empty gives "Required" on it`, () => {
      const form = SECTION_FORMS[section];
      const f = form.fields.find((x) => x.name === name)!;
      const values = { ...filled, [name]: blankOf(f) };
      const issues = issuesOf(section, form.fromForm(values, ctx(), previousFor(section)));
      const errors = fieldErrors(issues, form, values);
      expect(errors[name], JSON.stringify({ issues, errors })).toBe('Required');
      expect(errors._form).toBeUndefined();
      // Without the values, the path alone still finds the field.
      expect(fieldErrors(issues, form)[name]).toBeDefined();
    });
  }

  it('explains numbers, ranges, lengths and formats without echoing the input', () => {
    const journal = SECTION_FORMS['list:journal'];
    const errs = (values: FormValues) => fieldErrors(issuesOf('list:journal', journal.fromForm(values, ctx())), journal, values);
    expect(errs({ ...FILLED['list:journal'], severity: 'lots' })).toEqual({ severity: 'Enter a number' });
    expect(errs({ ...FILLED['list:journal'], severity: '2.5' })).toEqual({ severity: 'Enter a whole number' });
    expect(errs({ ...FILLED['list:journal'], severity: '11' })).toEqual({ severity: 'Must be at most 10' });
    expect(errs({ ...FILLED['list:journal'], symptom: 'x'.repeat(4001) })).toEqual({ symptom: 'Too long: at most 4000 characters' });
    expect(errs({ ...FILLED['list:journal'], at: 'yesterday' })).toEqual({ at: 'Enter a date and time' });
    const meds = SECTION_FORMS.medications;
    const medValues = { ...FILLED.medications, timesOfDay: ['8 in the morning'] };
    expect(fieldErrors(issuesOf('medications', meds.fromForm(medValues, ctx())), meds, medValues)).toEqual({ timesOfDay: 'Enter times as HH:MM (24-hour clock)' });
    const noText = { ...meds.empty(), medication: 'Aspirin', timesOfDay: ['08:00'] };
    expect(fieldErrors(issuesOf('medications', meds.fromForm(noText, ctx())), meds, noText)).toEqual({ dose: 'Required' });
    const onset = { ...FILLED.allergies, onset: '2015-13-45' };
    expect(fieldErrors(issuesOf('allergies', SECTION_FORMS.allergies.fromForm(onset, ctx())), SECTION_FORMS.allergies, onset)).toEqual({ onset: 'Enter a date' });
    const reaction = { ...FILLED.allergies, reactions: [] };
    expect(fieldErrors(issuesOf('allergies', SECTION_FORMS.allergies.fromForm(reaction, ctx())), SECTION_FORMS.allergies, reaction)).toEqual({ reactions: 'Required' });
    const contact = { ...SECTION_FORMS.demographics.empty(), name: 'Alex', contact1Phone: '123' };
    expect(fieldErrors(issuesOf('demographics', SECTION_FORMS.demographics.fromForm(contact, ctx())), SECTION_FORMS.demographics, contact)).toEqual({
      contact1Name: 'Required',
      contact1Relationship: 'Required',
    });
  });

  it('maps vital-sign rules to the unit field, and issues no field wrote to _form', () => {
    const vitals = SECTION_FORMS['list:vitals'];
    const wrongUnit = { ...FILLED['list:vitals'], unit: 'Cel' };
    expect(fieldErrors(issuesOf('list:vitals', vitals.fromForm(wrongUnit, ctx())), vitals, wrongUnit)).toEqual({ unit: 'Choose a unit' });
    expect(fieldForPath(vitals, ['component', 1, 'valueQuantity', 'value'])?.name).toBe('diastolic');
    expect(fieldForPath(vitals, ['code', 'coding'])?.name).toBe('vital');
    const docs = SECTION_FORMS.documents;
    const noFile = docs.fromForm(FILLED.documents, ctx());
    expect(fieldErrors(issuesOf('documents', noFile), docs, FILLED.documents)).toEqual({ _form: 'Attach a file first' });
    const badId = { ...SECTION_FORMS['list:journal'].fromForm(FILLED['list:journal'], ctx()), id: 'no spaces allowed' };
    const errors = fieldErrors(issuesOf('list:journal', badId), SECTION_FORMS['list:journal']);
    expect(Object.keys(errors)).toEqual(['_form']);
    expect(errors._form).toContain('journal entry');
    expect(errors._form).not.toContain('no spaces');
  });

  it('messages never contain what was typed', () => {
    for (const s of SECTION_NAMES) {
      const form = SECTION_FORMS[s];
      const values: FormValues = { ...FILLED[s] };
      const long = `${CANARY} ${'y'.repeat(4100)}`;
      let i = 0;
      for (const f of form.fields) {
        // Free text holds the canary (some of it too long), everything typed elsewhere is invalid canary text.
        if (f.kind === 'text' || f.kind === 'textarea') values[f.name] = i++ % 2 ? long : CANARY;
        else if (f.kind === 'number' || f.kind === 'date' || f.kind === 'datetime' || f.kind === 'time') values[f.name] = CANARY;
        else if (f.kind === 'tags') values[f.name] = [CANARY, long];
        else if (f.kind === 'select') values[f.name] = CANARY;
      }
      const record = form.fromForm(values, ctx(), previousFor(s));
      const result = validateRecord(s, record);
      expect(result.ok, s).toBe(false);
      if (result.ok) continue;
      const errors = fieldErrors(result.issues, form, values);
      expect(Object.keys(errors).length, s).toBeGreaterThan(0);
      expect(JSON.stringify(errors), s).not.toContain('CANARY');
      expect(JSON.stringify(fieldErrors(result.issues, form)), s).not.toContain('CANARY');
    }
    // A valid free-text field next to an invalid one.
    const journal = SECTION_FORMS['list:journal'];
    const values = { ...FILLED['list:journal'], symptom: CANARY, notes: CANARY, severity: '42' };
    const errors = fieldErrors(issuesOf('list:journal', journal.fromForm(values, ctx())), journal, values);
    expect(errors).toEqual({ severity: 'Must be at most 10' });
  });
});

describe('date and time conversion', () => {
  it('datetime-local values become FHIR dateTimes with seconds and the offset of that moment', () => {
    withTimeZone('Asia/Kolkata', () => {
      expect(localInputToFhir('2026-11-23T14:05')).toBe('2026-11-23T14:05:00+05:30');
      expect(parseFhirDateTime(localInputToFhir('2026-11-23T14:05'))!.toISOString()).toBe('2026-11-23T08:35:00.000Z');
      expect(fhirToLocalInput('2026-11-23T08:35:00Z')).toBe('2026-11-23T14:05');
      expect(fhirToLocalInput('2026-11-23T09:35:00.123456+01:00')).toBe('2026-11-23T14:05');
    });
    withTimeZone('America/New_York', () => {
      // `now` is in winter (-05:00); a summer time entered now still gets the summer offset.
      const now = new Date('2026-11-23T13:05:00Z');
      expect(toFhirDateTime(now)).toBe('2026-11-23T08:05:00-05:00');
      expect(localInputToFhir('2026-07-01T09:00')).toBe('2026-07-01T09:00:00-04:00');
      expect(localInputToFhir('2026-11-23T23:30')).toBe('2026-11-23T23:30:00-05:00');
      expect(parseFhirDateTime('2026-11-23T23:30:00-05:00')!.toISOString()).toBe('2026-11-24T04:30:00.000Z');
      // A time the clocks skip (02:30 on 8 March 2026) resolves to the hour after.
      expect(localInputToFhir('2026-03-08T02:30')).toBe('2026-03-08T03:30:00-04:00');
    });
    withTimeZone('UTC', () => {
      expect(localInputToFhir('2026-11-23T14:05:09')).toBe('2026-11-23T14:05:09+00:00');
      expect(localInputToFhir('2026-02-30T10:00')).toBe('2026-02-30T10:00'); // not a date: left for validation
      expect(localInputToFhir('')).toBe('');
      expect(fhirToLocalInput('2026-11')).toBe('2026-11-01T00:00');
      expect(fhirToLocalInput('2026-11-23')).toBe('2026-11-23T00:00');
      expect(fhirToLocalInput(undefined)).toBe('');
    });
  });

  it('forms store the entered wall-clock time with its offset and show it back in the viewer zone', () => {
    const journal = SECTION_FORMS['list:journal'];
    let record: Record<string, unknown> = {};
    withTimeZone('Asia/Kolkata', () => {
      const now = new Date('2026-11-23T13:05:00Z');
      record = journal.fromForm({ ...journal.empty(now), symptom: 'Headache', severity: '3' }, ctx(now));
      expect(record.at).toBe('2026-11-23T18:35:00+05:30');
      expectValid('list:journal', record);
      const allergy = SECTION_FORMS.allergies.fromForm(FILLED.allergies, ctx(now));
      expect(allergy.recordedDate).toBe('2026-11-23T18:35:00+05:30');
      expect(journal.toForm(record).at).toBe('2026-11-23T18:35');
    });
    withTimeZone('Europe/London', () => {
      // Seen from London the same instant is 13:05; saving untouched keeps the original string.
      expect(journal.toForm(record).at).toBe('2026-11-23T13:05');
      expect(journal.fromForm(journal.toForm(record), ctx(), record).at).toBe('2026-11-23T18:35:00+05:30');
      const moved = journal.fromForm({ ...journal.toForm(record), at: '2026-11-23T13:10' }, ctx(), record);
      expect(moved.at).toBe('2026-11-23T13:10:00+00:00');
    });
    const dose = SECTION_FORMS['list:doses'].fromForm(FILLED['list:doses'], ctx());
    expect(expectValid('list:doses', dose).at).toMatch(/^2026-11-23T08:05:00(Z|[+-]\d\d:\d\d)$/);
  });

  it('the process time zone can be switched (the tests above rely on it)', () => {
    withTimeZone('Pacific/Kiritimati', () => expect(new Date('2026-01-01T00:00:00Z').getTimezoneOffset()).toBe(-14 * 60));
    withTimeZone('UTC', () => expect(new Date('2026-01-01T00:00:00Z').getTimezoneOffset()).toBe(0));
  });
});
