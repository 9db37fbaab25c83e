/**
 * Every resource a profile exports, each with its `urn:uuid:` full URL (docs/decisions/0030):
 * the Patient first, then each section's records in section order, then kept resources. Both
 * the `fhir` collection and the IPS document are cut from this one set, so a record maps to
 * FHIR in one place.
 */
import { isSection, SECTION_NAMES, type SectionName } from '../../../../crdt-schemas/health/index.ts';
import { bloodAndDonor, dose, fhirShaped, journal, type MappingContext } from './export-resources.ts';
import { DATA_ABSENT_REASON, RECORD_IDENTIFIER_SYSTEM, urn, type ExportClock, type ExportSource, type FhirJson, type Json } from './export-source.ts';

export interface ExportedEntry {
  /** The section the resource came from; 'kept' for verbatim kept resources. */
  readonly section: SectionName | 'kept';
  readonly recordId: string | undefined;
  readonly fullUrl: string;
  readonly resource: FhirJson;
}

export interface ResourceSet {
  readonly patient: ExportedEntry;
  /** Every entry, the Patient first. */
  readonly entries: readonly ExportedEntry[];
}

/**
 * Sections whose records are mapped to resources here: not demographics (the Patient), and not
 * `kept` (decision 0029: resources kept verbatim, which the source hands over through `kept()`).
 */
const RECORD_SECTIONS = SECTION_NAMES.filter((s) => s !== 'demographics' && (s as string) !== 'kept');

export function buildResourceSet(source: ExportSource, clock: ExportClock): ResourceSet {
  const patientUuid = clock.uuid();
  // Full URLs first, so a record can name one that comes later in the bundle.
  const urls = new Map<string, string>();
  const records = RECORD_SECTIONS.map((section) => ({ section, list: source.list(section) as readonly Json[] }));
  for (const { section, list } of records) for (const r of list) urls.set(`${section}/${String(r.id)}`, urn(clock.uuid()));
  const ctx: MappingContext = {
    subject: { reference: urn(patientUuid) },
    resolve: (reference) => {
      const slash = reference.indexOf('/');
      const section = reference.slice(0, slash);
      // Keyed sections (`care-team/<id>`) and logs (a report's `list:vitals/<id>`, decision 0037).
      return slash > 0 && isSection(section) ? urls.get(reference) : undefined;
    },
  };
  const ids = new SourceIds();
  const demographics = source.list('demographics')[0] as Json | undefined;
  const patient: ExportedEntry = { section: 'demographics', recordId: 'patient', fullUrl: urn(patientUuid), resource: withId(patientResource(demographics, ctx), ids.idFor('Patient', demographics, patientUuid)) };
  const entries: ExportedEntry[] = [patient];
  for (const { section, list } of records) {
    for (const record of list) {
      const recordId = String(record.id);
      const resources = mapRecord(section, record, ctx);
      resources.forEach((resource, i) => {
        // The record's own URL goes to its first resource (what references to it name).
        const fullUrl = i === 0 ? urls.get(`${section}/${recordId}`)! : urn(clock.uuid());
        const uuid = fullUrl.slice('urn:uuid:'.length);
        entries.push({ section, recordId, fullUrl, resource: withId(resource, i === 0 ? ids.idFor(resource.resourceType, record, uuid) : uuid) });
      });
    }
  }
  for (const resource of source.kept?.() ?? []) {
    // Verbatim: kept resources keep their own ids and references (they name their source system's resources).
    entries.push({ section: 'kept', recordId: undefined, fullUrl: urn(clock.uuid()), resource });
  }
  return { patient, entries };
}

function mapRecord(section: SectionName, record: Json, ctx: MappingContext): FhirJson[] {
  switch (section) {
    case 'blood-donor':
      return bloodAndDonor(record as never, ctx);
    case 'list:doses':
      return [dose(record as never, ctx)];
    case 'list:journal':
      return [journal(record as never, ctx)];
    default:
      return [fhirShaped(section, record, ctx)];
  }
}

/** The profile's person; a profile without demographics still has a subject, its name marked unknown. */
function patientResource(record: Json | undefined, ctx: MappingContext): FhirJson {
  if (record) return fhirShaped('demographics', record, ctx);
  return {
    resourceType: 'Patient',
    identifier: [{ system: RECORD_IDENTIFIER_SYSTEM, value: 'demographics/patient' }],
    name: [{ extension: [{ url: DATA_ABSENT_REASON, valueCode: 'unknown' }] }],
  };
}

const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

/**
 * Resource ids: an imported record keeps the id it had in its source (decision 0029's
 * `imported.sourceId`), so import → export returns each resource under its own id; otherwise
 * (typed in the app, or that id already taken for this type in the bundle) the full URL's UUID.
 * Our record ids are not used: they allow `_`, which FHIR ids do not.
 */
class SourceIds {
  private readonly taken = new Set<string>();
  idFor(resourceType: string, record: Json | undefined, uuid: string): string {
    const sourceId = (record?.imported as { sourceId?: unknown } | undefined)?.sourceId;
    const key = `${resourceType}/${String(sourceId)}`;
    if (typeof sourceId !== 'string' || !FHIR_ID.test(sourceId) || this.taken.has(key)) return uuid;
    this.taken.add(key);
    return sourceId;
  }
}

/** The resource with `id` first (the uuid of its full URL), as FHIR writers print it. */
function withId(resource: FhirJson, id: string): FhirJson {
  const { resourceType, id: _drop, ...rest } = resource;
  return { resourceType, id, ...rest };
}
