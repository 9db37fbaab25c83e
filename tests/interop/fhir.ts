/** Small FHIR R4 builders for the import tests (synthetic values only). */
export type Json = Record<string, unknown>;

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';

export const cc = (system: string, code: string, display: string) => ({ coding: [{ system, code, display }], text: display });

export const patient = (o: Json = {}): Json => ({ resourceType: 'Patient', id: 'pat1', name: [{ family: 'Example', given: ['Sam'] }], birthDate: '1980-04-12', gender: 'female', ...o });

export const condition = (id: string, o: Json = {}): Json => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: cc(SNOMED, '38341003', 'Hypertension'),
  subject: { reference: 'Patient/pat1' },
  ...o,
});

export const vital = (id: string, loinc: string, value: number, unit: string, o: Json = {}): Json => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  category: [{ coding: [{ system: OBS_CAT, code: 'vital-signs' }] }],
  code: cc(LOINC, loinc, 'vital'),
  effectiveDateTime: '2024-01-02T10:00:00Z',
  valueQuantity: { value, unit, system: UCUM, code: unit },
  ...o,
});

export const bundle = (type: string, resources: Json[], o: { fullUrls?: (r: Json, i: number) => string | undefined; extra?: Json } = {}): Json => ({
  resourceType: 'Bundle',
  type,
  entry: resources.map((resource, i) => {
    const fullUrl = o.fullUrls?.(resource, i);
    return { ...(fullUrl ? { fullUrl } : {}), resource, ...(type === 'transaction' || type === 'batch' ? { request: { method: 'POST', url: resource.resourceType } } : {}) };
  }),
  ...o.extra,
});
