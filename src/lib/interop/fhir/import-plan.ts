/**
 * A parsed FHIR R4 file → an import plan (docs/decisions/0029): the records each section gains,
 * the resources kept verbatim, the entries rejected with a code, the file's Patient. Pure: no
 * Yjs, no profile; what the profile already holds is compared in import-diff.ts.
 */
import { PATIENT_RECORD_ID } from '../../../../crdt-schemas/health/patient.ts';
import { SECTIONS, validateRecord, type SectionName } from '../../../../crdt-schemas/health/sections.ts';
import type { MapContext, Mapped, RejectCode } from './import-context.ts';
import { digestOf, identityOf, recordIdOf } from './import-identity.ts';
import { mapResource, sectionOf } from './import-map.ts';
import { contactOf, roleAdditions } from './import-map-people.ts';
import { readResources, ReferenceIndex, type EntryProblem, type ImportFailure, type Read, type ReadEntry } from './import-read.ts';
import { isObject, str, type Json } from './import-values.ts';

export interface PlannedRecord {
  readonly index: number;
  readonly resourceType: string;
  readonly section: SectionName;
  /** Validated, with id, schemaVersion, meta.source and the import mark. */
  readonly record: Json & { id: string; imported: Json };
}

export interface Rejected {
  readonly index: number;
  readonly resourceType: string;
  readonly code: RejectCode | EntryProblem | 'IMPORT_DUPLICATE' | 'IMPORT_NOT_A_RESOURCE';
}

export interface ImportPlan {
  /** What the history line names: the Bundle's meta.source, else the file's name. */
  readonly source: string;
  /** Entries read (a searchset's included and outcome entries are not counted). */
  readonly resources: number;
  readonly records: readonly PlannedRecord[];
  readonly rejected: readonly Rejected[];
  /** The file's Patient as a demographics record, if it has one (checked against the profile's person). */
  readonly patient: PlannedRecord | undefined;
}

export interface PlanOptions {
  /** The imported file's name: the source of resources that name none. */
  readonly fileName: string;
  /** When the import runs (the import marks' `at`). */
  readonly now: () => number;
}

const SUBJECT_FIELDS = ['subject', 'patient'] as const;

export function planImport(value: unknown, o: PlanOptions): Read<ImportPlan> {
  const read = readResources(value);
  if (!read.ok) return read;
  const { entries, included, problems } = read.value;
  const fileSource = read.value.source ?? (o.fileName.trim().slice(0, 400) || 'import');
  const all = [...entries, ...included];
  const patients = all.filter((e) => e.resource.resourceType === 'Patient');
  if (new Set(patients.map((p) => identityOf(fileSource, p.resource))).size > 1) return { ok: false, code: 'IMPORT_MULTIPLE_PATIENTS' satisfies ImportFailure };
  const filePatient = patients[0]?.resource;
  const index = new ReferenceIndex(all);
  const sourceOf = (r: Json) => (isObject(r.meta) ? str(r.meta.source)?.slice(0, 400) : undefined) ?? fileSource;
  const keyOf = (r: Json) => identityOf(sourceOf(r), r);

  // What folds into what: Medications into statements, roles into practitioners, related persons into the Patient.
  const folded = new Map<Json, Json[]>();
  const fold = (into: Json, what: Json) => folded.set(into, [...(folded.get(into) ?? []), what]);
  const referencedMedications = new Set<Json>();
  const foldedAway = new Set<Json>();
  for (const { resource: r } of entries) {
    if (r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest') {
      const m = index.resolve(r.medicationReference, r);
      if (m.kind === 'found') referencedMedications.add(m.resource), fold(r, m.resource);
    } else if (r.resourceType === 'PractitionerRole') {
      const p = index.resolve(r.practitioner, r);
      if (p.kind === 'found' && p.entry && p.resource.resourceType === 'Practitioner') fold(p.resource, r), foldedAway.add(r);
    } else if (r.resourceType === 'RelatedPerson' && filePatient && contactOf(r)) {
      fold(filePatient, r), foldedAway.add(r);
    }
  }

  const ctx: MapContext = {
    index,
    recordRef(r) {
      if (r === filePatient) return `demographics/${PATIENT_RECORD_ID}`;
      if (referencedMedications.has(r) || foldedAway.has(r)) return undefined;
      return `${sectionOf(r)}/${recordIdOf(keyOf(r))}`;
    },
    isReferencedMedication: (r) => referencedMedications.has(r),
  };

  const at = new Date(o.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const records: PlannedRecord[] = [];
  const rejected: Rejected[] = [...problems];
  const seen = new Set<string>();
  let patient: PlannedRecord | undefined;
  for (const { index: i, resource: r } of entries) {
    const resourceType = r.resourceType as string;
    const reject = (code: Rejected['code']) => void rejected.push({ index: i, resourceType, code });
    try {
      const key = keyOf(r);
      if (seen.has(key)) {
        reject('IMPORT_DUPLICATE');
        continue;
      }
      seen.add(key);
      const problem = referenceProblem(r, index, filePatient);
      if (problem) {
        reject(problem);
        continue;
      }
      if (foldedAway.has(r)) continue;
      const mapped: Mapped = mapResource(r, ctx);
      if (mapped.kind === 'folded') continue;
      if (mapped.kind === 'reject') {
        reject(mapped.code);
        continue;
      }
      const section: SectionName = mapped.kind === 'record' ? mapped.section : 'kept';
      const body = mapped.kind === 'record' ? withFolded(section, mapped.body, folded.get(r) ?? []) : { resource: r };
      const id = section === 'demographics' ? PATIENT_RECORD_ID : recordIdOf(key);
      const imported = { key: key.slice(0, 600), resourceType, sourceId: typeof r.id === 'string' ? r.id : undefined, digest: digestOf([r, ...(folded.get(r) ?? [])]), recordDigest: '0'.repeat(64), at };
      const v = validateRecord(section, { ...body, id, schemaVersion: SECTIONS[section].schemaVersion, meta: { source: sourceOf(r) }, imported: dropUndefined(imported) });
      if (!v.ok) {
        reject('IMPORT_RESOURCE_INVALID');
        continue;
      }
      const record = v.value as PlannedRecord['record'];
      record.imported = { ...record.imported, recordDigest: recordDigestOf(record) };
      const planned = { index: i, resourceType, section, record };
      if (section === 'demographics') patient = planned;
      records.push(planned);
    } catch {
      // Absurd nesting (a RangeError from a recursive walk) or a shape no check foresaw: this entry only.
      reject('IMPORT_NOT_A_RESOURCE');
    }
  }
  return { ok: true, value: { source: fileSource, resources: entries.length + problems.length, records, rejected: rejected.sort((a, b) => a.index - b.index), patient } };
}

/** The digest a record is compared by: everything but the import mark itself. */
export function recordDigestOf(record: Json): string {
  const { imported: _imported, ...rest } = record;
  return digestOf(rest);
}

function withFolded(section: SectionName, body: Json, extra: Json[]): Json {
  if (extra.length === 0) return body;
  if (section === 'demographics') {
    const contacts = extra.filter((x) => x.resourceType === 'RelatedPerson').map(contactOf).filter((c): c is Json => c !== undefined);
    return { ...body, contact: [...((body.contact as Json[] | undefined) ?? []), ...contacts] };
  }
  if (section === 'care-team') {
    const adds = extra.filter((x) => x.resourceType === 'PractitionerRole').map(roleAdditions);
    const qualification = [...((body.qualification as Json[] | undefined) ?? []), ...adds.flatMap((a) => a.qualification)];
    const telecom = [...((body.telecom as Json[] | undefined) ?? []), ...adds.flatMap((a) => a.telecom)];
    return { ...body, ...(qualification.length > 0 ? { qualification } : {}), ...(telecom.length > 0 ? { telecom } : {}) };
  }
  return body;
}

/**
 * A reference the resource needs that leads nowhere (a urn:uuid or `#id` not in the file), or a
 * subject that is someone other than the file's Patient.
 */
function referenceProblem(r: Json, index: ReferenceIndex, filePatient: Json | undefined): RejectCode | undefined {
  if (r.resourceType !== 'Patient') {
    for (const field of SUBJECT_FIELDS) {
      const target = index.resolve(r[field], r);
      if (target.kind === 'broken') return 'IMPORT_BROKEN_REFERENCE';
      if (filePatient && target.kind === 'outside' && isPatientReference(r[field])) return 'IMPORT_OTHER_PATIENT';
      if (target.kind === 'found' && target.resource.resourceType === 'Patient' && filePatient && target.resource !== filePatient) return 'IMPORT_OTHER_PATIENT';
    }
  }
  return hasBrokenReference(r, r, index, 0) ? 'IMPORT_BROKEN_REFERENCE' : undefined;
}

const isPatientReference = (ref: unknown) => isObject(ref) && typeof ref.reference === 'string' && /(^|\/)Patient\//.test(ref.reference);

/** Walks the resource for in-file references (urn:, #id) that resolve to nothing. */
function hasBrokenReference(v: unknown, from: Json, index: ReferenceIndex, depth: number): boolean {
  if (depth > 64) throw new RangeError('nesting');
  if (Array.isArray(v)) return v.some((x) => hasBrokenReference(x, from, index, depth + 1));
  if (!isObject(v)) return false;
  if (typeof v.reference === 'string' && (v.reference.startsWith('urn:') || v.reference.startsWith('#')) && index.resolve(v, from).kind === 'broken') return true;
  for (const [k, x] of Object.entries(v)) if (k !== 'contained' && typeof x === 'object' && hasBrokenReference(x, from, index, depth + 1)) return true;
  return false;
}

const dropUndefined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export type { ReadEntry };
