/**
 * Invites that keep (docs/decisions/0039), in Chromium with two browser contexts: Ana (owner)
 * invites an editor; a new phone with no vault opens the link, is offered "Create my vault and
 * join" (no guest session for a lasting invite), sets up its vault with the recovery code step,
 * joins, and after a reload is still a member. Both see the profile and each other, with the
 * same safety codes; Ana's used invite has lost its QR code and link; expiries carry a date.
 * Screenshots at phone and desktop size; axe clean.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, addRecord, allergy, goto, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 300_000;
/** After a reload on this shared, slow machine the vault opens and verifies first: a longer wait. */
const seesAfterReload = (page: import('playwright-core').Page, text: string) => page.getByText(text, { exact: false }).first().waitFor({ timeout: 3 * WAIT });

describe('e2e: an invite opened on a device with no vault ends in a kept membership', () => {
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
    'an editor invite: create my vault and join, reload, still a member; both see the profile and each other',
    async () => {
      const ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      pages.push(ana);
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      await addRecord(ana.page, app, doc, 'allergies', allergy('Penicillin'));

      // The share page in parts; the invite's expiry says its date, not just a time.
      await goto(ana.page, app, `/p/${doc}/share`);
      await sharingPart(ana.page, 'Invite');
      await ana.page.getByLabel('They can').selectOption('editor');
      await ana.page.getByRole('button', { name: 'Create invite link' }).click();
      const link = await ana.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      const valid = await ana.page.getByText(/^Works once, until/).textContent();
      expect(valid).toMatch(/\b20\d\d\b/);
      await ana.page.getByRole('img', { name: /QR code/ }).waitFor({ timeout: WAIT });
      await screenshot(ana.page, 'invite-keeps-owner-invite-desktop');
      expect(await axeViolations(ana.page, 'share invite')).toEqual([]);

      // A phone with no vault opens the link: the main path keeps the access; no guest session.
      const bea = await newPage(browser, link, { name: 'bea', viewport: 'phone' });
      pages.push(bea);
      await bea.page.getByRole('button', { name: 'Create my vault and join' }).waitFor({ timeout: WAIT });
      await seesText(bea.page, 'read and edit this profile');
      expect(await bea.page.getByText(/as a guest/i).count()).toBe(0);
      await screenshot(bea.page, 'invite-keeps-join-phone');
      expect(await axeViolations(bea.page, 'join with a new vault')).toEqual([]);
      await bea.page.getByLabel('Whose record is it?').fill('Grandma Rose');
      await bea.page.getByLabel('Relationship to you').fill('grandmother');
      await bea.page.getByLabel('Your name').fill('Bea');
      await bea.page.getByRole('button', { name: 'Create my vault and join' }).click();
      // The recovery code step, then the profile.
      const code = (await bea.page.getByTestId('recovery-code').textContent({ timeout: WAIT }))!.trim();
      expect(code.length).toBeGreaterThan(40);
      await screenshot(bea.page, 'invite-keeps-recovery-phone');
      await bea.page.getByLabel('I have written down my recovery code').check();
      await bea.page.getByRole('button', { name: 'Continue to the profile' }).click();
      await bea.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      expect(bea.page.url()).not.toContain('/join/');

      // A reload: the membership is kept (this is a vault, not a guest session).
      await bea.page.reload({ waitUntil: 'load' });
      await goto(bea.page, app, `/p/${doc}/s/allergies`);
      await seesAfterReload(bea.page, 'Penicillin');
      await seesAfterReload(bea.page, 'Your role: editor');
      await goto(bea.page, app, '/');
      // Her family list keeps the profile (the card shows the person's name from the record).
      await seesAfterReload(bea.page, 'grandmother · editor');

      // Bea's People part: Ana and herself, and her safety code.
      await goto(bea.page, app, `/p/${doc}/share`);
      await bea.page.getByTestId('safety-codes').waitFor({ timeout: WAIT });
      const beaOwn = (await bea.page.getByTestId('own-safety-code').textContent())!.trim();
      expect(beaOwn).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
      await seesText(bea.page, 'Ana');
      await screenshot(bea.page, 'invite-keeps-people-phone');
      expect(await axeViolations(bea.page, 'people (editor)')).toEqual([]);
      await bea.page.setViewportSize({ width: 1280, height: 800 });
      await screenshot(bea.page, 'invite-keeps-people-editor-desktop');

      // Ana: the used invite has no QR code or link any more; Bea is in People with the same code.
      await sharingPart(ana.page, 'Invite');
      await ana.page.getByTestId('link-used').waitFor({ timeout: WAIT });
      expect(await ana.page.getByTestId('invite-link').count()).toBe(0);
      expect(await ana.page.getByRole('img', { name: /QR code/ }).count()).toBe(0);
      await screenshot(ana.page, 'invite-keeps-used-desktop');
      await sharingPart(ana.page, 'People');
      const beaRow = ana.page.getByTestId('safety-codes').getByRole('listitem').filter({ hasText: 'Bea' });
      await beaRow.waitFor({ timeout: WAIT });
      expect((await beaRow.getByTestId('member-safety-code').textContent())!.trim()).toBe(beaOwn);
      await screenshot(ana.page, 'invite-keeps-people-desktop');
      expect(await axeViolations(ana.page, 'people (owner)')).toEqual([]);
      await ana.page.setViewportSize({ width: 390, height: 844 });
      await screenshot(ana.page, 'invite-keeps-people-owner-phone');
      await sharingPart(ana.page, 'Clinician');
      await ana.page.getByTestId('clinician-sees').waitFor({ timeout: WAIT });
      await screenshot(ana.page, 'invite-keeps-clinician-phone');
      await sharingPart(ana.page, 'Activity');
      await seesText(ana.page, 'Bea');
      await screenshot(ana.page, 'invite-keeps-activity-phone');
      expect(await axeViolations(ana.page, 'activity (phone)')).toEqual([]);
      await ana.page.setViewportSize({ width: 1280, height: 800 });

      // Bea's edit reaches Ana: a member who writes, not a ghost.
      await addRecord(bea.page, app, doc, 'allergies', allergy('Latex'));
      await goto(ana.page, app, `/p/${doc}/s/allergies`);
      await seesText(ana.page, 'Latex');

      expect(ana.errors).toEqual([]);
      expect(bea.errors).toEqual([]);
    },
    SLOW,
  );
});
