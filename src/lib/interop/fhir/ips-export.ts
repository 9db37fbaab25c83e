/**
 * `export --format ips`: an HL7 International Patient Summary (IPS 2.0) document Bundle on FHIR
 * 4.0.1 (docs/decisions/0030). The Composition comes first (LOINC 60591-5), then the subject
 * Patient and the app as author Device; the required sections (problems, allergies,
 * medications) are always there, with entries or an emptyReason; the others only when the
 * profile has data for them. Every section has a narrative, every full URL is a `urn:uuid:`, and
 * every reference resolves inside the bundle (what a section names is added, and what that names).
 * Checked in the tests against the base R4 definitions and the IPS document rules; the IPS
 * profiles' own element rules are met where the record allows (withIpsRequired), not validated.
 */
import { LOINC } from '../../../../crdt-schemas/health/index.ts';
import { buildResourceSet, type ExportedEntry } from './export-set.ts';
import { DATA_ABSENT_REASON, urn, type ExportClock, type ExportSource, type FhirJson, type Json } from './export-source.ts';
import { sectionNarrative, summaryOf } from './ips-narrative.ts';
import { IPS_SECTIONS } from './ips-sections.ts';

export const IPS_DOCUMENT_CODE = { system: LOINC, code: '60591-5', display: 'Patient summary Document' } as const;
export const LIST_EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';
export const APP_NAME = 'Family Health Vault';

interface Entry {
  readonly fullUrl: string;
  readonly resource: FhirJson;
}

export function exportIps(source: ExportSource, clock: ExportClock): FhirJson {
  const bundleUuid = clock.uuid();
  const compositionUuid = clock.uuid();
  const authorUuid = clock.uuid();
  const set = buildResourceSet(source, clock);
  const now = new Date(clock.now()).toISOString();
  const author: Entry = {
    fullUrl: urn(authorUuid),
    resource: { resourceType: 'Device', id: authorUuid, deviceName: [{ name: APP_NAME, type: 'user-friendly-name' }] },
  };
  const subject = { reference: set.patient.fullUrl };
  const included: Entry[] = [set.patient, author];
  const sections: Json[] = [];
  for (const spec of IPS_SECTIONS) {
    let entries: Entry[] = spec.pick(set.entries);
    // IPS lists devices as statements of use, each naming its Device.
    if (spec.key === 'devices') entries = spec.pick(set.entries).map((device) => deviceUse(device, subject, clock.uuid()));
    if (entries.length === 0 && !spec.required) continue;
    included.push(...entries);
    sections.push({
      title: spec.title,
      code: { coding: [{ system: LOINC, code: spec.code, display: spec.display }] },
      text: sectionNarrative(
        entries.map((e) => summaryOf(e.resource)),
        'No information available.',
      ),
      ...(entries.length > 0
        ? { entry: entries.map((e) => ({ reference: e.fullUrl })) }
        : { emptyReason: { coding: [{ system: LIST_EMPTY_REASON, code: 'unavailable', display: 'Unavailable' }] } }),
    });
  }
  const composition: Entry = {
    fullUrl: urn(compositionUuid),
    resource: {
      resourceType: 'Composition',
      id: compositionUuid,
      status: 'final',
      type: { coding: [{ ...IPS_DOCUMENT_CODE }] },
      subject,
      date: now,
      author: [{ reference: author.fullUrl }],
      title: 'International Patient Summary',
      section: sections,
    },
  };
  const entries = closeOverReferences([composition, ...included], set.entries);
  return {
    resourceType: 'Bundle',
    id: bundleUuid,
    identifier: { system: 'urn:ietf:rfc:3986', value: urn(bundleUuid) },
    type: 'document',
    timestamp: now,
    entry: entries.map((e) => ({ fullUrl: e.fullUrl, resource: withIpsRequired(e.resource) })),
  };
}

const ABSENT = { extension: [{ url: DATA_ABSENT_REASON, valueCode: 'unknown' }] };

/**
 * Elements the IPS profiles require but a family's record may not know: the Patient's birth
 * date, when a medication was taken, when a result or vital was measured. Marked unknown with
 * the data-absent-reason extension (as IPS itself allows), not guessed.
 */
function withIpsRequired(r: FhirJson): FhirJson {
  const has = (...keys: string[]) => keys.some((k) => r[k] !== undefined);
  if (r.resourceType === 'Patient' && !has('birthDate', '_birthDate')) return { ...r, _birthDate: ABSENT };
  if ((r.resourceType === 'MedicationStatement' || r.resourceType === 'Observation') && !has('effectiveDateTime', 'effectivePeriod', 'effectiveInstant', 'effectiveTiming', '_effectiveDateTime')) {
    return { ...r, _effectiveDateTime: ABSENT };
  }
  return r;
}

function deviceUse(device: ExportedEntry, subject: { reference: string }, uuid: string): Entry {
  const type = device.resource.type as { text: string };
  return {
    fullUrl: urn(uuid),
    resource: {
      resourceType: 'DeviceUseStatement',
      id: uuid,
      status: device.resource.status === 'inactive' ? 'completed' : 'active',
      subject: { ...subject },
      device: { reference: device.fullUrl, display: type.text },
    },
  };
}

/** `start`, then every exported resource they reference (transitively), each once, in first-reference order. */
function closeOverReferences(start: readonly Entry[], pool: readonly ExportedEntry[]): Entry[] {
  const byUrl = new Map<string, Entry>(pool.map((e) => [e.fullUrl, e]));
  const out: Entry[] = [];
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const e = queue.shift()!;
    if (seen.has(e.fullUrl)) continue;
    seen.add(e.fullUrl);
    out.push(e);
    for (const ref of referencesIn(e.resource)) {
      const target = byUrl.get(ref);
      if (target && !seen.has(ref)) queue.push(target);
    }
  }
  return out;
}

/** Every `reference` string inside a resource. */
export function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}
