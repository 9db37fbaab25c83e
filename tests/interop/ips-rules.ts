/**
 * The IPS 2.0 document rules the base R4 validator does not know, as one check returning the
 * broken ones (empty: conforms): Composition first with LOINC 60591-5, the subject Patient
 * present, the required sections, known section codes each once, entries or an emptyReason,
 * a narrative on every section, urn:uuid full URLs, every reference resolving in the bundle.
 */
import { allReferences, entriesOf } from './export-helpers.ts';
import type { FhirJson } from '../../src/lib/interop/fhir/export-source.ts';

const LOINC = 'http://loinc.org';
export const REQUIRED_SECTIONS = ['11450-4', '48765-2', '10160-0'];
/** IPS 2.0 section codes and the resource types their entries may be. */
export const SECTION_ENTRY_TYPES: Readonly<Record<string, readonly string[]>> = {
  '11450-4': ['Condition'],
  '48765-2': ['AllergyIntolerance'],
  '10160-0': ['MedicationStatement', 'MedicationRequest'],
  '11369-6': ['Immunization'],
  '30954-2': ['Observation', 'DiagnosticReport'],
  '8716-3': ['Observation'],
  '47519-4': ['Procedure'],
  '46264-8': ['DeviceUseStatement'],
  '11348-0': ['Condition'],
  '104605-1': ['Flag'],
  '42348-3': ['Consent', 'DocumentReference'],
};

interface Section {
  code?: { coding?: { system?: string; code?: string }[] };
  text?: { status?: string; div?: string };
  entry?: { reference?: string }[];
  emptyReason?: unknown;
}

export function ipsViolations(bundle: FhirJson): string[] {
  const bad: string[] = [];
  const entries = entriesOf(bundle);
  if (bundle.type !== 'document') bad.push('Bundle.type is not document');
  if (!(bundle.identifier as { value?: string } | undefined)?.value) bad.push('Bundle.identifier missing');
  if (typeof bundle.timestamp !== 'string') bad.push('Bundle.timestamp missing');
  const byUrl = new Map(entries.map((e) => [e.fullUrl, e.resource]));
  if (byUrl.size !== entries.length) bad.push('fullUrls not unique');
  for (const e of entries) if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(e.fullUrl)) bad.push(`fullUrl ${e.fullUrl} is not a urn:uuid`);
  const composition = entries[0]?.resource;
  if (composition?.resourceType !== 'Composition') return [...bad, 'first entry is not a Composition'];
  const type = (composition.type as Section['code'])?.coding ?? [];
  if (!type.some((c) => c.system === LOINC && c.code === '60591-5')) bad.push('Composition.type is not LOINC 60591-5');
  const subject = byUrl.get((composition.subject as { reference?: string } | undefined)?.reference ?? '');
  if (subject?.resourceType !== 'Patient') bad.push('Composition.subject does not resolve to a Patient');
  for (const a of (composition.author as { reference?: string }[] | undefined) ?? []) if (!byUrl.has(a.reference ?? '')) bad.push('an author does not resolve');
  const sections = (composition.section as Section[] | undefined) ?? [];
  const codes = sections.map((s) => s.code?.coding?.find((c) => c.system === LOINC)?.code ?? '?');
  for (const r of REQUIRED_SECTIONS) if (!codes.includes(r)) bad.push(`required section ${r} missing`);
  if (new Set(codes).size !== codes.length) bad.push('a section code appears twice');
  sections.forEach((s, i) => {
    const code = codes[i]!;
    const allowed = SECTION_ENTRY_TYPES[code];
    if (!allowed) bad.push(`section ${code} is not an IPS section`);
    if (s.text?.status !== 'generated' || !/^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">[\s\S]*<\/div>$/.test(s.text.div ?? '')) bad.push(`section ${code} has no narrative div`);
    const refs = s.entry ?? [];
    if (refs.length === 0 && !s.emptyReason) bad.push(`section ${code} has neither entries nor an emptyReason`);
    if (refs.length > 0 && s.emptyReason) bad.push(`section ${code} has entries and an emptyReason`);
    for (const ref of refs) {
      const target = byUrl.get(ref.reference ?? '');
      if (!target) bad.push(`section ${code} entry ${ref.reference} does not resolve`);
      else if (allowed && !allowed.includes(target.resourceType)) bad.push(`section ${code} holds a ${target.resourceType}`);
    }
  });
  for (const e of entries) for (const ref of allReferences(e.resource)) if (!byUrl.has(ref)) bad.push(`${e.resource.resourceType} names ${ref}, not in the bundle`);
  return bad;
}
