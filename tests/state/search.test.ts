/**
 * On-device search: finds records by any field their card shows (not only the title), with
 * prefixes and small typos, every word required; results name the section and record id the
 * link opens; and building or querying the index writes nothing anywhere (it lives in memory).
 */
import { describe, expect, it } from 'vitest';
import { validateRecord, type SectionName } from '../../src/lib/vault/health.ts';
import { RecordSearch, type SearchSource } from '../../src/lib/state/search.ts';

function source(records: Partial<Record<SectionName, Record<string, unknown>[]>>): SearchSource {
  const m = new Map<string, unknown[]>();
  for (const [s, list] of Object.entries(records)) {
    m.set(
      s,
      list.map((r) => {
        const v = validateRecord(s, { schemaVersion: 1, ...r });
        if (!v.ok) throw new Error(`invalid fixture ${s}: ${JSON.stringify(v.issues)}`);
        return v.value;
      }),
    );
  }
  return { list: (s) => m.get(s) ?? [] };
}

const records = source({
  allergies: [{ id: 'a1', resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' }, reaction: [{ manifestation: [{ text: 'Hives' }], description: 'Swollen lips' }] }],
  medications: [{ id: 'm1', resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Metformin' }, reasonCode: [{ text: 'Type 2 diabetes' }] }],
  conditions: [{ id: 'c1', resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: 'Type 2 diabetes' } }],
  'list:journal': [{ id: 'j1', symptom: { text: 'Headache' }, severity: 4, at: '2026-11-30T10:00:00Z', notes: 'after the long drive' }],
});

describe('record search', () => {
  it('finds a record by a field its card shows, saying which field matched', () => {
    const hits = new RecordSearch(records).search('hives');
    expect(hits).toEqual([{ section: 'allergies', sectionTitle: 'Allergies', id: 'a1', title: 'Penicillin', subtitle: 'Hives', match: expect.stringContaining('Hives') }]);
  });

  it('matches prefixes and small typos; every word must match', () => {
    const s = new RecordSearch(records);
    expect(s.search('penic').map((h) => h.id)).toEqual(['a1']);
    expect(s.search('metfromin').map((h) => h.id)).toEqual(['m1']);
    expect(new Set(s.search('diabetes').map((h) => h.id))).toEqual(new Set(['m1', 'c1']));
    expect(s.search('diabetes metformin').map((h) => h.id)).toEqual(['m1']);
    expect(s.search('long drive').map((h) => [h.section, h.id])).toEqual([['list:journal', 'j1']]);
    expect(s.search('insulin')).toEqual([]);
    expect(s.search('   ')).toEqual([]);
  });

  it('ranks a title match above a mention in another field', () => {
    const hits = new RecordSearch(records).search('diabetes');
    expect(hits[0]!.id).toBe('c1');
  });

  it('keeps the index in memory: building and searching touch no storage', () => {
    const touched: string[] = [];
    const g = globalThis as Record<string, unknown>;
    const spy = new Proxy({}, { get: (_t, k) => (touched.push(String(k)), () => undefined) });
    const saved = { localStorage: g.localStorage, sessionStorage: g.sessionStorage, indexedDB: g.indexedDB, caches: g.caches };
    Object.assign(g, { localStorage: spy, sessionStorage: spy, indexedDB: spy, caches: spy });
    try {
      const s = new RecordSearch(records);
      expect(s.search('hives')).toHaveLength(1);
      expect(s.size).toBe(4);
    } finally {
      Object.assign(g, saved);
    }
    expect(touched).toEqual([]);
  });
});
