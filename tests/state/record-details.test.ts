/**
 * Record cards show every field entered: for seeded records of every section, each schema field
 * with a value gets a line whose text carries what was typed (free text, numbers, choices), and
 * no line leaks a document's file key. Hand-made records pin the fields the issue named.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../helpers/prng.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES, type SectionName } from '../../src/lib/vault/health.ts';
import { recordDetails, shownFields } from '../../src/lib/state/record-details.ts';

const FILE = 'tests/state/record-details.test.ts';

/** The strings a person typed somewhere under `v`: every `text`, free-text field and choice (codes and systems aside). */
function typed(v: unknown, key = ''): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap((x) => typed(x, key));
  if (typeof v === 'string') {
    // Dates are shown formatted, codes not at all; everything else as typed.
    if (/^\d{4}(-\d{2}){0,2}(T.*)?$/.test(v) || /^\d{2}:\d{2}:\d{2}$/.test(v)) return [];
    if (['system', 'code', 'display', 'version', 'hash', 'reference', 'unit'].includes(key)) return [];
    return [v.trim()];
  }
  if (typeof v !== 'object') return [];
  const o = v as Record<string, unknown>;
  // A concept or status is shown by its text alone.
  if (typeof o.text === 'string' && o.text.trim()) return [o.text.trim()];
  return Object.entries(o).flatMap(([k, x]) => (k === 'coding' || k === 'id' ? [] : typed(x, k)));
}

/** Nothing entered: absent, an empty list, or an object with nothing entered in it (`effectivePeriod: {}`). */
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) ? v.every(isEmpty) : typeof v === 'object' ? Object.values(v as object).every(isEmpty) : false);

describe('record details', () => {
  it('every schema field with a value is rendered, with what was typed in it, for seeded records of every section', async () => {
    await withSeed(FILE, 'every schema field with a value is rendered, with what was typed in it, for seeded records of every section', async (prng) => {
      for (const section of SECTION_NAMES.filter((s) => s !== 'kept') as SectionName[]) {
        for (let i = 0; i < 40; i++) {
          const record = generateRecord(section, prng.next) as Record<string, unknown>;
          const lines = recordDetails(section, record);
          for (const field of shownFields(section)) {
            if (isEmpty(record[field])) continue;
            const line = lines.find((l) => l.field === field);
            expect(line, `${section}.${field} has a value but no line`).toBeDefined();
            for (const t of typed(record[field], field)) expect(line!.value, `${section}.${field} shows "${t}"`).toContain(t);
          }
        }
      }
    });
  });

  it('an allergy card shows type, category, criticality, severity and the reaction description; a medication what it is taken for', () => {
    const allergy = recordDetails('allergies', {
      id: 'a',
      schemaVersion: 1,
      resourceType: 'AllergyIntolerance',
      type: 'allergy',
      category: ['medication'],
      criticality: 'high',
      code: { text: 'Penicillin' },
      reaction: [{ manifestation: [{ text: 'Hives' }], severity: 'severe', description: 'Came on within minutes' }],
    });
    expect(allergy.map((l) => `${l.label}: ${l.value}`)).toEqual([
      'Type: allergy',
      'Kind: medication',
      'Criticality: high',
      'Substance: Penicillin',
      'Reaction: symptoms Hives, severity severe, description Came on within minutes',
    ]);
    const med = recordDetails('medications', { id: 'm', schemaVersion: 1, resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Metformin' }, reasonCode: [{ text: 'Type 2 diabetes' }] });
    expect(med.find((l) => l.field === 'reasonCode')).toEqual({ field: 'reasonCode', label: 'Taken for', value: 'Type 2 diabetes' });
  });

  it("never shows a document's file key or hash", () => {
    const lines = recordDetails('documents', {
      id: 'd',
      schemaVersion: 1,
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { title: 'Scan.pdf', contentType: 'application/pdf', size: 1200, hash: 'A'.repeat(43) + '=', url: 'blob:xyz', key: 'SECRETKEYSECRETKEY' } }],
    });
    const text = JSON.stringify(lines);
    expect(text).toContain('Scan.pdf');
    expect(text).not.toContain('SECRETKEY');
    expect(text).not.toContain('AAAAAAAA');
  });
});
