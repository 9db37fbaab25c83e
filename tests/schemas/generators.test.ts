import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { createPrng, withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES, SECTIONS, LOG_SECTIONS, sectionKind, validateRecord } from '../../crdt-schemas/health/sections.ts';
import { listRoot, rootKind, typedRoot } from '../../crdt-schemas/layout.ts';

const FILE = 'tests/schemas/generators.test.ts';
const SAMPLES = 200;

describe('seeded generators', () => {
  it('covers every section', () => {
    expect(SECTION_NAMES.length).toBe(19);
    for (const s of SECTION_NAMES) expect(typeof generateRecord(s, createPrng(1).next)).toBe('object');
  });

  for (const section of SECTION_NAMES) {
    const name = `${SAMPLES} samples of ${section} validate, unchanged`;
    it(name, () =>
      withSeed(FILE, name, async (prng) => {
        for (let i = 0; i < SAMPLES; i++) {
          const record = generateRecord(section, prng.next);
          const result = validateRecord(section, record);
          if (!result.ok) throw new Error(`sample ${i} rejected: ${JSON.stringify(result.issues)}`);
          expect(result.value).toEqual(record);
          expect(result.value.schemaVersion).toBe(SECTIONS[section].schemaVersion);
        }
      }),
    );
  }

  it('the same seed gives the same records, another seed different ones', () => {
    for (const section of SECTION_NAMES) {
      const a = createPrng(42), b = createPrng(42), c = createPrng(43);
      const fromA = Array.from({ length: 5 }, () => generateRecord(section, a.next));
      expect(Array.from({ length: 5 }, () => generateRecord(section, b.next))).toEqual(fromA);
      expect(Array.from({ length: 5 }, () => generateRecord(section, c.next))).not.toEqual(fromA);
    }
  });

  it('generated records exercise optional fields and codes', () => {
    const prng = createPrng(7);
    const records = Array.from({ length: 200 }, () => generateRecord('allergies', prng.next));
    expect(records.some((r) => r.reaction !== undefined)).toBe(true);
    expect(records.some((r) => r.reaction === undefined)).toBe(true);
    expect(records.some((r) => r.code.coding?.[0]?.system === 'http://snomed.info/sct')).toBe(true);
    expect(records.some((r) => r.code.coding === undefined)).toBe(true);
    const vitals = Array.from({ length: 200 }, () => generateRecord('list:vitals', prng.next));
    expect(new Set(vitals.map((v) => v.code.coding?.[0]?.code)).size).toBe(8); // 7 single vitals + the BP panel
  });
});

describe('sections follow layout v1', () => {
  it('logs are list:* arrays, keyed records maps', () => {
    for (const [log, root] of Object.entries(LOG_SECTIONS)) expect(root).toBe(listRoot(log));
    for (const s of SECTION_NAMES) {
      expect(sectionKind(s)).toBe(rootKind(s));
      expect(sectionKind(s)).toBe(s.startsWith('list:') ? 'array' : 'map');
    }
    expect(SECTION_NAMES.filter((s) => sectionKind(s) === 'array').sort()).toEqual(['list:doses', 'list:journal', 'list:vitals']);
  });

  it('records survive a round trip through a Y doc and still validate', () => {
    const prng = createPrng(9);
    const doc = new Y.Doc();
    const written = new Map<string, unknown[]>();
    for (const s of SECTION_NAMES) {
      const recs = Array.from({ length: 5 }, () => generateRecord(s, prng.next));
      written.set(s, recs);
      const root = typedRoot(doc, s);
      if (root instanceof Y.Array) root.push(recs);
      else if (root instanceof Y.Map) recs.forEach((r, i) => root.set(`${r.id}-${i}`, r));
    }
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    for (const s of SECTION_NAMES) {
      const root = typedRoot(replica, s);
      const values = root instanceof Y.Array ? root.toArray() : root instanceof Y.Map ? [...root.values()] : [];
      expect(values).toEqual(written.get(s));
      for (const v of values) expect(validateRecord(s, v).ok).toBe(true);
    }
  });
});
