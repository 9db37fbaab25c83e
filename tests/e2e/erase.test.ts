/**
 * An owner deletes a profile everywhere from its Sharing screen (decision 0035): the button
 * stays disabled until the nickname is typed exactly; then the profile leaves the family list,
 * the browser's IndexedDB no longer holds its document, and the relay holds only its tombstone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFamilyMember, addRecord, allergy, createInvite, dumpIndexedDb, goto, joinAsRelative, onboard, seesText, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;

describe('e2e: delete a profile everywhere', () => {
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
    'the owner types the nickname, deletes, and the profile is gone from the list, the browser and the relay',
    async () => {
      const ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      pages.push(ana);
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      await addRecord(ana.page, app, doc, 'allergies', allergy('Penicillin'));
      expect(await ana.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').join(' '))).toContain(doc);
      // A relative has it open on her own device when it is deleted.
      const link = await createInvite(ana.page, app, doc, 'viewer');
      const cleo = await newPage(browser, `${app.url}/`, { name: 'cleo' });
      pages.push(cleo);
      await onboard(cleo.page, 'Cleo');
      await joinAsRelative(cleo.page, link, 'Rose');
      await seesText(cleo.page, 'View only');

      await goto(ana.page, app, `/p/${doc}/share`);
      const section = ana.page.getByTestId('erase-profile');
      await section.waitFor({ timeout: WAIT });
      const button = section.getByRole('button', { name: 'Delete everywhere' });
      await section.getByLabel(/to confirm/).fill('rose');
      expect(await button.isDisabled()).toBe(true);
      await section.getByLabel(/to confirm/).fill('Rose');
      await screenshot(ana.page, 'erase-confirm');
      await button.click();

      // Back on the family list, without Rose.
      await ana.page.getByRole('button', { name: 'Add', exact: true }).waitFor({ timeout: WAIT });
      expect(await ana.page.getByRole('link', { name: /Rose/ }).count()).toBe(0);
      expect(await ana.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').join(' '))).not.toContain(doc);
      // Nothing left in any store names the document (the vault's entry and keys for it are gone too).
      expect(await dumpIndexedDb(ana.page)).not.toContain(doc);
      expect(await app.relay.storage.tombstone(doc)).toBeDefined();
      expect(await app.relay.storage.load(doc)).toBeUndefined();

      // The relative's app is refused (PROFILE_ERASED), verifies Ana's order and drops it too.
      await cleo.page.waitForFunction(async (d) => !(await indexedDB.databases()).some((db) => db.name?.includes(d)), doc, { timeout: WAIT });
      await goto(cleo.page, app, '/');
      await cleo.page.getByRole('button', { name: 'Add', exact: true }).waitFor({ timeout: WAIT });
      expect(await cleo.page.getByRole('link', { name: /Rose/ }).count()).toBe(0);
    },
    SLOW,
  );
});
