/**
 * One profile record → its FHIR R4 resource(s) (docs/decisions/0030). The records are already
 * FHIR-shaped (docs/decisions/0010), so a mapping mostly adds what the profile leaves implicit:
 * the subject, the record's identity as an identifier, and references rewritten from
 * `<section>/<id>` to the bundle's `urn:uuid:` full URLs. The app-only records (blood group and
 * donor status, dose log, symptom journal) become Observations and MedicationAdministrations.
 */
import {
  ALLERGY_CLINICAL,
  LOINC,
  LOINC_ABO_RH,
  OBSERVATION_CATEGORY,
  PATIENT_HELD_POLICY,
  type BloodAndDonorRecord,
  type DoseLogEntry,
  type SectionName,
  type SymptomJournalEntry,
} from '../../../../crdt-schemas/health/index.ts';
import { MEMBER_KEY_SYSTEM, RECORD_IDENTIFIER_SYSTEM, type FhirJson, type Json } from './export-source.ts';

export interface MappingContext {
  /** The Patient, as every subject/patient reference names it. */
  readonly subject: { readonly reference: string };
  /** The full URL of a record a reference names (`<section>/<id>`), when it is in the bundle. */
  readonly resolve: (reference: string) => string | undefined;
}

/** Where each FHIR resource type names its patient (Practitioner and DocumentReference… differ). */
const SUBJECT_FIELD: Readonly<Record<string, 'subject' | 'patient' | undefined>> = {
  AllergyIntolerance: 'patient',
  Immunization: 'patient',
  Device: 'patient',
  Condition: 'subject',
  MedicationStatement: 'subject',
  MedicationAdministration: 'subject',
  Observation: 'subject',
  Procedure: 'subject',
  Flag: 'subject',
  Encounter: 'subject',
  DocumentReference: 'subject',
  DeviceUseStatement: 'subject',
  DiagnosticReport: 'subject',
  Consent: 'patient',
};

/** Fields of our records that are the vault's own, never FHIR elements (`imported`: an import's bookkeeping, decision 0029). */
const APP_FIELDS = new Set(['id', 'schemaVersion', 'imported']);

const category = (code: 'vital-signs' | 'laboratory' | 'survey') => ({ coding: [{ system: OBSERVATION_CATEGORY, code }] });
const recordIdentifier = (section: string, id: string, part?: string) => ({ system: RECORD_IDENTIFIER_SYSTEM, value: `${section}/${id}${part ? `#${part}` : ''}` });

/** Deep copy with every `reference` rewritten to a bundle URL; a reference that resolves to nothing keeps its display only. */
export function rewriteReferences(value: unknown, ctx: MappingContext): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, ctx));
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) out[k] = rewriteReferences(v, ctx);
  if (typeof out.reference === 'string') {
    const target = ctx.resolve(out.reference);
    if (target) out.reference = target;
    else {
      delete out.reference;
      // A Reference needs some content: a dangling link without a name says so.
      if (out.display === undefined && out.identifier === undefined) out.display = 'unknown';
    }
  }
  return out;
}

/**
 * Deep copy without what FHIR forbids but our loose schemas let through: empty objects, arrays
 * and strings (ele-1: an element has a value or children; an empty Period is a form left blank),
 * a timing with both `timeOfDay` and `when` (tim-10), where the exact times win and the
 * dosage's text still says the rest, and a timing period without its unit (tim-2).
 */
export function fhirClean(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(fhirClean).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const clean = fhirClean(v);
    if (clean !== undefined) out[k] = clean;
  }
  if (out.timeOfDay !== undefined && out.when !== undefined) delete out.when;
  // tim-2: a period without its unit says nothing that can be read; the frequency stays.
  if (out.period !== undefined && out.periodUnit === undefined && typeof out.period === 'number') delete out.period;
  return Object.keys(out).length ? out : undefined;
}

/** A FHIR-shaped record as its resource: app fields dropped, identity kept as an identifier, references resolved, subject set. */
export function fhirShaped(section: SectionName, record: Json, ctx: MappingContext): FhirJson {
  const out: Json = {};
  for (const [k, v] of Object.entries(record)) {
    if (APP_FIELDS.has(k)) continue;
    const clean = fhirClean(rewriteReferences(v, ctx));
    if (clean !== undefined) out[k] = clean;
  }
  const resource = out as FhirJson;
  out.identifier = [...((out.identifier as unknown[] | undefined) ?? []), recordIdentifier(section, String(record.id))];
  const field = SUBJECT_FIELD[resource.resourceType];
  if (field) out[field] = { ...ctx.subject };
  applyInvariants(resource);
  // meta.source is a FHIR uri (no whitespace): an imported file's name may hold spaces.
  const meta = out.meta as { source?: unknown } | undefined;
  if (typeof meta?.source === 'string' && /\s/.test(meta.source)) out.meta = { ...meta, source: encodeURI(meta.source) };
  if (section === 'list:vitals') out.category = withCategory(out.category, category('vital-signs'));
  if (section === 'lab-results') out.category = withCategory(out.category, category('laboratory'));
  return resource;
}

/**
 * FHIR R4 invariants our schemas do not enforce, settled the way the app already reads the record:
 * - ait-1: an allergy without a clinical status is shown as active (src/lib/state/care.ts), so it
 *   is exported as active unless it was entered in error.
 * - ppc-1: a Consent needs a policy or policy rule; an advance directive without one gets a
 *   policy rule saying it is the patient's own (text only: no code is claimed).
 * - con-4: a condition still marked active with an abatement date keeps its status (what the
 *   person chose last); the date moves into a note instead of contradicting it.
 */
function applyInvariants(r: Json): void {
  // ppc-1: a Consent names its policy; an advance directive typed in the app knows none, so it says whose it is.
  if (r.resourceType === 'Consent' && r.policy === undefined && r.policyRule === undefined) r.policyRule = { ...PATIENT_HELD_POLICY };
  const verification = (r.verificationStatus as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;
  if (r.resourceType === 'AllergyIntolerance' && r.clinicalStatus === undefined && verification !== 'entered-in-error') {
    r.clinicalStatus = { coding: [{ system: ALLERGY_CLINICAL, code: 'active' }] };
  }
  if (r.resourceType === 'Condition' && r.abatementDateTime !== undefined) {
    const status = (r.clinicalStatus as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;
    if (!['inactive', 'resolved', 'remission'].includes(status ?? '')) {
      r.note = [...((r.note as unknown[] | undefined) ?? []), { text: `Recorded as abated on ${String(r.abatementDateTime)}` }];
      delete r.abatementDateTime;
    }
  }
}

/** The category list with `wanted` in it (vitals and labs are in their section because of it). */
function withCategory(current: unknown, wanted: { coding: { system: string; code: string }[] }): unknown[] {
  const list = Array.isArray(current) ? current : [];
  const code = wanted.coding[0]!.code;
  const has = list.some((c) => (c as { coding?: { system?: string; code?: string }[] }).coding?.some((x) => x.system === OBSERVATION_CATEGORY && x.code === code));
  return has ? list : [...list, wanted];
}

/** Blood group (LOINC 882-1) and organ donor status, each an Observation. */
export function bloodAndDonor(r: BloodAndDonorRecord, ctx: MappingContext): FhirJson[] {
  const out: FhirJson[] = [];
  const effective = r.recordedDate ? { effectiveDateTime: r.recordedDate } : {};
  const group = r.bloodGroup?.text ?? [r.abo, r.rh === undefined ? undefined : `Rh ${r.rh}`].filter(Boolean).join(' ');
  if (group) {
    out.push({
      resourceType: 'Observation',
      identifier: [recordIdentifier('blood-donor', r.id, 'blood-group')],
      status: 'final',
      category: [category('laboratory')],
      code: { text: 'ABO and Rh group', coding: [{ system: LOINC, code: LOINC_ABO_RH, display: 'ABO and Rh group [Type] in Blood' }] },
      subject: { ...ctx.subject },
      ...effective,
      valueCodeableConcept: { ...(r.bloodGroup?.coding ? { coding: r.bloodGroup.coding } : {}), text: group },
    });
  }
  out.push({
    resourceType: 'Observation',
    identifier: [recordIdentifier('blood-donor', r.id, 'organ-donor')],
    status: 'final',
    code: { text: 'Organ donor status' },
    subject: { ...ctx.subject },
    ...effective,
    valueCodeableConcept: { text: r.organDonor },
    ...(r.organDonorNote ? { note: [{ text: r.organDonorNote }] } : {}),
  });
  return out;
}

/** A logged dose: given (completed) or skipped (not-done), linked to its MedicationStatement when that is in the bundle. */
export function dose(r: DoseLogEntry, ctx: MappingContext): FhirJson {
  const statement = ctx.resolve(`medications/${r.medicationId}`);
  return {
    resourceType: 'MedicationAdministration',
    identifier: [recordIdentifier('list:doses', r.id)],
    status: r.status === 'taken' ? 'completed' : 'not-done',
    ...(r.reason ? { statusReason: [{ text: r.reason }] } : {}),
    medicationCodeableConcept: r.medication,
    subject: { ...ctx.subject },
    effectiveDateTime: r.at,
    performer: [{ actor: { identifier: { system: MEMBER_KEY_SYSTEM, value: r.by } } }],
    ...(statement ? { supportingInformation: [{ reference: statement }] } : {}),
    ...(r.note ? { note: [{ text: r.note }] } : {}),
  };
}

/** A symptom journal entry: the symptom, its severity 0-10, and each trigger as a component. */
export function journal(r: SymptomJournalEntry, ctx: MappingContext): FhirJson {
  return {
    resourceType: 'Observation',
    identifier: [recordIdentifier('list:journal', r.id)],
    status: 'final',
    category: [category('survey')],
    code: r.symptom,
    subject: { ...ctx.subject },
    effectiveDateTime: r.at,
    valueInteger: r.severity,
    ...(r.triggers?.length ? { component: r.triggers.map((t) => ({ code: { text: 'Trigger' }, valueString: t })) } : {}),
    ...(r.notes ? { note: [{ text: r.notes }] } : {}),
  };
}
