/**
 * Decision 0037's mappings through a real profile: organizations and locations in the care team,
 * advance directives in their own section (and the IPS's), diagnostic reports linking their
 * results; each idempotent, and each surviving import → export fhir → import again unchanged.
 * A seeded property test imports a random subset of a bundle in a random order twice: the second
 * import changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { exportDocument, type FhirJson } from '../../src/lib/vault/export.ts';
import { importFhir, type ImportReport } from '../../src/lib/vault/fhir-import.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { withSeed } from '../helpers/prng.ts';
import { entriesOf } from './export-helpers.ts';
import { bundle, cc, LOINC, OBS_CAT, patient, vital, type Json } from './fhir.ts';
import { syntheaBundle } from './synthea.ts';

const FILE = 'tests/interop/import-mappings-0037.test.ts';
const cleanups = cleanupList();
let clock = Date.parse('2026-12-01T10:00:00Z');
const now = () => (clock += 1000);

async function fresh(): Promise<Profile> {
  const p = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), now });
  cleanups.push(() => p.close());
  return p;
}
const run = (p: Profile, v: unknown, fileName = 'portal.json'): Promise<ImportReport> => importFhir(p, JSON.stringify(v), { fileName, now });
const snapshot = (p: Profile) => JSON.stringify(p.toJSON());

const org = (o: Json = {}): Json => ({ resourceType: 'Organization', id: 'org1', name: 'Riverside Family Practice', type: [cc('http://terminology.hl7.org/CodeSystem/organization-type', 'prov', 'Healthcare Provider')], telecom: [{ system: 'phone', value: '555-0100', use: 'work' }], address: [{ line: ['2 River Rd'], city: 'Exampletown' }], ...o });
const site: Json = { resourceType: 'Location', id: 'loc1', status: 'active', name: 'Riverside, North Wing', address: { line: ['2 River Rd'], city: 'Exampletown' }, managingOrganization: { reference: 'Organization/org1' } };
const directive = (o: Json = {}): Json => ({ resourceType: 'Consent', id: 'ad1', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }] }, category: [cc(LOINC, '75320-2', 'Advance directive')], patient: { reference: 'Patient/pat1' }, dateTime: '2021-03-04', policyRule: { text: 'Living will act' }, provision: { type: 'deny', period: { start: '2021-03-04' } }, ...o });
const lab = (id: string, code: string, value: number): Json => ({ resourceType: 'Observation', id, status: 'final', category: [{ coding: [{ system: OBS_CAT, code: 'laboratory' }] }], code: cc(LOINC, code, code), subject: { reference: 'Patient/pat1' }, effectiveDateTime: '2025-02-01T09:00:00Z', valueQuantity: { value, unit: 'mmol/L' } });
const report: Json = { resourceType: 'DiagnosticReport', id: 'rep1', status: 'final', category: [cc('http://terminology.hl7.org/CodeSystem/v2-0074', 'LAB', 'Laboratory')], code: cc(LOINC, '51990-0', 'Basic metabolic panel'), subject: { reference: 'Patient/pat1' }, effectiveDateTime: '2025-02-01T09:00:00Z', conclusion: 'Within normal limits', result: [{ reference: 'Observation/na' }, { reference: 'Observation/k' }, { reference: 'Observation/w' }] };
const visit: Json = { resourceType: 'Encounter', id: 'enc1', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, type: [{ text: 'Check-up' }], subject: { reference: 'Patient/pat1' }, period: { start: '2025-02-01T09:00:00Z' }, serviceProvider: { reference: 'Organization/org1' }, location: [{ location: { reference: 'Location/loc1' } }] };
const file = (o: { org?: Json; directive?: Json } = {}): Json =>
  bundle('collection', [patient(), org(o.org), site, directive(o.directive), lab('na', '2951-2', 140), lab('k', '2823-3', 4.1), vital('w', '29463-7', 70, 'kg', { subject: { reference: 'Patient/pat1' } }), report, visit]);

const ofType = (b: FhirJson, type: string) => entriesOf(b).filter((e) => e.resource.resourceType === type);

describe('decision 0037 mappings in a profile', () => {
  it('organizations and locations join the care team; same identity unchanged, changed → a new version in history', async () => {
    const p = await fresh();
    const first = await run(p, file());
    expect(first.rejected).toEqual([]);
    expect(first.records).toMatchObject({ 'care-team': 2, 'advance-directives': 1, 'diagnostic-reports': 1, 'lab-results': 2, 'list:vitals': 1, visits: 1 });
    expect(first.kept).toEqual({});
    const team = p.records.list('care-team');
    const o = team.find((r) => r.resourceType === 'Organization')!;
    const l = team.find((r) => r.resourceType === 'Location')!;
    expect(l).toMatchObject({ managingOrganization: { reference: `care-team/${o.id}` } });
    // The visit names its provider and site in the care team.
    expect(p.records.list('visits')[0]).toMatchObject({ serviceProvider: { reference: `care-team/${o.id}` }, location: [{ location: { reference: `care-team/${l.id}` } }] });

    const before = snapshot(p);
    expect(await run(p, file())).toMatchObject({ records: {}, kept: {}, conflicts: 0 });
    expect(snapshot(p)).toBe(before);

    const renamed = await run(p, file({ org: { name: 'Riverside Health Centre' } }));
    expect(renamed.records).toEqual({ 'care-team': 1 });
    expect(p.records.get('care-team', o.id)).toMatchObject({ resourceType: 'Organization', name: 'Riverside Health Centre' });
    expect(p.records.history('care-team', o.id).map((h) => h.action)).toEqual(['edit']);
  });

  it('a diagnostic report links its results; the links resolve after import and come back as DiagnosticReport.result', async () => {
    const p = await fresh();
    await run(p, file());
    const [rep] = p.records.list('diagnostic-reports');
    const refs = rep!.result!.map((r) => r.reference!);
    expect(refs.map((r) => r.split('/')[0])).toEqual(['lab-results', 'lab-results', 'list:vitals']);
    // Every link names a record the profile holds.
    for (const ref of refs) {
      const [section, id] = [ref.slice(0, ref.indexOf('/')), ref.slice(ref.indexOf('/') + 1)];
      expect(p.records.get(section as 'lab-results', id), ref).toBeDefined();
    }
    const exported = await exportDocument(p, 'fhir', { now });
    const [report] = ofType(exported, 'DiagnosticReport');
    expect(report!.resource.id).toBe('rep1');
    const urlOf = new Map(entriesOf(exported).map((e) => [e.fullUrl, e.resource]));
    const results = (report!.resource.result as { reference: string }[]).map((r) => urlOf.get(r.reference));
    expect(results.map((r) => `${String(r?.resourceType)}/${String(r?.id)}`)).toEqual(['Observation/na', 'Observation/k', 'Observation/w']);
  });

  it('an advance directive is a Consent record, in the IPS section 42348-3 and the FHIR export; none in force, no section', async () => {
    const p = await fresh();
    await run(p, file());
    expect(p.records.list('alerts')).toEqual([]);
    expect(p.records.list('advance-directives')).toEqual([expect.objectContaining({ resourceType: 'Consent', status: 'active', dateTime: '2021-03-04', policyRule: { text: 'Living will act' } })]);
    const fhir = await exportDocument(p, 'fhir', { now });
    const [consent] = ofType(fhir, 'Consent');
    expect(consent!.resource).toMatchObject({ id: 'ad1', status: 'active', scope: { coding: [{ code: 'adr' }] }, patient: { reference: entriesOf(fhir)[0]!.fullUrl } });
    const ips = await exportDocument(p, 'ips', { now });
    type Section = { code: { coding: { code: string }[] }; entry?: { reference: string }[]; text: { div: string } };
    const sections = entriesOf(ips)[0]!.resource.section as Section[];
    const ad = sections.find((s) => s.code.coding[0]!.code === '42348-3');
    expect(ad?.entry).toHaveLength(1);
    expect(ofType(ips, 'Consent').map((e) => e.fullUrl)).toEqual([ad!.entry![0]!.reference]);
    expect(ad!.text.div).toContain('Advance directive');

    const q = await fresh();
    await run(q, file({ directive: { status: 'inactive' } }));
    const none = (entriesOf(await exportDocument(q, 'ips', { now }))[0]!.resource.section as Section[]).find((s) => s.code.coding[0]!.code === '42348-3');
    expect(none).toBeUndefined();
  });

  it('import → export fhir → import again: unchanged, for every new mapping; the original file again: unchanged', async () => {
    const p = await fresh();
    await run(p, file());
    const before = snapshot(p);
    const exported = await exportDocument(p, 'fhir', { now });
    for (const type of ['Organization', 'Location', 'Consent', 'DiagnosticReport']) expect(ofType(exported, type), type).toHaveLength(1);
    const back = await run(p, exported, 'export.json');
    expect(back).toMatchObject({ records: {}, kept: {}, rejected: [], conflicts: 0 });
    expect(back.unchanged).toBe(back.resources);
    expect(snapshot(p)).toBe(before);
    expect(await run(p, file())).toMatchObject({ records: {}, kept: {}, conflicts: 0 });
    expect(snapshot(p)).toBe(before);
  });
});

describe('idempotence under reordering', () => {
  const name = 'a random subset of a bundle in a random order, imported twice: the second import changes nothing';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "${name}"`);
      for (let round = 0; round < 4; round++) {
        const source = syntheaBundle(prng.next, { encounters: prng.int(1, 4) });
        // Synthea's resources plus this file's new kinds, naming Synthea's patient.
        const patientUrl = String((source.entry as Json[]).find((e) => (e.resource as Json).resourceType === 'Patient')!.fullUrl);
        const extra = JSON.parse(JSON.stringify((file().entry as Json[]).filter((e) => (e.resource as Json).resourceType !== 'Patient')).replaceAll('"Patient/pat1"', JSON.stringify(patientUrl))) as Json[];
        const entries = prng.shuffled([...(source.entry as Json[]), ...extra].filter(() => prng.bool(0.7)));
        const shuffled = { ...source, type: 'collection', entry: entries.map((e) => ({ fullUrl: e.fullUrl, resource: e.resource })) };
        const p = await fresh();
        const first = await importFhir(p, JSON.stringify(shuffled), { fileName: 'shuffled.json', now, force: true });
        const state = snapshot(p);
        const second = await importFhir(p, JSON.stringify(shuffled), { fileName: 'shuffled.json', now, force: true });
        expect(second, `round ${round}`).toMatchObject({ records: {}, kept: {}, conflicts: 0, rejected: first.rejected });
        expect(second.unchanged, `round ${round}`).toBe(Object.values(first.records).reduce((a, n) => a + n, 0) + Object.values(first.kept).reduce((a, n) => a + n, 0));
        expect(snapshot(p), `round ${round}`).toBe(state);
      }
    }),
  );
});
