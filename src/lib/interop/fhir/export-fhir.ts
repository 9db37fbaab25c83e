/**
 * `export --format fhir`: a FHIR R4 collection Bundle of everything the profile holds
 * (docs/decisions/0030): the Patient, every section's records as resources with the subject
 * filled in, and the resources an import kept verbatim.
 */
import { buildResourceSet } from './export-set.ts';
import { type ExportClock, type ExportSource, type FhirJson } from './export-source.ts';

export function exportFhirCollection(source: ExportSource, clock: ExportClock): FhirJson {
  const bundleId = clock.uuid();
  const set = buildResourceSet(source, clock);
  return {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { lastUpdated: new Date(clock.now()).toISOString() },
    type: 'collection',
    timestamp: new Date(clock.now()).toISOString(),
    entry: set.entries.map((e) => ({ fullUrl: e.fullUrl, resource: e.resource })),
  };
}
