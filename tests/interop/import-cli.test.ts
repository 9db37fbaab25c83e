/**
 * `vault import <alias> <file.json> [--force]` end to end, as a user runs it: one JSON line of
 * counts; a second import reports everything unchanged; refusals are one typed error line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, ok, vault } from '../cli/run-cli.ts';

const FIXTURE = new URL('../fixtures/fhir/synthea-style-transaction.json', import.meta.url).pathname;

describe('CLI import', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('fhv-import-');
  beforeAll(async () => {
    await ok(dir.path, 'init');
    await ok(dir.path, 'create', 'me');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(() => dir.remove());

  it('prints exactly one JSON line of counts; the same file again is all unchanged', async () => {
    const out = await ok(dir.path, 'import', 'me', FIXTURE);
    expect(out.split('\n')).toHaveLength(1);
    const first = JSON.parse(out) as { resources: number; records: Record<string, number>; unchanged: number; kept: Record<string, number>; rejected: unknown[] };
    expect(Object.keys(first)).toEqual(['resources', 'records', 'unchanged', 'kept', 'rejected']);
    expect(first.rejected).toEqual([]);
    expect(first.unchanged).toBe(0);
    // The care team: the practitioner and the organization (decision 0037); reports group their results.
    expect(first.records).toMatchObject({ demographics: 1, visits: 5, 'list:vitals': 20, 'lab-results': 20, 'diagnostic-reports': 5, 'care-team': 2, allergies: 1, devices: 1 });
    expect(first.kept).toMatchObject({ Claim: 5, ExplanationOfBenefit: 5, CarePlan: 1, Goal: 1 });
    expect(first.kept).not.toHaveProperty('Organization');
    expect(first.kept).not.toHaveProperty('DiagnosticReport');
    const written = [...Object.values(first.records), ...Object.values(first.kept)].reduce((a, n) => a + n, 0);
    const again = JSON.parse(await ok(dir.path, 'import', 'me', FIXTURE)) as typeof first;
    expect(again).toEqual({ resources: first.resources, records: {}, unchanged: written, kept: {}, rejected: [] });
    const visits = JSON.parse(await ok(dir.path, 'get', 'me', 'visits')) as { meta: { source: string } }[];
    expect(visits).toHaveLength(5);
    expect(visits.every((v) => v.meta.source === 'synthea-style-transaction.json')).toBe(true);
  });

  it('refuses another person without --force, imports with it; bad files are one typed error line', async () => {
    const other = join(dir.path, 'other.json');
    writeFileSync(other, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'x', name: [{ family: 'Someone' }], birthDate: '1901-01-01' } }, { resource: { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'Walk' }, subject: { reference: 'Patient/x' } } }] }));
    const refused = await vault(dir.path, ['import', 'me', other]);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe('');
    expect(refused.error).toMatchObject({ code: 'IMPORT_PATIENT_MISMATCH', number: 265 });
    expect(refused.err).not.toContain('Someone');
    const forced = JSON.parse(await ok(dir.path, 'import', 'me', other, '--force')) as { kept: Record<string, number> };
    expect(forced.kept).toEqual({ Goal: 1 });
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, '{"resourceType": "Bundle", "type": "collection", "entry": [CANARY');
    const r = await vault(dir.path, ['import', 'me', bad]);
    expect(r.error).toMatchObject({ code: 'IMPORT_NOT_JSON', number: 260 });
    expect(r.err).not.toContain('CANARY');
    expect((await vault(dir.path, ['import', 'me'])).error).toMatchObject({ code: 'CLI_USAGE' });
    expect((await vault(dir.path, ['import', 'me', join(dir.path, 'missing.json')])).error).toMatchObject({ code: 'CLI_USAGE' });
  });
});
