/**
 * `export --format csv`: vitals, labs, dose log and symptom journal as RFC 4180 tables, read back
 * by csv-parse and a strict RFC 4180 check (csv-reader.ts): the header, one row per value, the values and units as
 * recorded, time order, and text cells a spreadsheet would run as formulas neutralised.
 */
import { describe, expect, it } from 'vitest';
import { csvField } from '../../src/lib/interop/csv-format.ts';
import { CSV_HEADERS, CSV_LOGS, exportCsv } from '../../src/lib/interop/csv-export.ts';
import { withSeed } from '../helpers/prng.ts';
import { readCsv } from './csv-reader.ts';
import { generateProfile, memorySource, type ProfileData } from './export-helpers.ts';

const FILE = 'tests/interop/csv-export.test.ts';

/** What a spreadsheet shows for a text cell we wrote (the apostrophe is the neutraliser). */
const shown = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

describe('CSV export', () => {
  const name = 'seeded profiles: every log reads back with one row per value and its header';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "${name}"`);
      for (let p = 0; p < 20; p++) {
        const data = generateProfile(prng, { max: 12 });
        for (const log of CSV_LOGS) {
          const rows = readCsv(exportCsv(log, memorySource(data)));
          expect(rows[0], log).toEqual(CSV_HEADERS[log]);
          const expected =
            log === 'vitals'
              ? (data['list:vitals'] ?? []).reduce((n, v) => n + (v.component?.length || 1), 0)
              : (log === 'labs' ? data['lab-results'] : log === 'doses' ? data['list:doses'] : data['list:journal'])?.length ?? 0;
          expect(rows.length - 1, `${log} rows, profile ${p}`).toBe(expected);
        }
        // Every dose reads back: id, time, status, medication text as written.
        const doses = readCsv(exportCsv('doses', memorySource(data))).slice(1);
        for (const d of data['list:doses'] ?? []) {
          const row = doses.find((r) => r[0] === shown(d.id) || shown(r[0]!) === d.id)!;
          expect(row, d.id).toBeDefined();
          expect([row[1], shown(row[3]!), row[5]]).toEqual([d.at, d.medication.text, d.status]);
        }
      }
    }),
  );

  it('a blood pressure reading is two rows with LOINC codes and UCUM units; rows are oldest first across zones', () => {
    const mmHg = (value: number) => ({ value, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org' as const, code: 'mm[Hg]' });
    const coded = (code: string, text: string) => ({ text, coding: [{ system: 'http://loinc.org', code }] });
    const data: ProfileData = {
      'list:vitals': [
        {
          id: 'bp1',
          schemaVersion: 1,
          resourceType: 'Observation',
          status: 'final',
          code: coded('85354-9', 'Blood pressure'),
          effectiveDateTime: '2026-11-01T09:00:00Z',
          component: [
            { code: coded('8480-6', 'Systolic'), valueQuantity: mmHg(128) },
            { code: coded('8462-4', 'Diastolic'), valueQuantity: mmHg(82) },
          ],
        },
        {
          id: 'hr1',
          schemaVersion: 1,
          resourceType: 'Observation',
          status: 'final',
          code: coded('8867-4', 'Heart rate'),
          // 10:00+05:30 = 04:30Z: earlier than the blood pressure.
          effectiveDateTime: '2026-11-01T10:00:00+05:30',
          valueQuantity: { value: 61, unit: 'beats/min', system: 'http://unitsofmeasure.org', code: '/min' },
        },
      ],
    };
    expect(readCsv(exportCsv('vitals', memorySource(data)))).toEqual([
      [...CSV_HEADERS.vitals],
      ['hr1', '2026-11-01T10:00:00+05:30', '8867-4', 'Heart rate', '61', '/min', 'final'],
      ['bp1', '2026-11-01T09:00:00Z', '8480-6', 'Systolic', '128', 'mm[Hg]', 'final'],
      ['bp1', '2026-11-01T09:00:00Z', '8462-4', 'Diastolic', '82', 'mm[Hg]', 'final'],
    ]);
  });

  it('quotes commas, quotes and line breaks; neutralises formulas; leaves numbers alone', () => {
    const data: ProfileData = {
      'list:journal': [
        { id: 'j1', schemaVersion: 1, symptom: { text: 'Headache, "bad"' }, severity: 6, at: '2026-11-02', notes: 'line one\r\nline two', triggers: ['=HYPERLINK("http://x")', '@sum'] },
      ],
    };
    const text = exportCsv('journal', memorySource(data));
    expect(text.endsWith('\r\n')).toBe(true);
    expect(readCsv(text)[1]).toEqual(['j1', '2026-11-02', 'Headache, "bad"', '', '6', `'=HYPERLINK("http://x"); @sum`, 'line one\r\nline two']);
    expect(csvField(-5)).toBe('-5');
    expect(csvField('-5')).toBe(`'-5`);
    expect(csvField(undefined)).toBe('');
  });

  it('the reading is strict: a bare LF, a stray quote or a ragged row is refused', () => {
    expect(() => readCsv('a,b\n1,2\n')).toThrow(/bare LF/);
    expect(() => readCsv('a,b\r\n1,x"y\r\n')).toThrow(/quote in an unquoted field/);
    expect(() => readCsv('a,b\r\n1\r\n')).toThrow(/row 1 has 1 fields/);
    expect(() => readCsv('a,"b\r\n')).toThrow(/unterminated/);
  });

  it('empty logs are a header alone', () => {
    for (const log of CSV_LOGS) expect(readCsv(exportCsv(log, memorySource({})))).toEqual([[...CSV_HEADERS[log]]]);
  });
});
