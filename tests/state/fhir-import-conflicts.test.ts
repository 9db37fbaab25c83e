/**
 * The app's list of import conflicts and its two choices (src/lib/state/fhir-import-conflicts.ts)
 * over a real profile: what each row says (section, both versions by their summaries, what
 * differs), that a choice empties the row, and that a stale choice is refused with a message
 * that names nothing of the record.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { allConflicts, resolveConflict } from '../../src/lib/state/fhir-import-conflicts.ts';
import { importFhir } from '../../src/lib/vault/fhir-import.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { bundle, condition } from '../interop/fhir.ts';

const cleanups = cleanupList();
let clock = Date.parse('2026-12-01T10:00:00Z');
const now = () => (clock += 1000);

async function conflicted(): Promise<Profile> {
  const p = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), now });
  cleanups.push(() => p.close());
  const run = (text: string, o = {}) => importFhir(p, JSON.stringify(bundle('collection', [condition('c1', { subject: undefined, code: { text }, ...o })])), { fileName: 'portal.json', now });
  await run('Hypertension');
  const [rec] = p.records.list('conditions');
  p.records.put('conditions', { ...rec!, note: [{ text: 'home readings' }] });
  await run('Essential hypertension', { onsetDateTime: '2019-05-01' });
  return p;
}

describe('import conflicts in the app', () => {
  it('rows name the section, both versions and what differs; a choice clears the row', async () => {
    const p = await conflicted();
    const list = (s: Parameters<typeof p.records.list>[0]) => p.records.list(s);
    const [row, ...rest] = allConflicts(list);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ section: 'conditions', sectionTitle: 'Conditions', mine: 'Hypertension', imported: 'Essential hypertension', changed: ['Condition', 'Notes', 'Started'] });
    expect(resolveConflict(p, row!, 'mine')).toBeUndefined();
    expect(allConflicts(list)).toEqual([]);
    expect(p.records.list('conditions')[0]!.code.text).toBe('Hypertension');
  });

  it('a choice made on a version no longer waiting is refused with a message naming nothing of the record', async () => {
    const p = await conflicted();
    const [row] = allConflicts((s) => p.records.list(s));
    const message = resolveConflict(p, { ...row!, digest: '0'.repeat(64) }, 'imported');
    expect(message).toMatch(/changed again/);
    expect(message).not.toMatch(/hypertension/i);
    expect(allConflicts((s) => p.records.list(s))).toHaveLength(1);
  });
});
