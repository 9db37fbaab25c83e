/**
 * `vault export --format json|fhir|ips|csv|pdf [--out] [--section]` end to end, as a user runs
 * it: records written with `set`, exports checked with the same validators as the unit tests,
 * files written owner-only, each export audited, and every refusal typed without echoing content.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirJson } from '../../src/lib/interop/fhir/export-source.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from '../cli/run-cli.ts';
import { tempDir } from '../helpers/relay.ts';
import { readCsv } from './csv-reader.ts';
import { entriesOf, indexR4, r4Problems } from './export-helpers.ts';
import { ipsViolations } from './ips-rules.ts';

const CANARY = 'Canary-Penicillin-7731';
const RECORDS: [string, string, object][] = [
  ['demographics', 'patient', { resourceType: 'Patient', name: [{ text: 'Test Person', family: 'Person' }], birthDate: '1970-05-01' }],
  ['allergies', 'pen', { resourceType: 'AllergyIntolerance', code: { text: CANARY }, reaction: [{ manifestation: [{ text: 'Rash' }] }] }],
  ['conditions', 'asthma', { resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Asthma' } }],
  ['medications', 'salb', { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Salbutamol inhaler' }, dosage: [{ text: '2 puffs as needed', asNeededBoolean: true }] }],
  [
    'vitals',
    'bp1',
    {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Blood pressure', coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      effectiveDateTime: '2026-11-01T09:00:00Z',
      component: [
        { code: { text: 'Systolic', coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 128, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        { code: { text: 'Diastolic', coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 82, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      ],
    },
  ],
  ['journal', 'j1', { symptom: { text: 'Wheezing' }, severity: 4, at: '2026-11-02T20:00:00Z' }],
];

describe('vault export formats', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('fhv-export-');
  beforeAll(async () => {
    indexR4();
    await ok(dir.path, 'init');
    await ok(dir.path, 'create', 'mum');
    for (const [section, key, record] of RECORDS) await ok(dir.path, 'set', 'mum', section, key, JSON.stringify(record));
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(() => dir.remove());

  it('json stays the default; fhir is a valid R4 collection of every record', async () => {
    expect(JSON.parse(await ok(dir.path, 'export', 'mum')).allergies.pen).toMatchObject({ resourceType: 'AllergyIntolerance' });
    const bundle = JSON.parse(await ok(dir.path, 'export', 'mum', '--format', 'fhir')) as FhirJson;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const types = entriesOf(bundle).map((e) => e.resource.resourceType);
    expect(types.sort()).toEqual(['AllergyIntolerance', 'Condition', 'MedicationStatement', 'Observation', 'Observation', 'Patient']);
    for (const e of entriesOf(bundle)) expect(r4Problems(e.resource), e.resource.resourceType).toEqual([]);
  });

  it('ips --out writes an owner-only IPS document and says where', async () => {
    const out = join(dir.path, 'summary.json');
    expect(JSON.parse(await ok(dir.path, 'export', 'mum', '--format', 'ips', '--out', out))).toEqual({ files: [out] });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const bundle = JSON.parse(readFileSync(out, 'utf8')) as FhirJson;
    expect(ipsViolations(bundle)).toEqual([]);
    for (const e of entriesOf(bundle)) expect(r4Problems(e.resource), e.resource.resourceType).toEqual([]);
    expect(readFileSync(out, 'utf8')).toContain(CANARY);
  });

  it('csv: one log to stdout with --section, every log into --out DIR', async () => {
    const vitals = readCsv(`${await ok(dir.path, 'export', 'mum', '--format', 'csv', '--section', 'vitals')}\r\n`);
    expect(vitals.slice(1).map((r) => [r[0], r[3], r[4], r[5]])).toEqual([
      ['bp1', 'Systolic', '128', 'mm[Hg]'],
      ['bp1', 'Diastolic', '82', 'mm[Hg]'],
    ]);
    const out = join(dir.path, 'csv');
    const { files } = JSON.parse(await ok(dir.path, 'export', 'mum', '--format', 'csv', '--out', out)) as { files: string[] };
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['vitals.csv', 'labs.csv', 'doses.csv', 'journal.csv']);
    for (const f of files) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readCsv(readFileSync(join(out, 'journal.csv'), 'utf8'))[1]!.slice(0, 5)).toEqual(['j1', '2026-11-02T20:00:00Z', 'Wheezing', '', '4']);
    expect(readCsv(readFileSync(join(out, 'labs.csv'), 'utf8'))).toHaveLength(1);
  });

  it('every export is in the audit trail with its format', async () => {
    const lines = (await ok(dir.path, 'audit', 'mum')).split('\n').map((l) => JSON.parse(l) as { what: string; detail?: string });
    const exports = lines.filter((l) => l.what === 'export').map((l) => l.detail ?? 'json');
    for (const f of ['json', 'fhir', 'ips', 'csv']) expect(exports).toContain(f);
  });

  it('refusals are typed, change nothing and echo no content', async () => {
    const cases: [string[], string, number][] = [
      [['--format', 'pdf'], 'EXPORT_NOT_AVAILABLE', 1],
      [['--format', 'xml'], 'EXPORT_UNKNOWN_FORMAT', 1],
      [['--format', 'csv', '--section', 'allergies'], 'EXPORT_UNKNOWN_LOG', 1],
      [['--format', 'csv'], 'CLI_USAGE', 2],
      [['--format', 'ips', '--section', 'vitals'], 'CLI_USAGE', 2],
      [['--format', 'ips', '--out', join(dir.path, 'no', 'such', 'dir', 'x.json')], 'EXPORT_WRITE_FAILED', 1],
    ];
    for (const [args, code, exit] of cases) {
      const r = await vault(dir.path, ['export', 'mum', ...args]);
      expect([r.code, r.error?.code], args.join(' ')).toEqual([exit, code]);
      expect(r.out, args.join(' ')).toBe('');
      expect(r.err).not.toContain(CANARY);
    }
  });
});
