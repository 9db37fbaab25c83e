/**
 * `export --format fhir`: a collection Bundle of everything the profile holds, every resource
 * valid against the base R4 structure definitions (@medplum/core), subject references filled
 * in, record references resolved to the bundle's urn:uuid full URLs, kept resources included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SECTION_NAMES } from '../../crdt-schemas/health/index.ts';
import { exportFhirCollection } from '../../src/lib/interop/fhir/export-fhir.ts';
import { RECORD_IDENTIFIER_SYSTEM, type FhirJson } from '../../src/lib/interop/fhir/export-source.ts';
import { createPrng, withSeed } from '../helpers/prng.ts';
import { allReferences, entriesOf, type BundleEntry, fixedClock, generateProfile, indexR4, memorySource, r4Problems, type ProfileData } from './export-helpers.ts';

const FILE = 'tests/interop/export-fhir.test.ts';
const PROFILES = 25;

/** How many resources a section's records become (blood group + donor status: one or two). */
function expectedCount(data: ProfileData): number {
  let n = 1; // the Patient
  for (const s of SECTION_NAMES) {
    if (s === 'demographics' || (s as string) === 'kept') continue;
    for (const r of data[s] ?? []) n += s === 'blood-donor' ? ((r as { bloodGroup?: unknown; abo?: unknown; rh?: unknown }).bloodGroup || (r as { abo?: unknown }).abo || (r as { rh?: unknown }).rh ? 2 : 1) : 1;
  }
  return n;
}

describe('FHIR collection export', () => {
  beforeAll(() => indexR4(), 60_000);

  const name = `${PROFILES} seeded profiles export as valid R4, every record once, every reference resolved`;
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "${name}"`);
      for (let p = 0; p < PROFILES; p++) {
        const data = generateProfile(prng);
        const kept: FhirJson[] = prng.bool() ? [{ resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'walk daily' }, subject: { reference: 'Patient/src-1' } }] : [];
        const bundle = exportFhirCollection(memorySource(data, kept), fixedClock());
        const entries = entriesOf(bundle);
        const keptSection = ((data as Record<string, unknown[]>).kept ?? []).length;
        expect(entries.length, `profile ${p}`).toBe(expectedCount(data) + keptSection + kept.length);
        // Kept resources are verbatim: their validity is their source's (the generator's are bare).
        const ours = entries.filter((e) => (e.resource.identifier as { system?: string }[] | undefined)?.some((i) => i.system === RECORD_IDENTIFIER_SYSTEM));
        expect(ours.length).toBe(expectedCount(data));
        for (const e of ours) expect(r4Problems(e.resource), `profile ${p}: ${e.resource.resourceType}`).toEqual([]);
        expect(r4Problems({ ...bundle, entry: (bundle.entry as BundleEntry[]).filter((e) => ours.includes(e)) }), `profile ${p}: bundle`).toEqual([]);
        const urls = new Set(entries.map((e) => e.fullUrl));
        expect(urls.size).toBe(entries.length);
        for (const u of urls) expect(u).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
        const patient = entries[0]!;
        expect(patient.resource.resourceType).toBe('Patient');
        // Every reference of our own resources resolves; kept ones stay verbatim.
        for (const e of ours) {
          for (const ref of allReferences(e.resource)) expect(urls.has(ref), `profile ${p}: ${ref} in ${e.resource.resourceType}`).toBe(true);
          const subject = (e.resource.subject ?? e.resource.patient) as { reference: string } | undefined;
          if (!['Patient', 'Practitioner', 'Organization', 'Location'].includes(e.resource.resourceType)) expect(subject?.reference).toBe(patient.fullUrl);
          expect(JSON.stringify(e.resource)).not.toContain('schemaVersion');
        }
        for (const k of kept) expect(entries.map((e) => e.resource)).toContainEqual(k);
        // Every record is findable by its identifier (what an import of this export matches on).
        for (const s of SECTION_NAMES) {
          if ((s as string) === 'kept') continue;
          for (const r of data[s] ?? []) {
            const value = s === 'demographics' ? 'demographics/patient' : `${s}/${r.id}`;
            const hit = entries.some((e) => (e.resource.identifier as { system: string; value: string }[] | undefined)?.some((i) => i.system === RECORD_IDENTIFIER_SYSTEM && i.value.split('#')[0] === value));
            expect(hit, `profile ${p}: ${value}`).toBe(true);
          }
        }
      }
    }),
  );

  it('is deterministic given the clock and UUID source', () => {
    const data = generateProfile(createPrng(7));
    expect(JSON.stringify(exportFhirCollection(memorySource(data), fixedClock()))).toBe(JSON.stringify(exportFhirCollection(memorySource(data), fixedClock())));
  });

  it('rewrites a record reference to the named resource, and a dangling one to its display', () => {
    const data: ProfileData = {
      'care-team': [{ id: 'dr_who', schemaVersion: 1, resourceType: 'Practitioner', name: [{ text: 'Dr Who' }] }],
      procedures: [
        { id: 'p1', schemaVersion: 1, resourceType: 'Procedure', status: 'completed', code: { text: 'Appendectomy' }, performer: [{ actor: { reference: 'care-team/dr_who' } }] },
        { id: 'p2', schemaVersion: 1, resourceType: 'Procedure', status: 'completed', code: { text: 'Colonoscopy' }, performer: [{ actor: { reference: 'care-team/gone', display: 'Dr Gone' } }] },
      ],
    };
    const entries = entriesOf(exportFhirCollection(memorySource(data), fixedClock()));
    const doctor = entries.find((e) => e.resource.resourceType === 'Practitioner')!;
    const [p1, p2] = entries.filter((e) => e.resource.resourceType === 'Procedure').map((e) => e.resource);
    expect((p1!.performer as { actor: unknown }[])[0]!.actor).toEqual({ reference: doctor.fullUrl });
    expect((p2!.performer as { actor: unknown }[])[0]!.actor).toEqual({ display: 'Dr Gone' });
    // FHIR ids allow no underscore: ids are the full URL's uuid, the record's id is an identifier.
    expect(doctor.resource.id).toBe(doctor.fullUrl.slice('urn:uuid:'.length));
    expect(doctor.resource.identifier).toEqual([{ system: RECORD_IDENTIFIER_SYSTEM, value: 'care-team/dr_who' }]);
  });

  it('a profile without demographics still has a valid Patient (name marked unknown)', () => {
    const entries = entriesOf(exportFhirCollection(memorySource({}), fixedClock()));
    expect(entries).toHaveLength(1);
    expect(entries[0]!.resource).toMatchObject({ resourceType: 'Patient', name: [{ extension: [{ valueCode: 'unknown' }] }] });
    expect(r4Problems(entries[0]!.resource)).toEqual([]);
  });

  it('maps the app-only logs: a skipped dose is not-done with its reason, a journal entry keeps severity and triggers', () => {
    const by = 'ab'.repeat(32);
    const data: ProfileData = {
      medications: [{ id: 'met', schemaVersion: 1, resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Metformin' } }],
      'list:doses': [{ id: 'd1', schemaVersion: 1, medicationId: 'met', medication: { text: 'Metformin' }, status: 'skipped', by, at: '2026-11-30T08:00:00+01:00', reason: 'nausea' }],
      'list:journal': [{ id: 'j1', schemaVersion: 1, symptom: { text: 'Headache' }, severity: 7, at: '2026-11-30T09:00:00Z', triggers: ['screen', 'coffee'] }],
    };
    const entries = entriesOf(exportFhirCollection(memorySource(data), fixedClock()));
    const statement = entries.find((e) => e.resource.resourceType === 'MedicationStatement')!;
    const admin = entries.find((e) => e.resource.resourceType === 'MedicationAdministration')!.resource;
    expect(admin).toMatchObject({ status: 'not-done', statusReason: [{ text: 'nausea' }], effectiveDateTime: '2026-11-30T08:00:00+01:00', supportingInformation: [{ reference: statement.fullUrl }] });
    const symptom = entries.find((e) => (e.resource.code as { text?: string } | undefined)?.text === 'Headache')!.resource;
    expect(symptom).toMatchObject({ valueInteger: 7, component: [{ valueString: 'screen' }, { valueString: 'coffee' }] });
    for (const e of entries) expect(r4Problems(e.resource)).toEqual([]);
  });

  it("leaves out an import's bookkeeping, keeps meta.source (as a uri), and includes kept resources verbatim", () => {
    const data: ProfileData = {
      alerts: [
        {
          id: 'ad',
          schemaVersion: 1,
          resourceType: 'Flag',
          status: 'active',
          code: { text: 'Advance directive on file' },
          meta: { source: 'my portal export.json' },
          imported: { key: 'x', resourceType: 'Consent', digest: 'a'.repeat(64), recordDigest: 'b'.repeat(64), at: '2026-11-30T08:00:00Z' },
        },
      ],
    };
    const claim: FhirJson = { resourceType: 'Claim', id: 'c-1', status: 'active' };
    const entries = entriesOf(exportFhirCollection(memorySource(data, [claim]), fixedClock()));
    const flag = entries.find((e) => e.resource.resourceType === 'Flag')!.resource;
    expect(flag.imported).toBeUndefined();
    expect(flag.meta).toEqual({ source: 'my%20portal%20export.json' });
    expect(r4Problems(flag)).toEqual([]);
    expect(entries.at(-1)!.resource).toBe(claim);
  });

  it('an imported record keeps its source id as the resource id (once per type); others get the UUID', () => {
    const mark = (sourceId: string) => ({ key: `k-${sourceId}`, resourceType: 'Condition', sourceId, digest: 'a'.repeat(64), recordDigest: 'b'.repeat(64), at: '2026-11-30T08:00:00Z' });
    const status = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' as const }] };
    const data: ProfileData = {
      demographics: [{ id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'P' }], imported: { ...mark('pat-1'), resourceType: 'Patient' } }],
      conditions: [
        { id: 'a', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status, code: { text: 'A' }, imported: mark('c-1') },
        { id: 'b', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status, code: { text: 'B' }, imported: mark('c-1') },
        { id: 'c', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status, code: { text: 'C' }, imported: mark('not_a_fhir_id') },
        { id: 'd', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status, code: { text: 'D' } },
      ],
    };
    const entries = entriesOf(exportFhirCollection(memorySource(data), fixedClock()));
    const uuidOf = (e: { fullUrl: string }) => e.fullUrl.slice('urn:uuid:'.length);
    expect(entries.map((e) => e.resource.id)).toEqual(['pat-1', 'c-1', uuidOf(entries[2]!), uuidOf(entries[3]!), uuidOf(entries[4]!)]);
  });
});
