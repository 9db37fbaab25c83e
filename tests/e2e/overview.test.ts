/**
 * The overview as a caregiver reads it, in real Chromium: an impossible blood pressure is refused
 * with a clear message; out-of-range vitals and an HbA1c above its recorded range are flagged in
 * words in the list, in the overview and in the charts; a critical allergy comes first; empty
 * sections collapse into one "add" row; search finds a record by what was typed and opens it.
 * Screenshots at phone and desktop size; axe-core stays clean on every screen visited.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, goto, onboard, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 300_000;

/**
 * Navigates by address, as a person with a bookmark would. The first load after creating a
 * profile sometimes stops at "Opening profile…" with PROFILE_UNKNOWN (the race the backup e2e
 * notes, commit 1897b60; not this screen's): one reload then opens it. Seen here, reported.
 */
async function open(page: Page, app: App, hash: string, ready: () => Promise<unknown>): Promise<void> {
  await goto(page, app, hash);
  const ok = await ready().then(
    () => true,
    () => false,
  );
  if (ok) return;
  await page.reload();
  await ready();
}

async function addOne(page: Page, app: App, doc: string, slug: string, fill: () => Promise<void>): Promise<void> {
  const add = page.getByRole('button', { name: /^Add / });
  await open(page, app, `/p/${doc}/s/${slug}`, () => add.waitFor({ timeout: WAIT }));
  await add.click();
  await fill();
  await page.getByRole('button', { name: /^Save / }).click();
  await add.waitFor({ timeout: WAIT });
}

describe('e2e: the overview at a glance, with out-of-range flags and search', () => {
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
    'refuses an impossible reading, flags out-of-range values in list, overview and chart, and finds records by search',
    async () => {
      const ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      pages.push(ana);
      const page = ana.page;
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Rose', 'mother');

      // Allergies: a low-risk one first, then a high-risk one, which the overview must list first.
      await addOne(page, app, doc, 'allergies', async () => {
        await page.getByRole('textbox', { name: 'Substance' }).fill('Dust mites');
        await page.getByLabel('Risk of a severe reaction').selectOption('low');
      });
      await addOne(page, app, doc, 'allergies', async () => {
        await page.getByRole('textbox', { name: 'Substance' }).fill('Penicillin');
        await page.getByLabel('Type', { exact: true }).selectOption('allergy');
        await page.getByLabel('Risk of a severe reaction').selectOption('high');
        await page.getByLabel('What happens').fill('Swelling');
        await page.getByLabel('What happens').press('Enter');
        await page.getByLabel('Severity').selectOption('severe');
        await page.getByLabel('Description').fill('Throat swelled within minutes');
      });
      // The card shows what was entered, not only the title.
      const penicillinCard = page.locator('article', { has: page.getByRole('heading', { name: 'Penicillin' }) });
      expect(await penicillinCard.textContent()).toContain('Throat swelled within minutes');
      expect(await penicillinCard.textContent()).toContain('Criticality');

      // A diastolic of 300 mmHg is refused, with a message by the field.
      await open(page, app, `/p/${doc}/s/vitals`, () => page.getByRole('button', { name: /^Add / }).waitFor({ timeout: WAIT }));
      await page.getByRole('button', { name: /^Add / }).click();
      await page.getByLabel('Measurement').selectOption('bloodPressure');
      await page.getByLabel('Systolic (upper)').fill('320');
      await page.getByLabel('Diastolic (lower)').fill('300');
      await page.getByRole('button', { name: /^Save / }).click();
      await page.getByText('Not possible: diastolic blood pressure must be between 10 and 250 mmHg.').first().waitFor({ timeout: WAIT });
      expect(await page.getByText('Not possible: systolic blood pressure must be between 20 and 300 mmHg.').count()).toBeGreaterThan(0);
      await screenshot(page, 'overview-e2e-implausible-desktop');
      expect(await axeViolations(page, 'vitals-implausible')).toEqual([]);
      // Corrected to a possible but high reading: saved, and flagged in the list.
      await page.getByLabel('Systolic (upper)').fill('150');
      await page.getByLabel('Diastolic (lower)').fill('95');
      await page.getByRole('button', { name: /^Save / }).click();
      await page.getByRole('button', { name: /^Add / }).waitFor({ timeout: WAIT });
      await expect.poll(() => page.getByTestId('record-flag').first().textContent({ timeout: WAIT })).toContain('High: above 90–120 mmHg');

      // A heart rate in range: no flag on its card.
      await addOne(page, app, doc, 'vitals', async () => {
        await page.getByLabel('Measurement').selectOption('heartRate');
        await page.getByLabel('Value').fill('72');
        await page.getByLabel('Unit').selectOption('/min');
      });
      const hrCard = page.locator('article', { has: page.getByRole('heading', { name: 'Heart rate' }) });
      expect(await hrCard.getByTestId('record-flag').count()).toBe(0);

      // An HbA1c above its recorded range, and a result with no range (no flag).
      await addOne(page, app, doc, 'labs', async () => {
        await page.getByRole('textbox', { name: 'Test' }).fill('HbA1c');
        await page.getByRole('textbox', { name: 'Result' }).fill('7.2');
        await page.getByRole('textbox', { name: 'Unit' }).fill('%');
        await page.getByLabel('Normal from').fill('4');
        await page.getByLabel('Normal up to').fill('5.6');
        await page.getByLabel('Sample taken').fill('2026-11-20');
      });
      await addOne(page, app, doc, 'labs', async () => {
        await page.getByRole('textbox', { name: 'Test' }).fill('Vitamin D');
        await page.getByRole('textbox', { name: 'Result' }).fill('99');
        await page.getByRole('textbox', { name: 'Unit' }).fill('nmol/L');
        await page.getByLabel('Sample taken').fill('2026-11-21');
      });
      const a1cCard = page.locator('article', { has: page.getByRole('heading', { name: 'HbA1c' }) });
      expect(await a1cCard.getByTestId('record-flag').textContent()).toBe('High: above 4–5.6 % (reference range)');
      const vitDCard = page.locator('article', { has: page.getByRole('heading', { name: 'Vitamin D' }) });
      expect(await vitDCard.getByTestId('record-flag').count()).toBe(0);
      await screenshot(page, 'overview-e2e-labs-list-desktop');
      expect(await axeViolations(page, 'labs-list')).toEqual([]);

      // The overview: critical allergy first, latest vitals and labs flagged in words, empty sections as one row.
      const allergies = page.getByTestId('overview-allergies');
      await open(page, app, `/p/${doc}`, () => allergies.waitFor({ timeout: WAIT }));
      const allergyItems = await allergies.getByRole('listitem').allTextContents();
      expect(allergyItems[0]).toContain('Penicillin');
      expect(allergyItems[0]).toContain('High criticality');
      expect(allergyItems[1]).toContain('Dust mites');
      const vitals = page.getByTestId('overview-vitals');
      const bpLine = vitals.getByRole('listitem').filter({ hasText: 'Blood pressure' });
      expect(await bpLine.textContent()).toContain('150/95 mmHg');
      expect(await bpLine.textContent()).toContain('High');
      expect(await vitals.getByRole('listitem').filter({ hasText: 'Heart rate' }).locator('[data-flag]').count()).toBe(0);
      const labs = page.getByTestId('overview-labs');
      const a1cLine = labs.getByRole('listitem').filter({ hasText: 'HbA1c' });
      expect(await a1cLine.locator('[data-flag="high"]').textContent()).toContain('High');
      expect(await labs.getByRole('listitem').filter({ hasText: 'Vitamin D' }).locator('[data-flag]').count()).toBe(0);
      const empty = page.getByTestId('overview-empty');
      expect(await empty.textContent()).toContain('Immunizations');
      expect(await empty.textContent()).not.toContain('Allergies');
      expect(await page.getByRole('heading', { name: 'Latest changes' }).count()).toBe(1);
      expect(await page.locator('.recent li').first().textContent()).toContain('Ana');
      await screenshot(page, 'overview-e2e-desktop');
      expect(await axeViolations(page, 'overview')).toEqual([]);

      // The charts: the flagged readings are marked, counted and written in the table.
      const a1cChart = page.locator('figure', { has: page.getByText('HbA1c (%)', { exact: true }) });
      await open(page, app, `/p/${doc}/trends`, () => a1cChart.waitFor({ timeout: WAIT }));
      expect(await a1cChart.getByTestId('chart-outside').textContent()).toContain('1 of 1 reading outside the range');
      expect(await a1cChart.getAttribute('aria-label')).toContain('7.2 % (high)');
      await a1cChart.getByText('Show as table').click();
      expect(await a1cChart.locator('details td').first().textContent()).toContain('High');
      const bpChart = page.locator('figure', { has: page.getByText('Blood pressure (mmHg)', { exact: true }) });
      expect(await bpChart.getByTestId('chart-outside').textContent()).toContain('1 of 1 reading outside the range');
      await screenshot(page, 'overview-e2e-trends-desktop');
      expect(await axeViolations(page, 'trends')).toEqual([]);

      // Search: a word from a reaction's description finds the allergy; the result opens it.
      await open(page, app, `/p/${doc}`, () => page.getByRole('link', { name: /Search this profile's records/ }).waitFor({ timeout: WAIT }));
      await page.getByRole('link', { name: /Search this profile's records/ }).click();
      await page.getByRole('searchbox').fill('throat');
      const result = page.getByRole('link', { name: 'Penicillin' });
      await result.waitFor({ timeout: WAIT });
      expect(await page.getByText(/records? match/).textContent()).toBe('1 record matches.');
      expect(page.url()).not.toContain('throat'); // the query stays out of the address bar (and History)
      expect(await axeViolations(page, 'search')).toEqual([]);
      await screenshot(page, 'overview-e2e-search-desktop');
      await result.click();
      await page.locator('li.target', { has: page.getByRole('heading', { name: 'Penicillin' }) }).waitFor({ timeout: WAIT });

      // The same overview on a phone.
      await page.setViewportSize({ width: 390, height: 844 });
      await open(page, app, `/p/${doc}`, () => page.getByTestId('overview-allergies').waitFor({ timeout: WAIT }));
      await screenshot(page, 'overview-e2e-phone');
      expect(await axeViolations(page, 'overview-phone')).toEqual([]);
      await open(page, app, `/p/${doc}/search`, () => page.getByRole('searchbox').waitFor({ timeout: WAIT }));
      await page.getByRole('searchbox').fill('hba1c');
      await page.getByRole('link', { name: 'HbA1c' }).waitFor({ timeout: WAIT });
      await screenshot(page, 'overview-e2e-search-phone');

      // Only the known first-load race may have logged (see open()).
      expect(ana.errors.filter((e) => !/this profile is not in the vault/i.test(e))).toEqual([]);
    },
    SLOW,
  );
});
