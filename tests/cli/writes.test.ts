/**
 * Issue 10: a viewer's `set` or `note --append` printed nothing and exited 0; an editor's
 * `add-member` printed "added"; `set` stored unknown sections, invalid records and plain strings;
 * vitals, doses and journal could not be written; the README's example record failed the schema.
 * Now every write is validated, role-checked first, typed when refused, and changes nothing then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, memberCode, ok, vault } from './run-cli.ts';

// The README's example (README.md, "The headless client").
const README_ALLERGY = '{"resourceType":"AllergyIntolerance","code":{"text":"Penicillin"},"reaction":[{"manifestation":[{"text":"Rash"}]}]}';

describe('CLI writes', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const owner = tempDir('fhv-w-owner-');
  const viewer = tempDir('fhv-w-viewer-');
  const editor = tempDir('fhv-w-editor-');
  let ownerKey = '';
  beforeAll(async () => {
    relay = await testRelay();
    ownerKey = (JSON.parse(await ok(owner.path, 'init')) as { signingKey: string }).signingKey;
    await ok(viewer.path, 'init');
    await ok(editor.path, 'init');
    const created = await ok(owner.path, 'create', 'mum', '--relay', relay.url, '--member', `${await memberCode(viewer.path)}:viewer`, '--member', `${await memberCode(editor.path)}:editor`);
    const name = created.split('\n').at(-1)!;
    await ok(owner.path, 'set', 'mum', 'allergies', 'penicillin', README_ALLERGY);
    await ok(owner.path, 'note', 'mum', 'visits', '--append', 'Follow-up.');
    await ok(owner.path, 'sync', 'mum');
    for (const d of [viewer, editor]) {
      await ok(d.path, 'join', 'mum', name, '--relay', relay.url);
      await ok(d.path, 'sync', 'mum');
    }
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    for (const d of [owner, viewer, editor]) d.remove();
  });

  it("a viewer's set and note --append are refused, typed, and change nothing", async () => {
    const before = await ok(viewer.path, 'export', 'mum');
    const set = await vault(viewer.path, ['set', 'mum', 'allergies', 'latex', '{"resourceType":"AllergyIntolerance","code":{"text":"Latex"}}']);
    expect(set.code).toBe(1);
    expect(set.error).toMatchObject({ code: 'CLI_NOT_ALLOWED', number: 319 });
    const append = await vault(viewer.path, ['note', 'mum', 'visits', '--append', ' viewer text']);
    expect(append.code).toBe(1);
    expect(append.error).toMatchObject({ code: 'CLI_NOT_ALLOWED' });
    expect(await ok(viewer.path, 'export', 'mum')).toBe(before);
    expect(JSON.parse(await ok(viewer.path, 'status', 'mum'))).toMatchObject({ pending: 0, readable: 'ok' });
  });

  it("an editor's or viewer's add-member is refused, and the editor's later edits still reach everyone", async () => {
    const stranger = tempDir('fhv-w-stranger-');
    try {
      await ok(stranger.path, 'init');
      for (const d of [editor, viewer]) {
        const r = await vault(d.path, ['add-member', 'mum', await memberCode(stranger.path), 'owner']);
        expect(r.code).toBe(1);
        expect(r.error).toMatchObject({ code: 'CLI_NOT_ALLOWED' });
        expect(r.out).toBe('');
      }
      await ok(editor.path, 'set', 'mum', 'allergies', 'latex', '{"resourceType":"AllergyIntolerance","code":{"text":"Latex"}}');
      expect(JSON.parse(await ok(editor.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', problems: [] });
      await ok(owner.path, 'sync', 'mum');
      expect(JSON.parse(await ok(owner.path, 'get', 'mum', 'allergies', 'latex'))).toMatchObject({ id: 'latex' });
      const members = (await ok(owner.path, 'members', 'mum')).split('\n').map((l) => JSON.parse(l) as { member: string; role: string });
      expect(members.map((m) => m.role).sort()).toEqual(['editor', 'owner', 'viewer']);
      expect(members.find((m) => m.role === 'owner')?.member).toBe(ownerKey);
    } finally {
      stranger.remove();
    }
  });

  it('set refuses unknown sections, invalid records and plain strings, typed, and stores nothing', async () => {
    const before = await ok(owner.path, 'export', 'mum');
    const unknown = await vault(owner.path, ['set', 'mum', 'shoe-sizes', 'left', '{"size":42}']);
    expect(unknown.error).toMatchObject({ code: 'CLI_UNKNOWN_SECTION', number: 321 });
    const invalid = await vault(owner.path, ['set', 'mum', 'allergies', 'x', '{"resourceType":"AllergyIntolerance","criticality":"SECRET-SEVERE"}']);
    expect(invalid.code).toBe(1);
    expect(invalid.error).toMatchObject({ code: 'RECORD_INVALID' });
    expect(invalid.error?.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: ['code'] })]));
    expect(invalid.err).not.toContain('SECRET-SEVERE');
    const plain = await vault(owner.path, ['set', 'mum', 'allergies', 'y', '"just a string"']);
    expect(plain.error).toMatchObject({ code: 'RECORD_INVALID' });
    const wrongId = await vault(owner.path, ['set', 'mum', 'allergies', 'z', '{"id":"other","resourceType":"AllergyIntolerance","code":{"text":"X"}}']);
    expect(wrongId.error).toMatchObject({ code: 'CLI_USAGE' });
    // export audits itself; compare the records only.
    const records = (s: string) => {
      const { 'list:history': _h, ...rest } = JSON.parse(s) as Record<string, unknown>;
      return rest;
    };
    expect(records(await ok(owner.path, 'export', 'mum'))).toEqual(records(before));
  });

  it('writes vitals, doses and journal entries through their schemas', async () => {
    const at = '2026-11-30T08:15:00Z';
    await ok(owner.path, 'set', 'mum', 'vitals', 'hr-1', JSON.stringify({
      resourceType: 'Observation', status: 'final', code: { text: 'Heart rate', coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      effectiveDateTime: at, valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    }));
    await ok(owner.path, 'set', 'mum', 'doses', 'dose-1', JSON.stringify({ medicationId: 'ramipril', medication: { text: 'Ramipril 5 mg' }, status: 'taken', by: ownerKey, at }));
    await ok(owner.path, 'set', 'mum', 'journal', 'j-1', JSON.stringify({ symptom: { text: 'Headache' }, severity: 4, at }));
    expect(JSON.parse(await ok(owner.path, 'get', 'mum', 'vitals'))).toEqual([expect.objectContaining({ id: 'hr-1' })]);
    expect(JSON.parse(await ok(owner.path, 'get', 'mum', 'doses', 'dose-1'))).toMatchObject({ status: 'taken' });
    expect(JSON.parse(await ok(owner.path, 'get', 'mum', 'journal'))).toEqual([expect.objectContaining({ id: 'j-1', severity: 4 })]);
    const badVital = await vault(owner.path, ['set', 'mum', 'vitals', 'hr-2', JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'Heart rate', coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, effectiveDateTime: at, valueQuantity: { value: 72, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } })]);
    expect(badVital.error).toMatchObject({ code: 'RECORD_INVALID' });
    expect(JSON.parse(await ok(owner.path, 'get', 'mum', 'vitals'))).toHaveLength(1);
  });
});
