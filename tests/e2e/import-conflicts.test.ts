/**
 * Import conflicts in the web app, in real Chromium against the real relay (docs/decisions/0034,
 * 0037): a family imports a portal file, edits two of its conditions on the device, then imports
 * the portal's corrected file. The import page lists both conflicts with "Keep mine" and "Take
 * the file's version"; each choice applies at once, and the records read as chosen.
 * Screenshots: import-conflicts (desktop), import-conflicts-phone, import-conflicts-resolved, and
 * the new sections with imported records: care-team-organization, advance-directives, test-reports.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, goto, onboard, seesText, WAIT } from './flows.ts';
import { launchBrowser, screenshot, startApp, type App } from './harness.ts';

const SLOW = 600_000;
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const condition = (id: string, text: string, o: Record<string, unknown> = {}) => ({ resourceType: 'Condition', id, clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] }, code: { text }, ...o });
const portal = (...resources: unknown[]) => JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });

describe('e2e: resolving import conflicts in Chromium', () => {
  let app: App;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fhv-conflicts-'));
  /** The portal's file, always named portal.json (its name is part of each record's identity). */
  const file = (version: string, text: string): string => {
    mkdirSync(join(dir, version));
    const path = join(dir, version, 'portal.json');
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, SLOW);

  async function importFile(page: Page, doc: string, path: string): Promise<void> {
    // From the overview's link, as a person would (the overview is one click away everywhere).
    await goto(page, app, `/p/${doc}`);
    await page.getByRole('link', { name: 'Import health records (FHIR)' }).click();
    await page.getByRole('heading', { name: 'Import health records (FHIR)' }).waitFor({ timeout: WAIT });
    // Still on the last report (the same page): start over as a person would.
    const again = page.getByRole('button', { name: 'Import another file' });
    if (await again.isVisible()) await again.click();
    await page.getByLabel('FHIR file (.json)').setInputFiles(path);
    await page.getByTestId('import-plan').waitFor({ timeout: WAIT });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('import-report').waitFor({ timeout: WAIT });
  }

  async function addNote(page: Page, doc: string, title: string, note: string): Promise<void> {
    await goto(page, app, `/p/${doc}/s/conditions`);
    await page.getByRole('button', { name: `Edit ${title}` }).click();
    await page.getByLabel('Notes').fill(note);
    await page.getByRole('button', { name: /^Save / }).click();
    await page.getByRole('button', { name: `Edit ${title}` }).waitFor({ timeout: WAIT });
  }

  it(
    'lists each conflict with both versions and applies "Keep mine" and "Take the file\'s version"',
    async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await page.goto(`${app.url}/`, { waitUntil: 'load' });
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Rose', 'mother');

      await importFile(page, doc, file('v1', portal(condition('c1', 'Hypertension'), condition('c2', 'Asthma'))));
      await addNote(page, doc, 'Hypertension', 'Measured at home every morning');
      await addNote(page, doc, 'Asthma', 'Uses the blue inhaler');

      await importFile(page, doc, file('v2', portal(condition('c1', 'Essential hypertension', { onsetDateTime: '2019-05-01' }), condition('c2', 'Mild asthma'))));
      expect(await page.getByTestId('import-conflicts').textContent()).toBe('2');
      const list = page.getByTestId('import-conflict-list');
      await list.waitFor({ timeout: WAIT });
      await seesText(page, 'Import conflicts (2)');
      const items = list.getByTestId('import-conflict-item');
      expect(await items.count()).toBe(2);
      const texts = (await items.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
      expect(texts.some((t) => t.includes('Yours Hypertension') && t.includes('In the file Essential hypertension') && t.includes('Differs in Condition, Notes, Started'))).toBe(true);
      expect(texts.some((t) => t.includes('Yours Asthma') && t.includes('In the file Mild asthma'))).toBe(true);
      await screenshot(page, 'import-conflicts');
      expect(await axeViolations(page, 'import conflicts')).toEqual([]);
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'import-conflicts-phone');
      expect(await axeViolations(page, 'import conflicts (phone)')).toEqual([]);
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.getByRole('button', { name: "Take the file's version: Essential hypertension" }).click();
      await expect.poll(() => items.count(), { timeout: WAIT }).toBe(1);
      await page.getByRole('button', { name: 'Keep mine: Asthma' }).click();
      await list.waitFor({ state: 'detached', timeout: WAIT });

      await goto(page, app, `/p/${doc}/s/conditions`);
      await page.getByRole('button', { name: 'Edit Essential hypertension' }).waitFor({ timeout: WAIT });
      await page.getByRole('button', { name: 'Edit Asthma' }).waitFor({ timeout: WAIT });
      expect(await page.getByText('Mild asthma').count()).toBe(0);
      expect(await page.getByText('Import conflict', { exact: true }).count()).toBe(0);
      await screenshot(page, 'import-conflicts-resolved');

      // The corrected file again: nothing changes, no conflict comes back.
      await importFile(page, doc, file('v2-again', portal(condition('c1', 'Essential hypertension', { onsetDateTime: '2019-05-01' }), condition('c2', 'Mild asthma'))));
      expect(await page.getByTestId('import-unchanged').textContent()).toBe('2');
      expect(await page.getByTestId('import-conflicts').textContent()).toBe('0');
      expect(await page.getByTestId('import-conflict-list').count()).toBe(0);

      // Decision 0037's sections as a family sees them: a practice in the care team, an advance
      // directive, and a test report that links its results.
      const lab = { resourceType: 'Observation', id: 'k', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { text: 'Potassium' }, valueQuantity: { value: 4.1, unit: 'mmol/L' } };
      await importFile(
        page,
        doc,
        file(
          'clinic',
          portal(
            { resourceType: 'Organization', id: 'o1', name: 'Riverside Family Practice', telecom: [{ system: 'phone', value: '555-0100', use: 'work' }] },
            { resourceType: 'Consent', id: 'ad1', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'adr' }] }, category: [{ text: 'Living will' }], dateTime: '2021-03-04' },
            lab,
            { resourceType: 'DiagnosticReport', id: 'r1', status: 'final', code: { text: 'Basic metabolic panel' }, effectiveDateTime: '2025-02-01', result: [{ reference: 'Observation/k' }] },
          ),
        ),
      );
      const rows = (await page.getByTestId('import-sections').locator('li').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim()).sort();
      expect(rows).toEqual(['Advance directives 1', 'Care team 1', 'Lab results 1', 'Test reports 1']);
      for (const [slug, seen, shot] of [
        ['care-team', 'Riverside Family Practice', 'care-team-organization'],
        ['advance-directives', 'Living will', 'advance-directives'],
        ['reports', '1 result', 'test-reports'],
      ] as const) {
        await goto(page, app, `/p/${doc}/s/${slug}`);
        await seesText(page, seen);
        await screenshot(page, shot);
        expect(await axeViolations(page, slug)).toEqual([]);
      }
      expect(errors).toEqual([]);
    },
    SLOW,
  );
});
