/**
 * The PDF exports (issue 12 item 4): built from the app's read models (src/lib/state/pdf.ts),
 * rendered by the app's own pdfmake code in Node, then read back with poppler-utils: every
 * current item is in the text, Unicode names survive (the embedded Roboto), empty sections say
 * "None recorded", a long medication list runs over pages with its header repeated, the pages
 * rasterise. Set PDF_LOOK_DIR=/some/dir to keep the PDFs and PNGs for a human look.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRecord, type SectionName } from '../../crdt-schemas/health/index.ts';
import { NONE_RECORDED } from '../../src/lib/interop/pdf/layout.ts';
import { pdfOf, pdfFileName, type EmergencyCardContent } from '../../src/lib/interop/pdf/index.ts';
import { emergencyCard } from '../../src/lib/state/emergency.ts';
import { pdfInput } from '../../src/lib/state/pdf.ts';
import { withSeed } from '../helpers/prng.ts';
import { generateProfile, type ProfileData } from './export-helpers.ts';
import { pagesAsPng, readPdf, squash } from './pdf-helpers.ts';
import { UNICODE_PROFILE, longMedicationList } from './pdf-fixtures.ts';

const FILE = 'tests/interop/pdf.test.ts';
const NOW = new Date(2026, 11, 2, 9, 30);
const DAY = '2026-12-02';
const records = (data: ProfileData) => ({ list: <S extends SectionName>(s: S) => (data[s] ?? []) as never });
const look = process.env.PDF_LOOK_DIR;

function keep(name: string, bytes: Uint8Array): void {
  if (!look) return;
  mkdirSync(look, { recursive: true });
  writeFileSync(join(look, name), bytes);
  pagesAsPng(bytes, 80, { dir: look, name: name.replace(/\.pdf$/, '') });
}

/** A PNG's IHDR width and height. */
const pngSize = (png: Buffer) => [png.readUInt32BE(16), png.readUInt32BE(20)];

describe('PDF exports', () => {
  it('the state read model is what the PDF reads (the card type matches structurally)', () => {
    const card: EmergencyCardContent = emergencyCard({ allergies: [], conditions: [], medications: [], alerts: [], careTeam: [], devices: [] }, NOW);
    expect(card.allergies).toEqual([]);
    expect(pdfFileName('visit', DAY)).toBe('visit-summary-2026-12-02.pdf');
    expect(pdfFileName('emergency', DAY)).toBe('emergency-card-2026-12-02.pdf');
  });

  it('Unicode names and text render in both documents (accents, Cyrillic, Greek) with Roboto embedded', async () => {
    for (const [section, list] of Object.entries(UNICODE_PROFILE)) for (const r of list) expect(validateRecord(section as SectionName, r).ok, `${section} fixture`).toBe(true);
    const input = pdfInput(records(UNICODE_PROFILE), NOW);
    const visit = await pdfOf('visit', input, DAY);
    const card = await pdfOf('emergency', input, DAY);
    keep('visit-unicode.pdf', visit);
    keep('emergency-unicode.pdf', card);
    for (const bytes of [visit, card]) {
      const pdf = readPdf(bytes);
      expect(pdf.fonts.some((f) => /Roboto/.test(f)), pdf.fonts.join()).toBe(true);
      for (const s of ['Zoë Ångström-Øvergaard', 'Διαβήτης τύπου 2 (Ελένη’s note)', 'Пеніцилін', 'Anaphylaxis', 'Metformin 500 mg', '1 tablet twice a day', 'Asthma']) expect(pdf.text).toContain(s);
      expect(pdf.text).toContain(`Generated ${DAY}`);
      // The PDF's own title names the document, never the person.
      expect(pdf.info.Title).toMatch(/^(Visit summary|Emergency card)$/);
    }
    const v = readPdf(visit).text;
    // Trends: latest, previous, direction; an out-of-range latest is flagged.
    expect(v).toMatch(/HbA1c\s+8\.1 % HIGH\s+2026-11-20\s+7\.2 %\s+rising\s+4–5\.6/);
    expect(v).toMatch(/Heart rate\s+72 bpm\s+2026-11-25\s+80 bpm\s+falling\s+60–100/);
    expect(v).toMatch(/Blood pressure, systolic\s+142 mmHg HIGH/);
    // Schedule in words next to the dosage text; allergy severity, reaction and criticality.
    expect(v).toContain('2 times a day; at 08:00, 20:00');
    expect(v).toMatch(/Пеніцилін\s+Anaphylaxis, Hives\s+severe\s+HIGH criticality/);
    expect(v).toMatch(/Influenza vaccine\s+2026-10-01\s+dose 1 of 1\s+LOT-42/);
    expect(squash(v)).not.toContain(squash(NONE_RECORDED));
    const c = readPdf(card).text;
    expect(c).toContain('Blood type: A Rh+');
    expect(c).toMatch(/Дмитрий Иванов\s+General practitioner/);
    expect(c).toMatch(/Мария Петрова\s+Mother\s+\+7 900 123-45-67/);
  });

  it('empty sections say "None recorded"; an empty profile still makes both documents', async () => {
    const input = pdfInput(records({}), NOW);
    const visit = readPdf(await pdfOf('visit', input, DAY));
    for (const h of ['Current problems', 'Allergies and intolerances', 'Medications', 'Vital signs', 'Laboratory results', 'Immunizations']) expect(visit.text).toContain(h);
    expect(visit.text.split(NONE_RECORDED).length - 1).toBe(6);
    const card = readPdf(await pdfOf('emergency', input, DAY));
    expect(card.text.split(NONE_RECORDED).length - 1).toBe(6);
  });

  it('a long medication list runs over pages, every medicine printed, the table header repeated', async () => {
    const meds = longMedicationList(120);
    const bytes = await pdfOf('visit', pdfInput(records({ medications: meds }), NOW), DAY);
    keep('visit-long.pdf', bytes);
    const pdf = readPdf(bytes);
    expect(pdf.pages.length).toBeGreaterThanOrEqual(3);
    for (const m of meds) expect(squash(pdf.text)).toContain(squash(m.medicationCodeableConcept.text));
    for (const [i, page] of pdf.pages.entries()) {
      expect(page, `page ${i + 1}`).toContain(`Page ${i + 1} of ${pdf.pages.length}`);
      if (i > 0 && i < pdf.pages.length - 1) expect(page, `page ${i + 1}`).toMatch(/Medicine\s+Dose\s+Schedule/);
    }
    const pngs = pagesAsPng(bytes, 30);
    expect(pngs).toHaveLength(pdf.pages.length);
    // A4 portrait (595 × 842 pt) at 30 dpi: about 248 × 351 pixels, each page rasterised.
    for (const png of pngs) {
      const [w, h] = pngSize(png);
      expect(Math.abs(w! - 248) <= 1 && Math.abs(h! - 351) <= 1, `${w} × ${h}`).toBe(true);
    }
  });

  const name = 'seeded profiles: every current allergy, problem, medicine and immunization is in the PDFs';
  it(name, () =>
    withSeed(FILE, name, async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "${name}"`);
      for (let p = 0; p < 6; p++) {
        const data = generateProfile(prng, { max: 6 });
        const input = pdfInput(records(data), NOW);
        const visit = squash(readPdf(await pdfOf('visit', input, DAY)).text);
        const card = squash(readPdf(await pdfOf('emergency', input, DAY)).text);
        const expected = [
          ...input.card.allergies.map((a) => a.substance),
          ...input.card.conditions.map((c) => c.text),
          ...input.card.medications.map((m) => m.name),
        ];
        for (const s of expected) {
          expect(visit, `profile ${p}: visit summary lacks an item`).toContain(squash(s));
          expect(card, `profile ${p}: emergency card lacks an item`).toContain(squash(s));
        }
        for (const i of (data.immunizations ?? []).filter((x) => x.status !== 'entered-in-error')) expect(visit, `profile ${p}: immunization`).toContain(squash(i.vaccineCode.text));
        const trends = input.vitals.length + input.labs.length;
        if (trends > 0) expect(visit).toMatch(/(rising|falling|steady|firstreading)/);
        if (input.card.name) expect(visit).toContain(squash(input.card.name));
      }
    }),
  );
});
