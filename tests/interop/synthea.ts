/**
 * A seeded Synthea-style patient bundle (synthetic; the shapes Synthea's FHIR R4 exporter writes:
 * a transaction Bundle with urn:uuid full URLs, encounters with their conditions, vital signs,
 * labs, medication requests, immunizations, procedures, claims and EOBs). Used by the import
 * tests and benchmark S9. Randomness only from `next` (uniform in [0, 1)).
 */
export type Next = () => number;
type Json = Record<string, unknown>;

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';
const VITALS: [string, string, string, number, number][] = [
  ['8302-2', 'Body Height', 'cm', 150, 190],
  ['29463-7', 'Body Weight', 'kg', 50, 110],
  ['39156-5', 'Body mass index (BMI) [Ratio]', 'kg/m2', 18, 35],
  ['8867-4', 'Heart rate', '/min', 55, 100],
  ['9279-1', 'Respiratory rate', '/min', 12, 20],
];
const LABS: [string, string, string, number, number][] = [
  ['2339-0', 'Glucose [Mass/volume] in Blood', 'mg/dL', 70, 140],
  ['4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 4.5, 8],
  ['2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 150, 260],
  ['38483-4', 'Creatinine [Mass/volume] in Blood', 'mg/dL', 0.6, 1.3],
];
const CONDITIONS: [string, string][] = [['44054006', 'Diabetes mellitus type 2 (disorder)'], ['38341003', 'Hypertension (disorder)'], ['195662009', 'Acute viral pharyngitis (disorder)'], ['10509002', 'Acute bronchitis (disorder)']];
const MEDS: [string, string][] = [['860975', '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet'], ['314076', 'lisinopril 10 MG Oral Tablet'], ['313782', 'Acetaminophen 325 MG Oral Tablet']];
const VACCINES: [string, string][] = [['140', 'Influenza, seasonal, injectable, preservative free'], ['113', 'Td (adult) preservative free'], ['208', 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose']];
const PROCEDURES: [string, string][] = [['430193006', 'Medication Reconciliation (procedure)'], ['710824005', 'Assessment of health and social care needs (procedure)'], ['171207006', 'Depression screening (procedure)']];

export interface SyntheaOptions {
  readonly encounters: number;
  /** Bundle type (default transaction, as Synthea writes). */
  readonly type?: 'transaction' | 'collection' | 'batch' | 'document' | 'searchset';
}

export function syntheaBundle(next: Next, o: SyntheaOptions): Json {
  const int = (a: number, b: number) => a + Math.floor(next() * (b - a + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  const entries: Json[] = [];
  const add = (resource: Json): string => {
    const id = uuid();
    resource.id = id;
    entries.push({ fullUrl: `urn:uuid:${id}`, resource, request: { method: 'POST', url: resource.resourceType } });
    return `urn:uuid:${id}`;
  };
  const cc = (system: string, [code, display]: [string, string]) => ({ coding: [{ system, code, display }], text: display });
  const patientRef = add({
    resourceType: 'Patient',
    meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] },
    identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: uuid() }],
    name: [{ use: 'official', family: `Example${int(100, 999)}`, given: [`Sam${int(100, 999)}`], prefix: ['Mx.'] }],
    telecom: [{ system: 'phone', value: `555-${int(100, 999)}-${int(1000, 9999)}`, use: 'home' }],
    gender: pick(['male', 'female']),
    birthDate: `19${int(40, 99)}-0${int(1, 9)}-1${int(0, 9)}`,
    address: [{ line: [`${int(1, 999)} Example Way`], city: 'Exampleton', state: 'MA', postalCode: '01000', country: 'US' }],
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-US', display: 'English (United States)' }], text: 'English (United States)' } }],
  });
  const orgRef = add({ resourceType: 'Organization', name: 'EXAMPLE HEALTH CENTER', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }], text: 'Healthcare Provider' }] });
  const drRef = add({ resourceType: 'Practitioner', identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: String(int(1000000000, 9999999999)) }], active: true, name: [{ family: `Doc${int(100, 999)}`, given: ['Alex'], prefix: ['Dr.'] }], gender: 'female' });
  add({ resourceType: 'PractitionerRole', practitioner: { reference: drRef }, organization: { reference: orgRef }, code: [cc('http://nucc.org/provider-taxonomy', ['208D00000X', 'General Practice'])], specialty: [cc('http://nucc.org/provider-taxonomy', ['208D00000X', 'General Practice'])] });
  add({ resourceType: 'AllergyIntolerance', clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', ['active', 'Active']), verificationStatus: cc('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', ['confirmed', 'Confirmed']), type: 'allergy', category: ['food'], criticality: 'low', code: cc(SNOMED, ['91935009', 'Allergy to peanuts']), patient: { reference: patientRef }, recordedDate: '2010-05-01T10:00:00-05:00' });
  add({ resourceType: 'Device', udiCarrier: [{ deviceIdentifier: `0${int(1000000, 9999999)}`, carrierHRF: `(01)0${int(1000000, 9999999)}` }], status: 'active', distinctIdentifier: hex(8), type: cc(SNOMED, ['337414009', 'Blood glucose meters (physical object)']), patient: { reference: patientRef } });
  let year = 2010;
  for (let e = 0; e < o.encounters; e++) {
    const day = `${year + Math.floor(e / 4)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(10, 28))}`;
    const start = `${day}T0${int(8, 9)}:${int(10, 59)}:00-05:00`;
    const end = `${day}T1${int(0, 1)}:${int(10, 59)}:00-05:00`;
    const encRef = add({
      resourceType: 'Encounter',
      identifier: [{ use: 'official', system: 'https://github.com/synthetichealth/synthea', value: uuid() }],
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(['AMB', 'AMB', 'EMER']) },
      type: [cc(SNOMED, ['185349003', 'Encounter for check up (procedure)'])],
      subject: { reference: patientRef, display: 'Mx. Sam Example' },
      participant: [{ type: [cc('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', ['PPRF', 'primary performer'])], period: { start, end }, individual: { reference: drRef, display: 'Dr. Alex Doc' } }],
      period: { start, end },
      serviceProvider: { reference: orgRef, display: 'EXAMPLE HEALTH CENTER' },
    });
    const ctx = { subject: { reference: patientRef }, encounter: { reference: encRef } };
    const obs = (cat: string, [code, display, unit, lo, hi]: [string, string, string, number, number]) =>
      add({ resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: CAT, code: cat, display: cat }] }], code: cc(LOINC, [code, display]), ...ctx, effectiveDateTime: start, issued: `${day}T10:00:00.000-05:00`, valueQuantity: { value: round(lo + next() * (hi - lo)), unit, system: UCUM, code: unit } });
    for (const v of VITALS) obs('vital-signs', v);
    add({
      resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: CAT, code: 'vital-signs', display: 'vital-signs' }] }], code: cc(LOINC, ['85354-9', 'Blood pressure panel with all children optional']), ...ctx, effectiveDateTime: start, issued: `${day}T10:00:00.000-05:00`,
      component: [
        { code: cc(LOINC, ['8462-4', 'Diastolic Blood Pressure']), valueQuantity: { value: int(60, 90), unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
        { code: cc(LOINC, ['8480-6', 'Systolic Blood Pressure']), valueQuantity: { value: int(100, 150), unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
      ],
    });
    const labRefs = LABS.map((l) => obs('laboratory', l));
    add({ resourceType: 'DiagnosticReport', status: 'final', category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', ['LAB', 'Laboratory'])], code: cc(LOINC, ['51990-0', 'Basic metabolic panel - Blood']), ...ctx, effectiveDateTime: start, issued: `${day}T10:00:00.000-05:00`, result: labRefs.map((reference) => ({ reference })) });
    add({ resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: CAT, code: 'survey', display: 'survey' }] }], code: cc(LOINC, ['72166-2', 'Tobacco smoking status']), ...ctx, effectiveDateTime: start, valueCodeableConcept: cc(SNOMED, ['266919005', 'Never smoked tobacco (finding)']) });
    if (next() < 0.5) add({ resourceType: 'Condition', clinicalStatus: cc('http://terminology.hl7.org/CodeSystem/condition-clinical', [pick(['active', 'resolved']), 'status']), verificationStatus: cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', ['confirmed', 'Confirmed']), category: [cc('http://terminology.hl7.org/CodeSystem/condition-category', ['encounter-diagnosis', 'Encounter Diagnosis'])], code: cc(SNOMED, pick(CONDITIONS)), ...ctx, onsetDateTime: start, recordedDate: start });
    if (next() < 0.6) {
      const med = pick(MEDS);
      const byRef = next() < 0.3;
      const medRef = byRef ? add({ resourceType: 'Medication', code: cc('http://www.nlm.nih.gov/research/umls/rxnorm', med), status: 'active' }) : undefined;
      add({
        resourceType: 'MedicationRequest', status: pick(['active', 'stopped', 'completed']), intent: 'order',
        ...(medRef ? { medicationReference: { reference: medRef } } : { medicationCodeableConcept: cc('http://www.nlm.nih.gov/research/umls/rxnorm', med) }),
        ...ctx, authoredOn: start, requester: { reference: drRef, display: 'Dr. Alex Doc' },
        dosageInstruction: [{ sequence: 1, timing: { repeat: { frequency: int(1, 3), period: 1, periodUnit: 'd' } }, asNeededBoolean: false, doseAndRate: [{ type: cc('http://terminology.hl7.org/CodeSystem/dose-rate-type', ['ordered', 'Ordered']), doseQuantity: { value: 1 } }] }],
      });
    }
    if (next() < 0.3) add({ resourceType: 'Immunization', status: 'completed', vaccineCode: cc('http://hl7.org/fhir/sid/cvx', pick(VACCINES)), patient: { reference: patientRef }, encounter: { reference: encRef }, occurrenceDateTime: start, primarySource: true });
    if (next() < 0.4) add({ resourceType: 'Procedure', status: 'completed', code: cc(SNOMED, pick(PROCEDURES)), ...ctx, performedPeriod: { start, end }, location: { reference: orgRef, display: 'EXAMPLE HEALTH CENTER' } });
    const claimRef = add({
      resourceType: 'Claim', status: 'active', type: cc('http://terminology.hl7.org/CodeSystem/claim-type', ['professional', 'Professional']), use: 'claim', patient: { reference: patientRef }, billablePeriod: { start, end }, created: end, provider: { reference: orgRef },
      priority: cc('http://terminology.hl7.org/CodeSystem/processpriority', ['normal', 'Normal']), insurance: [{ sequence: 1, focal: true, coverage: { display: 'Medicaid' } }],
      item: [{ sequence: 1, productOrService: cc(SNOMED, ['185349003', 'Encounter for check up (procedure)']), encounter: [{ reference: encRef }] }], total: { value: round(100 + next() * 900, 2), currency: 'USD' },
    });
    add({
      resourceType: 'ExplanationOfBenefit', identifier: [{ system: 'https://bluebutton.cms.gov/resources/variables/clm_id', value: uuid() }], status: 'active', type: cc('http://terminology.hl7.org/CodeSystem/claim-type', ['professional', 'Professional']), use: 'claim', patient: { reference: patientRef },
      billablePeriod: { start, end }, created: end, insurer: { display: 'Medicaid' }, provider: { reference: drRef }, claim: { reference: claimRef }, outcome: 'complete',
      careTeam: [{ sequence: 1, provider: { reference: drRef }, role: cc('http://terminology.hl7.org/CodeSystem/claimcareteamrole', ['primary', 'Primary provider']) }],
      insurance: [{ focal: true, coverage: { display: 'Medicaid' } }],
      item: [{ sequence: 1, category: cc('https://bluebutton.cms.gov/resources/variables/line_cms_type_srvc_cd', ['1', 'Medical care']), productOrService: cc(SNOMED, ['185349003', 'Encounter for check up (procedure)']), servicedPeriod: { start, end }, encounter: [{ reference: encRef }], net: { value: round(100 + next() * 900, 2), currency: 'USD' }, adjudication: [{ category: cc('https://bluebutton.cms.gov/resources/codesystem/adjudication', ['https://bluebutton.cms.gov/resources/variables/line_coinsrnc_amt', 'Line Beneficiary Coinsurance Amount']), amount: { value: round(next() * 100, 2), currency: 'USD' } }] }],
      total: [{ category: cc('http://terminology.hl7.org/CodeSystem/adjudication', ['submitted', 'Submitted Amount']), amount: { value: round(100 + next() * 900, 2), currency: 'USD' } }],
      payment: { amount: { value: round(next() * 500, 2), currency: 'USD' } },
    });
  }
  year += 1;
  add({ resourceType: 'CarePlan', status: 'active', intent: 'order', category: [cc(SNOMED, ['698360004', 'Diabetes self management plan'])], subject: { reference: patientRef }, period: { start: '2015-01-01T09:00:00-05:00' }, activity: [{ detail: { code: cc(SNOMED, ['160670007', 'Diabetic diet']), status: 'in-progress' } }] });
  add({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Hemoglobin A1c total in Blood < 7.0' }, subject: { reference: patientRef } });
  return { resourceType: 'Bundle', type: o.type ?? 'transaction', entry: o.type === 'collection' || o.type === 'document' ? entries.map(({ request: _r, ...e }) => e) : entries };
}
