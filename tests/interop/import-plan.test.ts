/**
 * The pure import plan (src/lib/interop/fhir/import-*): bundle types, reference forms, each
 * section's mapping, kept resources and rejections, whole-file refusals. No profile here.
 */
import { describe, expect, it } from 'vitest';
import { planImport, type ImportPlan } from '../../src/lib/interop/fhir/import-plan.ts';
import { parseImportFile, MAX_IMPORT_BYTES } from '../../src/lib/interop/fhir/import-read.ts';
import { patientMismatch } from '../../src/lib/interop/fhir/import-identity.ts';
import { createPrng } from '../helpers/prng.ts';
import { bundle, cc, condition, LOINC, OBS_CAT, patient, SNOMED, UCUM, vital, type Json } from './fhir.ts';
import { syntheaBundle } from './synthea.ts';

const NOW = Date.parse('2026-12-01T10:00:00Z');
function plan(value: unknown, fileName = 'export.json'): ImportPlan {
  const r = planImport(value, { fileName, now: () => NOW });
  if (!r.ok) throw new Error(`refused: ${r.code}`);
  return r.value;
}
const refusal = (value: unknown) => {
  const r = planImport(value, { fileName: 'f.json', now: () => NOW });
  return r.ok ? 'accepted' : r.code;
};
const bySection = (p: ImportPlan, section: string) => p.records.filter((r) => r.section === section).map((r) => r.record as Json);
const sections = (p: ImportPlan) => p.records.map((r) => (r.section === 'kept' ? `kept:${r.resourceType}` : r.section)).sort();

describe('bundle types and a lone resource', () => {
  const resources = [patient(), condition('c1')];
  for (const type of ['document', 'collection', 'transaction', 'batch']) {
    it(`a ${type} Bundle imports its entries`, () => {
      const p = plan(bundle(type, resources));
      expect(p.resources).toBe(2);
      expect(sections(p)).toEqual(['conditions', 'demographics']);
      expect(p.rejected).toEqual([]);
    });
  }

  it('a single resource imports as itself', () => {
    const p = plan(condition('c1', { subject: undefined }));
    expect(p.resources).toBe(1);
    expect(bySection(p, 'conditions')).toHaveLength(1);
  });

  it('a searchset imports its matches; included resources resolve references only; outcomes are skipped', () => {
    const med = { resourceType: 'Medication', id: 'm1', code: cc('http://www.nlm.nih.gov/research/umls/rxnorm', '314076', 'Lisinopril 10 MG') };
    const request = { resourceType: 'MedicationRequest', id: 'r1', status: 'active', intent: 'order', medicationReference: { reference: 'Medication/m1' } };
    const value = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: request, search: { mode: 'match' } },
        { resource: med, search: { mode: 'include' } },
        { resource: { resourceType: 'OperationOutcome', issue: [] }, search: { mode: 'outcome' } },
      ],
    };
    const p = plan(value);
    expect(p.resources).toBe(1);
    expect(sections(p)).toEqual(['medications']);
    expect((bySection(p, 'medications')[0]!.medicationCodeableConcept as Json).text).toBe('Lisinopril 10 MG');
  });

  it('transaction entries that delete or read are rejected, not applied', () => {
    const value = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Condition/c1' } }, { resource: condition('c2'), request: { method: 'DELETE', url: 'Condition/c2' } }] };
    const p = plan(value);
    expect(p.records).toEqual([]);
    expect(p.rejected).toEqual([
      { index: 0, resourceType: '', code: 'IMPORT_NO_RESOURCE' },
      { index: 1, resourceType: 'Condition', code: 'IMPORT_UNSUPPORTED_REQUEST' },
    ]);
  });
});

describe('references', () => {
  const statement = (ref: string, o: Json = {}) => ({ resourceType: 'MedicationStatement', id: 's1', status: 'active', medicationReference: { reference: ref }, subject: { reference: 'urn:uuid:p-1' }, ...o });
  const medication = (id: string) => ({ resourceType: 'Medication', id, code: cc('http://www.nlm.nih.gov/research/umls/rxnorm', '860975', 'Metformin 500 MG') });
  const medName = (p: ImportPlan) => (bySection(p, 'medications')[0]?.medicationCodeableConcept as Json | undefined)?.text;

  it('urn:uuid full URLs', () => {
    const p = plan(bundle('collection', [patient(), statement('urn:uuid:m-1'), medication('m1')], { fullUrls: (r) => `urn:uuid:${r.resourceType === 'Patient' ? 'p' : r.resourceType === 'Medication' ? 'm' : 's'}-1` }));
    expect(medName(p)).toBe('Metformin 500 MG');
    // The Medication folded into its statement: not kept on its own.
    expect(sections(p)).toEqual(['demographics', 'medications']);
  });

  it('relative Type/id', () => {
    const p = plan(bundle('collection', [statement('Medication/m1', { subject: { reference: 'Patient/pat1' } }), medication('m1'), patient()]));
    expect(medName(p)).toBe('Metformin 500 MG');
  });

  it('absolute URLs, by full URL and by Type/id under a base', () => {
    const base = 'https://fhir.example.org/R4';
    const p = plan(bundle('collection', [patient(), statement(`${base}/Medication/m1/_history/2`, { subject: { reference: `${base}/Patient/pat1` } }), medication('m1')], { fullUrls: (r) => `${base}/${r.resourceType as string}/${r.id as string}` }));
    expect(medName(p)).toBe('Metformin 500 MG');
    expect(p.rejected).toEqual([]);
  });

  it('contained resources', () => {
    const p = plan(statement('#med', { subject: undefined, contained: [{ ...medication('med') }] }));
    expect(medName(p)).toBe('Metformin 500 MG');
  });

  it('a reference into the file that leads nowhere rejects that resource only', () => {
    const p = plan(bundle('collection', [patient(), statement('urn:uuid:missing', { subject: { reference: 'Patient/pat1' } }), statement('#nope', { id: 's2', subject: undefined }), condition('c1')]));
    expect(p.rejected).toEqual([
      { index: 1, resourceType: 'MedicationStatement', code: 'IMPORT_BROKEN_REFERENCE' },
      { index: 2, resourceType: 'MedicationStatement', code: 'IMPORT_BROKEN_REFERENCE' },
    ]);
    expect(sections(p)).toEqual(['conditions', 'demographics']);
  });

  it("a resource about someone other than the file's Patient is rejected", () => {
    const p = plan(bundle('collection', [patient(), condition('c1', { subject: { reference: 'Patient/someone-else' } })]));
    expect(p.rejected).toEqual([{ index: 1, resourceType: 'Condition', code: 'IMPORT_OTHER_PATIENT' }]);
  });

  it('references between records become <section>/<id> with a display name', () => {
    const dr = { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Doc', given: ['Alex'], prefix: ['Dr.'] }] };
    const enc = { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, participant: [{ individual: { reference: 'Practitioner/dr1' } }] };
    const p = plan(bundle('collection', [dr, enc]));
    const drId = bySection(p, 'care-team')[0]!.id;
    const visit = bySection(p, 'visits')[0]!;
    expect(visit.participant).toEqual([{ individual: { reference: `care-team/${drId as string}`, display: 'Dr. Alex Doc' } }]);
    expect(visit.type).toEqual([{ text: 'Visit' }]);
  });
});

describe('mappings', () => {
  it('Patient → demographics, RelatedPerson → its emergency contacts', () => {
    const related = { resourceType: 'RelatedPerson', id: 'rp1', patient: { reference: 'Patient/pat1' }, relationship: [cc('http://terminology.hl7.org/CodeSystem/v2-0131', 'C', 'Emergency Contact')], name: [{ text: 'Jo Example' }], telecom: [{ system: 'phone', value: '555-0100' }] };
    const p = plan(bundle('collection', [patient({ telecom: [{ system: 'email', value: 'sam@example.org' }] }), related]));
    const [demo] = bySection(p, 'demographics');
    expect(demo).toMatchObject({ id: 'patient', resourceType: 'Patient', birthDate: '1980-04-12', name: [{ text: 'Sam Example', family: 'Example' }], contact: [{ name: { text: 'Jo Example' }, relationship: [{ text: 'Emergency Contact' }] }] });
    expect(p.patient?.record.id).toBe('patient');
    expect(sections(p)).toEqual(['demographics']);
  });

  it('AllergyIntolerance, Condition, Immunization, Procedure, Flag, Device keep codes and dates', () => {
    const resources = [
      { resourceType: 'AllergyIntolerance', id: 'a1', code: cc(SNOMED, '91935009', 'Allergy to peanuts'), criticality: 'high', reaction: [{ manifestation: [cc(SNOMED, '39579001', 'Anaphylaxis')], severity: 'severe' }] },
      condition('c1', { subject: undefined, onsetDateTime: '2019-02-03' }),
      { resourceType: 'Immunization', id: 'i1', status: 'completed', vaccineCode: cc('http://hl7.org/fhir/sid/cvx', '140', 'Influenza'), occurrenceDateTime: '2023-10-01' },
      { resourceType: 'Procedure', id: 'p1', status: 'completed', code: cc(SNOMED, '80146002', 'Appendectomy'), performedPeriod: { start: '2001-05-05', end: '2001-05-06' } },
      { resourceType: 'Flag', id: 'f1', status: 'active', code: cc(SNOMED, '182764009', 'On anticoagulants') },
      { resourceType: 'Device', id: 'd1', type: cc(SNOMED, '14106009', 'Cardiac pacemaker'), status: 'active' },
    ];
    const p = plan(bundle('collection', resources));
    expect(p.rejected).toEqual([]);
    expect(bySection(p, 'allergies')[0]).toMatchObject({ code: { text: 'Allergy to peanuts', coding: [{ system: SNOMED, code: '91935009' }] }, criticality: 'high', reaction: [{ severity: 'severe' }] });
    expect(bySection(p, 'conditions')[0]).toMatchObject({ onsetDateTime: '2019-02-03', clinicalStatus: { coding: [{ code: 'active' }] } });
    expect(bySection(p, 'immunizations')[0]).toMatchObject({ occurrenceDateTime: '2023-10-01', vaccineCode: { coding: [{ code: '140' }] } });
    expect(bySection(p, 'procedures')[0]).toMatchObject({ performedPeriod: { start: '2001-05-05', end: '2001-05-06' } });
    expect(bySection(p, 'alerts')[0]).toMatchObject({ status: 'active', code: { text: 'On anticoagulants' } });
    expect(bySection(p, 'devices')[0]).toMatchObject({ type: { text: 'Cardiac pacemaker' } });
  });

  it('MedicationRequest reads as a statement with its dosage schedule', () => {
    const req = { resourceType: 'MedicationRequest', id: 'r1', status: 'draft', intent: 'order', medicationCodeableConcept: cc('http://www.nlm.nih.gov/research/umls/rxnorm', '314076', 'Lisinopril'), authoredOn: '2024-03-01', dosageInstruction: [{ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }] };
    const [m] = bySection(plan(req), 'medications');
    expect(m).toMatchObject({ resourceType: 'MedicationStatement', status: 'intended', effectivePeriod: { start: '2024-03-01' }, dosage: [{ text: '2 time(s) every 1 d', timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }] });
  });

  it('vital signs (blood pressure as a panel with components) → vitals; laboratory → lab results; others kept', () => {
    const bp = { ...vital('bp', '85354-9', 0, 'mm[Hg]'), valueQuantity: undefined, component: [
      { code: cc(LOINC, '8480-6', 'Systolic'), valueQuantity: { value: 128, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
      { code: cc(LOINC, '8462-4', 'Diastolic'), valueQuantity: { value: 84, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
    ] };
    const lab = { ...vital('l1', '4548-4', 6.1, '%'), category: [{ coding: [{ system: OBS_CAT, code: 'laboratory' }] }] };
    const bmi = vital('bmi', '39156-5', 24, 'kg/m2');
    const survey = { resourceType: 'Observation', id: 's1', status: 'final', category: [{ coding: [{ system: OBS_CAT, code: 'survey' }] }], code: cc(LOINC, '72166-2', 'Tobacco smoking status'), valueCodeableConcept: cc(SNOMED, '266919005', 'Never smoked') };
    const p = plan(bundle('collection', [vital('w', '29463-7', 70.5, 'kg'), bp, lab, bmi, survey]));
    expect(sections(p)).toEqual(['kept:Observation', 'kept:Observation', 'lab-results', 'list:vitals', 'list:vitals']);
    const panel = bySection(p, 'list:vitals').find((v) => v.component);
    expect((panel!.component as Json[]).map((c) => (c.valueQuantity as Json).value)).toEqual([128, 84]);
    expect(bySection(p, 'lab-results')[0]).toMatchObject({ valueQuantity: { value: 6.1, code: '%' }, category: [{ coding: [{ code: 'laboratory' }] }] });
    // Kept verbatim.
    expect(bySection(p, 'kept').map((k) => k.resource)).toEqual([bmi, survey]);
  });

  it('a vital sign with a unit its code does not allow fails its schema: rejected', () => {
    const p = plan(vital('w', '29463-7', 70, 'stone'));
    expect(p.rejected).toEqual([{ index: 0, resourceType: 'Observation', code: 'IMPORT_RESOURCE_INVALID' }]);
  });

  it('Practitioner with its PractitionerRole, Organization and Location → care team; a nameless Organization kept', () => {
    const dr = { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Doc', given: ['Alex'] }] };
    const role = { resourceType: 'PractitionerRole', id: 'pr1', practitioner: { reference: 'Practitioner/dr1' }, specialty: [cc(SNOMED, '17561000', 'Cardiologist')] };
    const org = { resourceType: 'Organization', id: 'o1', name: 'Example Clinic', type: [cc('http://terminology.hl7.org/CodeSystem/organization-type', 'prov', 'Healthcare Provider')], telecom: [{ system: 'phone', value: '555-0100', use: 'work' }, { system: 'phone', value: '555-0199', use: 'home' }] };
    const site = { resourceType: 'Location', id: 'l1', name: 'Example Clinic, North Wing', status: 'active', address: { line: ['1 Main St'], city: 'Exampletown' }, managingOrganization: { reference: 'Organization/o1' } };
    const nameless = { resourceType: 'Organization', id: 'o2', identifier: [{ system: 'urn:x', value: '42' }] };
    const p = plan(bundle('collection', [dr, role, org, site, nameless]));
    expect(sections(p)).toEqual(['care-team', 'care-team', 'care-team', 'kept:Organization']);
    const team = bySection(p, 'care-team');
    expect(team.find((r) => r.resourceType === 'Practitioner')).toMatchObject({ name: [{ text: 'Alex Doc' }], qualification: [{ code: { text: 'Cardiologist' } }] });
    const o = team.find((r) => r.resourceType === 'Organization')!;
    // An organization has no home phone (FHIR org-3): that one is left out.
    expect(o).toMatchObject({ name: 'Example Clinic', type: [{ text: 'Healthcare Provider' }], telecom: [{ value: '555-0100' }] });
    expect(o.telecom).toHaveLength(1);
    const l = team.find((r) => r.resourceType === 'Location')!;
    expect(l).toMatchObject({ name: 'Example Clinic, North Wing', status: 'active', address: { text: '1 Main St, Exampletown' }, managingOrganization: { reference: `care-team/${String(o.id)}`, display: 'Example Clinic' } });
  });

  it('an advance-directive Consent → the advance-directives section (not an alert); other consents kept', () => {
    const ad = { resourceType: 'Consent', id: 'c1', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }] }, category: [cc(LOINC, '75320-2', 'Advance directive')], dateTime: '2020-01-01', provision: { type: 'deny', period: { start: '2020-01-01' } } };
    const byCategory = { resourceType: 'Consent', id: 'c3', status: 'draft', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] }, category: [cc(LOINC, '42348-3', 'Advance directives')], policyRule: { text: 'State law' } };
    const research = { resourceType: 'Consent', id: 'c2', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] }, category: [] };
    const p = plan(bundle('collection', [ad, byCategory, research]));
    expect(sections(p)).toEqual(['advance-directives', 'advance-directives', 'kept:Consent']);
    const [first, second] = bySection(p, 'advance-directives');
    expect(first).toMatchObject({ resourceType: 'Consent', status: 'active', scope: { coding: [{ code: 'adr' }] }, category: [{ text: 'Advance directive' }], dateTime: '2020-01-01', provision: { type: 'deny', period: { start: '2020-01-01' } }, policyRule: { text: 'Advance directive held by the patient' } });
    // Found by its category: its scope becomes adr; its own policy rule is kept.
    expect(second).toMatchObject({ status: 'draft', scope: { coding: [{ code: 'adr' }] }, policyRule: { text: 'State law' } });
    expect(bySection(p, 'alerts')).toEqual([]);
  });

  it("a DiagnosticReport → diagnostic-reports, its results as links to the records they became", () => {
    const lab = (id: string, code: string) => ({ resourceType: 'Observation', id, status: 'final', category: [{ coding: [{ system: OBS_CAT, code: 'laboratory' }] }], code: cc(LOINC, code, code), valueQuantity: { value: 5, unit: 'mmol/L' } });
    const bp = vital('bp1', '29463-7', 70, 'kg');
    const report = { resourceType: 'DiagnosticReport', id: 'r1', status: 'final', code: cc(LOINC, '51990-0', 'Basic metabolic panel'), effectiveDateTime: '2025-02-01', conclusion: 'Normal', result: [{ reference: 'Observation/o1' }, { reference: 'Observation/o2', display: 'Potassium' }, { reference: 'Observation/bp1' }, { reference: 'Observation/elsewhere', display: 'Sodium' }] };
    const p = plan(bundle('collection', [lab('o1', '2345-7'), lab('o2', '2823-3'), bp, report]));
    expect(p.rejected).toEqual([]);
    const [r] = bySection(p, 'diagnostic-reports');
    const idOf = (section: string, sourceId: string) => p.records.find((x) => x.section === section && x.record.imported.sourceId === sourceId)!.record.id;
    expect(r).toMatchObject({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'Basic metabolic panel' }, conclusion: 'Normal' });
    expect(r!.result).toEqual([
      { reference: `lab-results/${idOf('lab-results', 'o1')}` },
      { reference: `lab-results/${idOf('lab-results', 'o2')}`, display: 'Potassium' },
      { reference: `list:vitals/${idOf('list:vitals', 'bp1')}` },
      // A result not in the file keeps its name only.
      { display: 'Sodium' },
    ]);
  });

  it('Claim, ExplanationOfBenefit, Goal, CarePlan, DocumentReference are kept verbatim', () => {
    const kept = ['Claim', 'ExplanationOfBenefit', 'Goal', 'CarePlan', 'DocumentReference'].map((t, i) => ({ resourceType: t, id: `k${i}`, status: 'active' }));
    const p = plan(bundle('collection', kept));
    expect(bySection(p, 'kept').map((r) => r.resource)).toEqual(kept);
  });

  it("a document's empty sections (emptyReason) are understood: the Composition is kept, nothing rejected", () => {
    const composition = { resourceType: 'Composition', id: 'doc', status: 'final', type: cc(LOINC, '60591-5', 'Patient summary Document'), subject: { reference: 'urn:uuid:p' }, date: '2026-01-01', author: [{ display: 'Portal' }], title: 'Patient Summary',
      section: [{ title: 'Allergies', code: cc(LOINC, '48765-2', 'Allergies'), emptyReason: cc('http://terminology.hl7.org/CodeSystem/list-empty-reason', 'nilknown', 'Nil Known') }] };
    const p = plan(bundle('document', [composition, patient()], { fullUrls: (r) => (r.resourceType === 'Patient' ? 'urn:uuid:p' : 'urn:uuid:c') }));
    expect(p.rejected).toEqual([]);
    expect(sections(p)).toEqual(['demographics', 'kept:Composition']);
  });

  it('records carry their source: meta.source of the resource or Bundle, else the file name', () => {
    expect((plan(condition('c1', { subject: undefined }), 'portal-2026.json').records[0]!.record.meta as Json).source).toBe('portal-2026.json');
    const withMeta = bundle('collection', [condition('c1', { subject: undefined }), condition('c2', { subject: undefined, meta: { source: 'https://emr.example.org' } })], { extra: { meta: { source: 'https://portal.example.org' } } });
    expect(plan(withMeta).records.map((r) => (r.record.meta as Json).source)).toEqual(['https://portal.example.org', 'https://emr.example.org']);
  });

  it('identity: the same resource from another source is another record; a business identifier stands in for a missing id', () => {
    const a = plan(condition('c1', { subject: undefined }), 'a.json').records[0]!.record.id;
    const b = plan(condition('c1', { subject: undefined }), 'b.json').records[0]!.record.id;
    expect(a).not.toBe(b);
    const noId = { ...condition('x'), id: undefined, subject: undefined, identifier: [{ system: 'urn:sys', value: 'v1' }] };
    expect(plan(noId).records[0]!.record.imported.key).toBe('export.json|Condition|urn:sys|v1');
    const dup = plan(bundle('collection', [condition('c1', { subject: undefined }), condition('c1', { subject: undefined })]));
    expect(dup.rejected).toEqual([{ index: 1, resourceType: 'Condition', code: 'IMPORT_DUPLICATE' }]);
  });

  it('the Synthea-style bundle maps every resource somewhere and rejects none', () => {
    const b = syntheaBundle(createPrng(3).next, { encounters: 8 });
    const p = plan(b);
    expect(p.rejected).toEqual([]);
    const seen = new Set(sections(p));
    for (const s of ['demographics', 'care-team', 'allergies', 'devices', 'visits', 'list:vitals', 'lab-results', 'kept:ExplanationOfBenefit', 'kept:Claim', 'diagnostic-reports']) expect(seen, s).toContain(s);
  });
});

describe('whole-file refusals', () => {
  it('not JSON, not UTF-8, over the size limit', () => {
    expect(parseImportFile('{"resourceType":').ok).toBe(false);
    const bad = parseImportFile(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(bad.ok ? 'ok' : bad.code).toBe('IMPORT_NOT_JSON');
    const big = parseImportFile(new Uint8Array(MAX_IMPORT_BYTES + 1));
    expect(big.ok ? 'ok' : big.code).toBe('IMPORT_TOO_LARGE');
  });

  it('not FHIR', () => {
    for (const v of [null, 42, 'x', [], {}, { resourceType: 'lowercase' }, { resourceType: 7 }]) expect(refusal(v)).toBe('IMPORT_NOT_FHIR');
  });

  it('another FHIR version', () => {
    expect(refusal({ resourceType: 'MedicationOrder', id: 'x' })).toBe('IMPORT_FHIR_VERSION');
    expect(refusal({ resourceType: 'Encounter', id: 'e', status: 'finished', class: [{ text: 'x' }] })).toBe('IMPORT_FHIR_VERSION');
    expect(refusal(bundle('collection', [{ resourceType: 'MedicationUsage', id: 'x' }]))).toBe('IMPORT_FHIR_VERSION');
    expect(refusal({ resourceType: 'Bundle', type: 'collection', issues: {} })).toBe('IMPORT_FHIR_VERSION');
    expect(refusal({ resourceType: 'CapabilityStatement', fhirVersion: '5.0.0' })).toBe('IMPORT_FHIR_VERSION');
  });

  it('unsupported Bundle types, and more than one patient', () => {
    expect(refusal({ resourceType: 'Bundle', type: 'history', entry: [] })).toBe('IMPORT_UNSUPPORTED_BUNDLE');
    expect(refusal({ resourceType: 'Bundle', entry: [] })).toBe('IMPORT_UNSUPPORTED_BUNDLE');
    expect(refusal(bundle('collection', [patient(), patient({ id: 'pat2' })]))).toBe('IMPORT_MULTIPLE_PATIENTS');
  });

  it('entries that are not resources are rejected one by one', () => {
    const value = { resourceType: 'Bundle', type: 'collection', entry: [7, { resource: 'x' }, { resource: { resourceType: 'Condition', id: 'bad id!' } }, { resource: { id: 'x' } }] };
    expect(plan(value).rejected.map((r) => r.code)).toEqual(['IMPORT_NO_RESOURCE', 'IMPORT_NOT_A_RESOURCE', 'IMPORT_NOT_A_RESOURCE', 'IMPORT_NOT_A_RESOURCE']);
  });
});

describe('patient match', () => {
  it('birth date or normalised family name differing is a mismatch; missing values are not', () => {
    const mine = { name: [{ text: 'Zoë Müller', family: 'Müller' }], birthDate: '1980-04-12' };
    expect(patientMismatch(mine, { name: [{ family: 'MULLER' }], birthDate: '1980-04-12' })).toBe(false);
    expect(patientMismatch(mine, { name: [{ family: 'Muller123' }], birthDate: '1980-04' })).toBe(false);
    expect(patientMismatch(mine, { name: [{ family: 'Miller' }], birthDate: '1980-04-12' })).toBe(true);
    expect(patientMismatch(mine, { name: [{ family: 'Müller' }], birthDate: '1980-04-13' })).toBe(true);
    expect(patientMismatch({ name: [{ text: 'Sam' }] }, { name: [{ family: 'Anyone' }] })).toBe(false);
    expect(patientMismatch(undefined, { birthDate: '2000' })).toBe(false);
  });
});
