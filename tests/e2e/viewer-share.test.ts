/**
 * A viewer who opens the Sharing screen by its URL sees that only owners manage sharing: no
 * invite or session controls, nothing signed; after a reload their copy still shows the
 * profile's records (a refused owner operation used to empty it: "Unnamed profile").
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFamilyMember, addRecord, allergy, createInvite, goto, joinAsRelative, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;

describe('e2e: sharing is for owners only', () => {
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

  const open = async (name: string) => {
    const p = await newPage(browser, `${app.url}/`, { name });
    pages.push(p);
    return p;
  };

  it(
    'a viewer opening #/p/<doc>/share by URL sees a message and no controls; after a reload the records are still there',
    async () => {
      const ana = await open('ana');
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      await addRecord(ana.page, app, doc, 'allergies', allergy('Penicillin'));
      const link = await createInvite(ana.page, app, doc, 'viewer');

      const cleo = await open('cleo');
      await onboard(cleo.page, 'Cleo');
      await joinAsRelative(cleo.page, link, 'Rose');
      await seesText(cleo.page, 'View only');
      // No Sharing link in the viewer's navigation, a People one instead (who has access, leave)...
      expect(await cleo.page.getByRole('link', { name: 'Sharing' }).count()).toBe(0);
      expect(await cleo.page.getByRole('link', { name: 'People' }).count()).toBeGreaterThan(0);

      // ...and by URL: the message, no controls.
      await goto(cleo.page, app, `/p/${doc}/share`);
      await cleo.page.getByTestId('share-not-owner').waitFor({ timeout: WAIT });
      await seesText(cleo.page, 'Only owners can manage sharing');
      expect(await cleo.page.getByRole('button', { name: 'Create invite link' }).count()).toBe(0);
      expect(await cleo.page.getByRole('button', { name: 'Start session' }).count()).toBe(0);
      expect(await cleo.page.getByLabel('They can').count()).toBe(0);
      await screenshot(cleo.page, 'viewer-share-by-url');

      // After a reload the viewer's own copy still holds the profile.
      await cleo.page.reload({ waitUntil: 'load' });
      // The router takes hash changes once the app has started again (it shows the page it reloaded).
      await cleo.page.getByTestId('share-not-owner').waitFor({ timeout: WAIT });
      await goto(cleo.page, app, `/p/${doc}/s/allergies`);
      await seesText(cleo.page, 'Penicillin');
      await cleo.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      expect(await cleo.page.getByText('Unnamed profile').count()).toBe(0);
      expect(await cleo.page.getByText('Error', { exact: true }).count()).toBe(0);
      await screenshot(cleo.page, 'viewer-after-reload');
      expect(cleo.errors.filter((e) => /NOT_ADMIN|NOT_OWNER|RECORD_/.test(e))).toEqual([]);

      // The owner still manages sharing.
      await goto(ana.page, app, `/p/${doc}/share`);
      await sharingPart(ana.page, 'Invite');
      await ana.page.getByRole('button', { name: 'Create invite link' }).waitFor({ timeout: WAIT });
      expect(await ana.page.getByTestId('share-not-owner').count()).toBe(0);
    },
    SLOW,
  );
});
