/**
 * Reading an import file: bytes → JSON → the resources to import, with the index every
 * reference resolves through (docs/decisions/0029). Whole-file problems are returned as a code,
 * never thrown, and never carry anything from the content.
 */
import { arr, isObject, str, type Json } from './import-values.ts';

/** The largest file an import reads (a Synthea patient over decades is a few MB). */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
/** The most entries one import reads. */
export const MAX_IMPORT_RESOURCES = 50_000;

export type ImportFailure =
  | 'IMPORT_NOT_JSON'
  | 'IMPORT_NOT_FHIR'
  | 'IMPORT_FHIR_VERSION'
  | 'IMPORT_TOO_LARGE'
  | 'IMPORT_UNSUPPORTED_BUNDLE'
  | 'IMPORT_MULTIPLE_PATIENTS'
  | 'IMPORT_PATIENT_MISMATCH';

export type EntryProblem = 'IMPORT_NO_RESOURCE' | 'IMPORT_UNSUPPORTED_REQUEST' | 'IMPORT_NOT_A_RESOURCE';

export const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
export const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

/** One resource of the file: its position (the entry index, 0 for a lone resource) and how others refer to it. */
export interface ReadEntry {
  readonly index: number;
  readonly resource: Json;
  readonly fullUrl: string | undefined;
}

export interface ReadFile {
  /** Resources to import (a searchset's `match` entries only). */
  readonly entries: readonly ReadEntry[];
  /** Resources only referred to (a searchset's `include` entries): they resolve references, they are not imported. */
  readonly included: readonly ReadEntry[];
  readonly problems: readonly { index: number; resourceType: string; code: EntryProblem }[];
  /** The Bundle's meta.source, if any. */
  readonly source: string | undefined;
}

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: ImportFailure };

const fail = (code: ImportFailure) => ({ ok: false, code }) as const;
const BUNDLE_TYPES = ['document', 'collection', 'transaction', 'batch', 'searchset'];
/** Entries of a transaction or batch that carry a resource to store. */
const WRITE_METHODS = ['POST', 'PUT'];

/**
 * Resource types that name another FHIR version: R4 has none of them (DSTU2/STU3 names that R4
 * renamed, R5 additions). Shapes R5 changed are checked in `versionOf`.
 */
const NOT_R4_TYPES = new Set([
  'MedicationOrder', 'DeviceUseRequest', 'ProcedureRequest', 'ReferralRequest', 'DiagnosticOrder', 'ProcessRequest', 'ProcessResponse', 'EligibilityRequest', 'EligibilityResponse',
  'MedicationUsage', 'DeviceUsage', 'DeviceDispense', 'Transport', 'ArtifactAssessment', 'InventoryItem', 'InventoryReport', 'FormularyItem', 'GenomicStudy', 'RequestOrchestration',
  'Requirements', 'ActorDefinition', 'ConditionDefinition', 'NutritionIntake', 'NutritionProduct', 'Permission', 'SubscriptionStatus', 'SubscriptionTopic', 'TestPlan',
]);

/** Bytes (or text) to JSON, within the size limit. */
export function parseImportFile(input: Uint8Array | string): Read<unknown> {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > MAX_IMPORT_BYTES) return fail('IMPORT_TOO_LARGE');
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return fail('IMPORT_NOT_JSON');
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // SyntaxError, or a RangeError for absurd nesting: either way not a file we read.
    return fail('IMPORT_NOT_JSON');
  }
}

/** The resources of a parsed file: a Bundle of a supported type, or one resource. */
export function readResources(value: unknown): Read<ReadFile> {
  if (!isObject(value) || typeof value.resourceType !== 'string' || !RESOURCE_TYPE.test(value.resourceType)) return fail('IMPORT_NOT_FHIR');
  if (typeof value.fhirVersion === 'string' && !value.fhirVersion.startsWith('4.0')) return fail('IMPORT_FHIR_VERSION');
  const source = isObject(value.meta) ? str(value.meta.source) : undefined;
  if (value.resourceType !== 'Bundle') {
    if (!isR4(value)) return fail('IMPORT_FHIR_VERSION');
    return { ok: true, value: { entries: [{ index: 0, resource: value, fullUrl: undefined }], included: [], problems: [], source } };
  }
  if ('issues' in value) return fail('IMPORT_FHIR_VERSION'); // Bundle.issues is R5
  if (typeof value.type !== 'string' || !BUNDLE_TYPES.includes(value.type)) return fail('IMPORT_UNSUPPORTED_BUNDLE');
  const raw = arr(value.entry);
  if (raw.length > MAX_IMPORT_RESOURCES) return fail('IMPORT_TOO_LARGE');
  const entries: ReadEntry[] = [];
  const included: ReadEntry[] = [];
  const problems: ReadFile['problems'][number][] = [];
  for (let index = 0; index < raw.length; index++) {
    const e = raw[index];
    const resource = isObject(e) ? e.resource : undefined;
    const typeOf = isObject(resource) && typeof resource.resourceType === 'string' && RESOURCE_TYPE.test(resource.resourceType) ? resource.resourceType : '';
    if (!isObject(e) || resource === undefined) {
      problems.push({ index, resourceType: '', code: 'IMPORT_NO_RESOURCE' });
      continue;
    }
    if (!isObject(resource) || !typeOf || (resource.id !== undefined && (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id)))) {
      problems.push({ index, resourceType: typeOf, code: 'IMPORT_NOT_A_RESOURCE' });
      continue;
    }
    if (!isR4(resource)) return fail('IMPORT_FHIR_VERSION');
    if (value.type === 'transaction' || value.type === 'batch') {
      const method = isObject(e.request) ? e.request.method : undefined;
      if (method !== undefined && !WRITE_METHODS.includes(method as string)) {
        problems.push({ index, resourceType: typeOf, code: 'IMPORT_UNSUPPORTED_REQUEST' });
        continue;
      }
    }
    const entry = { index, resource, fullUrl: str(e.fullUrl) };
    if (value.type === 'searchset') {
      // search.mode: `match` is what was searched for; `include` came along because a match
      // refers to it (resolves references, not imported); `outcome` is the server's own message.
      const mode = isObject(e.search) ? e.search.mode : undefined;
      if (mode === 'include') included.push(entry);
      else if (mode === 'outcome' || typeOf === 'OperationOutcome') continue;
      else entries.push(entry);
      continue;
    }
    entries.push(entry);
  }
  return { ok: true, value: { entries, included, problems, source } };
}

/** Whether a resource is plausibly R4: no type R4 lacks, none of the shapes R5 changed. */
function isR4(r: Json): boolean {
  const type = r.resourceType as string;
  if (NOT_R4_TYPES.has(type)) return false;
  if (type === 'Encounter' && Array.isArray(r.class)) return false; // R5: class is CodeableConcept[]
  if ((type === 'MedicationStatement' || type === 'MedicationRequest') && isObject(r.medication)) return false; // R5: CodeableReference
  if (type === 'MedicationStatement' && 'taken' in r) return false; // STU3
  return true;
}

/** Where references lead: full URLs, Type/id, and each resource's contained resources. */
export class ReferenceIndex {
  private readonly byUrl = new Map<string, ReadEntry>();
  private readonly byTypeId = new Map<string, ReadEntry>();

  constructor(entries: readonly ReadEntry[]) {
    for (const e of entries) {
      if (e.fullUrl !== undefined && !this.byUrl.has(e.fullUrl)) this.byUrl.set(e.fullUrl, e);
      const id = e.resource.id;
      if (typeof id === 'string') {
        const key = `${e.resource.resourceType as string}/${id}`;
        if (!this.byTypeId.has(key)) this.byTypeId.set(key, e);
      }
    }
  }

  /**
   * The resource `ref` names, seen from resource `from`: `found` (a resource of the file, or one
   * contained in `from`), `broken` (it can only be in the file and is not: urn:uuid, `#id`), or
   * `outside` (Type/id or a URL this file does not hold: a server's resource).
   */
  resolve(ref: unknown, from: Json): { kind: 'found'; resource: Json; entry: ReadEntry | undefined } | { kind: 'broken' } | { kind: 'outside' } | { kind: 'none' } {
    if (!isObject(ref) || typeof ref.reference !== 'string') return { kind: 'none' };
    const r = ref.reference;
    if (r.startsWith('#')) {
      const contained = arr(from.contained).find((c) => isObject(c) && c.id === r.slice(1));
      return isObject(contained) ? { kind: 'found', resource: contained, entry: undefined } : { kind: 'broken' };
    }
    const byUrl = this.byUrl.get(r);
    if (byUrl) return { kind: 'found', resource: byUrl.resource, entry: byUrl };
    if (r.startsWith('urn:')) return { kind: 'broken' };
    // Relative Type/id, or an absolute URL ending in Type/id (optionally /_history/v).
    const m = /(?:^|\/)([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/.exec(r);
    const hit = m ? this.byTypeId.get(`${m[1]}/${m[2]}`) : undefined;
    return hit ? { kind: 'found', resource: hit.resource, entry: hit } : { kind: 'outside' };
  }
}
