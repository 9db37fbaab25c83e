/**
 * `export --format ips`: an IPS 2.0 document Bundle. Every resource valid against the base R4
 * structure definitions (@medplum/core), and the IPS rules (ips-rules.ts) checked on seeded
 * profiles, on an empty one, and on the choices the export makes (active vs past problems,
 * entered-in-error left out, the latest vital of each kind, narrative escaped).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FhirJson } from '../../src/lib/interop/fhir/export-source.ts';
import { exportIps } from '../../src/lib/interop/fhir/ips-export.ts';
import { createPrng, withSeed } from '../helpers/prng.ts';
import { entriesOf, fixedClock, generateProfile, indexR4, memorySource, r4Problems, type ProfileData } from './export-helpers.ts';
import { ipsViolations, REQUIRED_SECTIONS } from './ips-rules.ts';

const FILE = 'tests/interop/ips-export.test.ts';
const PROFILES = 25;

type Section = { code: { coding: { code: string }[] }; entry?: { reference: string }[]; emptyReason?: unknown; text: { div: string } };
const sectionsOf = (bundle: ReturnType<typeof exportIps>) => (entriesOf(bundle)[0]!.resource.section as Section[]);
const sectionByCode = (bundle: ReturnType<typeof exportIps>, code: string) => sectionsOf(bundle).find((s) => s.code.coding[0]!.code === code);

describe('IPS export', () => {
  beforeAll(() => indexR4(), 60_000);

  const name = `${PROFILES} seeded profiles give IPS documents: valid R4, IPS rules kept`;
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "${name}"`);
      for (let p = 0; p < PROFILES; p++) {
        const bundle = exportIps(memorySource(generateProfile(prng)), fixedClock());
        expect(ipsViolations(bundle), `profile ${p}`).toEqual([]);
        expect(r4Problems(bundle), `profile ${p}: bundle`).toEqual([]);
        for (const e of entriesOf(bundle)) expect(r4Problems(e.resource), `profile ${p}: ${e.resource.resourceType}`).toEqual([]);
      }
    }),
  );

  it('an empty profile: the three required sections, each with an emptyReason and a narrative saying so', () => {
    const bundle = exportIps(memorySource({}), fixedClock());
    expect(ipsViolations(bundle)).toEqual([]);
    expect(sectionsOf(bundle).map((s) => s.code.coding[0]!.code)).toEqual(REQUIRED_SECTIONS);
    for (const s of sectionsOf(bundle)) {
      expect(s.entry).toBeUndefined();
      expect(s.emptyReason).toEqual({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }] });
      expect(s.text.div).toContain('No information available.');
    }
    // Composition, Patient, author Device.
    expect(entriesOf(bundle).map((e) => e.resource.resourceType)).toEqual(['Composition', 'Patient', 'Device']);
    for (const e of entriesOf(bundle)) expect(r4Problems(e.resource)).toEqual([]);
  });

  it('is deterministic given the clock and UUID source; timestamp and date are the clock', () => {
    const data = generateProfile(createPrng(11));
    const a = exportIps(memorySource(data), fixedClock(Date.UTC(2026, 0, 2, 3, 4, 5)));
    expect(JSON.stringify(a)).toBe(JSON.stringify(exportIps(memorySource(data), fixedClock(Date.UTC(2026, 0, 2, 3, 4, 5)))));
    expect(a.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(entriesOf(a)[0]!.resource.date).toBe('2026-01-02T03:04:05.000Z');
  });

  it('active problems under Problems, the rest under Past illness; entered-in-error left out', () => {
    const status = <const C extends 'active' | 'resolved'>(code: C) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
    const data: ProfileData = {
      conditions: [
        { id: 'a', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status('active'), code: { text: 'Asthma' } },
        { id: 'b', schemaVersion: 1, resourceType: 'Condition', clinicalStatus: status('resolved'), code: { text: 'Measles' } },
        {
          id: 'c',
          schemaVersion: 1,
          resourceType: 'Condition',
          clinicalStatus: status('active'),
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] },
          code: { text: 'Typo' },
        },
      ],
    };
    const bundle = exportIps(memorySource(data), fixedClock());
    expect(ipsViolations(bundle)).toEqual([]);
    const textOf = (ref: string) => (entriesOf(bundle).find((e) => e.fullUrl === ref)!.resource.code as { text: string }).text;
    expect(sectionByCode(bundle, '11450-4')!.entry!.map((e) => textOf(e.reference))).toEqual(['Asthma']);
    expect(sectionByCode(bundle, '11348-0')!.entry!.map((e) => textOf(e.reference))).toEqual(['Measles']);
    expect(JSON.stringify(bundle)).not.toContain('Typo');
  });

  it('vital signs: the latest reading of each kind, across time zones', () => {
    const weight = (id: string, at: string, value: number) => ({
      id,
      schemaVersion: 1,
      resourceType: 'Observation' as const,
      status: 'final' as const,
      code: { text: 'Body weight', coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      effectiveDateTime: at,
      valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org' as const, code: 'kg' },
    });
    // 10:00+05:30 is 04:30Z, earlier than 05:00Z: the second reading is the latest.
    const data: ProfileData = { 'list:vitals': [weight('w1', '2026-11-01T10:00:00+05:30', 70), weight('w2', '2026-11-01T05:00:00Z', 71), weight('w0', '2025', 90)] };
    const bundle = exportIps(memorySource(data), fixedClock());
    const refs = sectionByCode(bundle, '8716-3')!.entry!;
    expect(refs).toHaveLength(1);
    expect(entriesOf(bundle).find((e) => e.fullUrl === refs[0]!.reference)!.resource.valueQuantity).toMatchObject({ value: 71 });
  });

  it('what IPS requires and the record does not know is marked unknown (data-absent-reason), not guessed', () => {
    const data: ProfileData = {
      demographics: [{ id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'No Birthday' }] }],
      medications: [{ id: 'm', schemaVersion: 1, resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Aspirin' } }],
      'lab-results': [{ id: 'l', schemaVersion: 1, resourceType: 'Observation', status: 'final', code: { text: 'TSH' }, valueString: 'normal' }],
    };
    const bundle = exportIps(memorySource(data), fixedClock());
    const absent = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    const byType = (t: string) => entriesOf(bundle).find((e) => e.resource.resourceType === t)!.resource;
    expect(byType('Patient')._birthDate).toEqual(absent);
    expect(byType('MedicationStatement')._effectiveDateTime).toEqual(absent);
    expect(byType('Observation')._effectiveDateTime).toEqual(absent);
    for (const e of entriesOf(bundle)) expect(r4Problems(e.resource)).toEqual([]);
  });

  it('devices appear as DeviceUseStatements naming their Device, which is in the bundle', () => {
    const data: ProfileData = { devices: [{ id: 'pm', schemaVersion: 1, resourceType: 'Device', status: 'active', type: { text: 'Cardiac pacemaker' } }] };
    const bundle = exportIps(memorySource(data), fixedClock());
    expect(ipsViolations(bundle)).toEqual([]);
    const use = entriesOf(bundle).find((e) => e.fullUrl === sectionByCode(bundle, '46264-8')!.entry![0]!.reference)!.resource;
    expect(use).toMatchObject({ resourceType: 'DeviceUseStatement', status: 'active' });
    const device = entriesOf(bundle).find((e) => e.fullUrl === (use.device as { reference: string }).reference)!.resource;
    expect(device).toMatchObject({ resourceType: 'Device', type: { text: 'Cardiac pacemaker' } });
    for (const e of entriesOf(bundle)) expect(r4Problems(e.resource)).toEqual([]);
  });

  it('narrative escapes what a record holds: markup in a name stays text', () => {
    const evil = `<script>alert("x")</script> & 'quotes'`;
    const data: ProfileData = { allergies: [{ id: 'x', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: evil } }] };
    const div = sectionByCode(exportIps(memorySource(data), fixedClock()), '48765-2')!.text.div;
    expect(div).not.toContain('<script');
    expect(div).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
    // Only the div and list markup remain as tags.
    expect(div.match(/<[^>]+>/g)).toEqual(['<div xmlns="http://www.w3.org/1999/xhtml">', '<ul>', '<li>', '</li>', '</ul>', '</div>']);
  });
});

describe('the IPS rule check itself', () => {
  it('catches what it must: a missing required section, a dangling reference, Composition not first, no narrative', () => {
    const good = () => exportIps(memorySource(generateProfile(createPrng(5))), fixedClock()) as FhirJson & { entry: { fullUrl: string; resource: Record<string, unknown> }[] };
    const noProblems = good();
    (noProblems.entry[0]!.resource.section as unknown[]).shift();
    expect(ipsViolations(noProblems)).toContain('required section 11450-4 missing');
    const dangling = good();
    dangling.entry[0]!.resource.subject = { reference: 'urn:uuid:99999999-0000-4000-8000-000000000000' };
    expect(ipsViolations(dangling)).toContain('Composition.subject does not resolve to a Patient');
    const swapped = good();
    swapped.entry.reverse();
    expect(ipsViolations(swapped)).toContain('first entry is not a Composition');
    const mute = good();
    delete (mute.entry[0]!.resource.section as { text?: unknown }[])[0]!.text;
    expect(ipsViolations(mute)).toContain('section 11450-4 has no narrative div');
    const both = good();
    (both.entry[0]!.resource.section as { entry?: unknown; emptyReason?: unknown }[])[0]!.entry = undefined;
    (both.entry[0]!.resource.section as { entry?: unknown; emptyReason?: unknown }[])[0]!.emptyReason = undefined;
    expect(ipsViolations(both)).toContain('section 11450-4 has neither entries nor an emptyReason');
  });
});
