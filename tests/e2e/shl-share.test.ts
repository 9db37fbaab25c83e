/**
 * Sharing the health summary as a SMART Health Link from the app (src/routes/p/[doc]/share,
 * docs/decisions/0031), in Chromium against the real relay: an owner makes a link with a
 * passcode, sees it once with its QR code, a clinician's browser (another context) opens it in
 * the viewer with the passcode and reads the summary; the owner revokes it, the QR code goes,
 * the audit trail shows both, and the viewer then gets "no longer active".
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, addRecord, allergy, goto, onboard, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, SCREENSHOT_DIR, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 300_000;
const CANARY = 'Canary-Share-Cashew-8812';
const PASSCODE = 'otter-5531';

describe('e2e: an owner shares the health summary as a SMART Health Link', () => {
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
    'creates a passcode link with its QR code; the viewer opens it; after revoking, the viewer gets not found',
    async () => {
      const owner = await newPage(browser, `${app.url}/`, { name: 'owner' });
      pages.push(owner);
      const page = owner.page;
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Rose', 'mother');
      await addRecord(page, app, doc, 'allergies', allergy(CANARY));

      await goto(page, app, `/p/${doc}/share`);
      await sharingPart(page, 'Clinician');
      const panel = page.getByTestId('health-link-panel');
      await panel.getByRole('heading', { name: 'Share a health summary link (SMART Health Link)' }).waitFor({ timeout: WAIT });
      await page.getByLabel('Label (shown to whoever opens it)').fill('For Dr Lee');
      await page.getByLabel('Works for').selectOption('30');
      // The expiry is shown with its date, e.g. "Until 9 Dec 2026, 21:20".
      expect(await page.getByTestId('shl-until').textContent()).toMatch(/^Until .*\b20\d\d\b.*\d\d:\d\d/);
      await page.getByLabel('Passcode (optional)').fill(PASSCODE);
      await page.getByRole('button', { name: 'Create link' }).click();

      const link = await page.getByTestId('health-link').inputValue({ timeout: WAIT });
      expect(link).toMatch(new RegExp(`^${app.url}/shl#shlink:/[A-Za-z0-9_-]+$`));
      expect(await page.getByTestId('health-link-passcode').textContent()).toContain(PASSCODE);
      // The passcode field is empty again: the passcode is shown once, beside the link.
      expect(await page.getByLabel('Passcode (optional)').inputValue()).toBe('');
      await page.getByRole('img', { name: 'QR code for the health summary link' }).waitFor({ timeout: WAIT });
      const row = page.getByTestId('health-links').getByRole('listitem').filter({ hasText: 'For Dr Lee' });
      await row.getByText('Active', { exact: true }).waitFor({ timeout: WAIT });
      expect(await row.textContent()).toMatch(/passcode/);
      await sharingPart(page, 'Activity');
      await page.getByRole('listitem').filter({ hasText: 'shared a health summary link' }).first().waitFor({ timeout: WAIT });
      await sharingPart(page, 'Clinician');
      // No PHI in the address or the title (the fragment holding the key is the link's, not this page's).
      expect(page.url()).not.toMatch(/Rose|Cashew/);
      expect(await page.title()).not.toMatch(/Rose|Ana/);
      await screenshot(page, 'shl-share-created');
      expect(await axeViolations(page, 'shl-share')).toEqual([]);

      await page.setViewportSize({ width: 390, height: 844 });
      await panel.scrollIntoViewIfNeeded();
      await screenshot(page, 'shl-share-phone');
      await panel.screenshot({ path: join(SCREENSHOT_DIR, 'shl-share-phone-panel.png') });
      await page.setViewportSize({ width: 1280, height: 800 });

      // A clinician's browser opens the link in the viewer and enters the passcode.
      const clinician = await newPage(browser, link, { name: 'clinician' });
      pages.push(clinician);
      await clinician.page.getByText('For Dr Lee').waitFor({ timeout: WAIT });
      await clinician.page.getByLabel('Passcode').fill(PASSCODE);
      await clinician.page.getByRole('button', { name: 'Open' }).click();
      await clinician.page.getByText(CANARY).waitFor({ timeout: WAIT });
      await clinician.page.getByText('Rose').first().waitFor({ timeout: WAIT });
      await screenshot(clinician.page, 'shl-share-viewer');

      // The owner revokes: a confirm step, then the status changes and the QR code goes.
      await row.getByRole('button', { name: 'Revoke For Dr Lee' }).click();
      await row.getByRole('button', { name: 'Confirm revoke' }).click();
      await row.getByText('Revoked', { exact: true }).waitFor({ timeout: WAIT });
      expect(await page.getByTestId('health-link-made').count()).toBe(0);
      expect(await page.getByRole('img', { name: 'QR code for the health summary link' }).count()).toBe(0);
      expect(await row.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
      await sharingPart(page, 'Activity');
      await page.getByRole('listitem').filter({ hasText: 'revoked a health summary link' }).first().waitFor({ timeout: WAIT });
      await screenshot(page, 'shl-share-revoked');

      // The viewer, opening the link again (the address no longer holds it: decision 0042), gets
      // "no longer active".
      await clinician.page.goto(link, { waitUntil: 'load' });
      await clinician.page.getByLabel('Passcode').fill(PASSCODE);
      await clinician.page.getByRole('button', { name: 'Open' }).click();
      await clinician.page.getByText('This link is no longer active', { exact: false }).waitFor({ timeout: WAIT });
      expect(await clinician.page.getByText(CANARY).count()).toBe(0);

      expect(owner.errors).toEqual([]);
      expect(owner.failedRequests).toEqual([]);
      expect(clinician.errors.filter((e) => !/404/.test(e))).toEqual([]);
      expect(clinician.failedRequests.every((r) => / → HTTP 404$/.test(r))).toBe(true);
    },
    SLOW,
  );
});
