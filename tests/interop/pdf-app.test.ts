/**
 * The PDF buttons in real Chromium against the real relay (needs `vite build`): the overview's
 * "Download visit summary (PDF)" and "Emergency card (PDF)" and the emergency page's button save
 * a PDF named without PHI (`visit-summary-YYYY-MM-DD.pdf`) that holds the records; pdfmake and
 * the Roboto chunk are requested by the page only after the click, never on first load.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFamilyMember, addRecord, allergy, goto, onboard, WAIT } from '../e2e/flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from '../e2e/harness.ts';
import { readPdf } from './pdf-helpers.ts';

const SLOW = 240_000;
const SUBSTANCE = 'Пеніцилін Ωmega-7731';

/** The built client's file for each lazily loaded PDF module (from Vite's manifest). */
function lazyChunks(): { pdfmake: string; fonts: string } {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../.svelte-kit/output/client/.vite/manifest.json'), 'utf8')) as Record<string, { file: string }>;
  const find = (suffix: string) => Object.entries(manifest).find(([src]) => src.endsWith(suffix))![1].file;
  return { pdfmake: find('pdfmake/build/pdfmake.js'), fonts: find('pdfmake/build/vfs_fonts.js') };
}

async function download(page: Page, button: string): Promise<{ bytes: Buffer; name: string }> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: WAIT * 3 }), page.getByRole('button', { name: button }).click()]);
  return { bytes: await readFile(await d.path()), name: d.suggestedFilename() };
}

describe('e2e: PDF downloads', () => {
  let app: App;
  let browser: Browser;
  const pages: TestPage[] = [];

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  }, SLOW);

  it(
    'visit summary and emergency card download as PDFs named without PHI; pdfmake and the font load on the first click only',
    async () => {
      const chunks = lazyChunks();
      const ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      pages.push(ana);
      const page = ana.page;
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Zoë Ångström', 'mother');
      await addRecord(page, app, doc, 'allergies', allergy(SUBSTANCE));
      await goto(page, app, `/p/${doc}`);
      await page.getByRole('button', { name: 'Download visit summary (PDF)' }).waitFor({ timeout: WAIT });
      await screenshot(page, 'pdf-buttons-overview');
      const lazy = (paths: string[]) => paths.filter((p) => p.endsWith(chunks.pdfmake) || p.endsWith(chunks.fonts));
      expect(lazy(requested), 'requested before any PDF was asked for').toEqual([]);

      const visit = await download(page, 'Download visit summary (PDF)');
      expect(visit.name).toMatch(/^visit-summary-\d{4}-\d{2}-\d{2}\.pdf$/);
      expect(lazy(requested).length).toBeGreaterThanOrEqual(2);
      const text = readPdf(visit.bytes).text;
      expect(text).toContain('Visit summary');
      expect(text).toContain(SUBSTANCE);
      expect(text).toContain('Zoë Ångström');

      const card = await download(page, 'Emergency card (PDF)');
      expect(card.name).toMatch(/^emergency-card-\d{4}-\d{2}-\d{2}\.pdf$/);
      expect(readPdf(card.bytes).info.Title).toBe('Emergency card');

      await goto(page, app, `/p/${doc}/emergency`);
      const again = await download(page, 'Emergency card (PDF)');
      expect(again.name).toMatch(/^emergency-card-/);
      expect(readPdf(again.bytes).text).toContain(SUBSTANCE);
      // Names carry no PHI: neither the person nor the allergy.
      for (const n of [visit.name, card.name, again.name]) expect(n).not.toMatch(/Zo|Пен/);
    },
    SLOW,
  );
});
