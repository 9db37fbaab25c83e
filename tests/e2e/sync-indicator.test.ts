/**
 * The one sync indicator and the same-field conflict notice in real Chromium (issue 13 items 4
 * and 9): one indicator per screen that flips to offline at once; two relatives change the same
 * field at the same time (one offline), both are told which value was lost, one restores it and
 * both see it; phone screenshots of the profile header and sections menu; axe clean.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, addRecord, allergy, createInvite, goto, joinAsRelative, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, setOffline, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;

/** Relay clock offset (the clinician test moves the relay's time past the session's end). */
let clockOffset = 0;

describe('e2e: one sync indicator, same-field conflicts', () => {
  let app: App;
  let browser: Browser;
  const pages: TestPage[] = [];
  let owner: TestPage;
  let profileDoc: string;

  beforeAll(async () => {
    app = await startApp({ now: () => Date.now() + clockOffset, expiryCheckMs: 250 });
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  }, SLOW);

  const open = async (name: string, viewport: 'desktop' | 'phone', url = `${app.url}/`) => {
    const p = await newPage(browser, url, { name, viewport });
    pages.push(p);
    return p;
  };

  it(
    'offline shows at once; a same-field conflict is shown to both, one restores, both see it',
    async () => {
      const ana = await open('ana', 'desktop');
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      owner = ana;
      profileDoc = doc;
      // The new profile is stored and synced before the page reloads into Sharing (a reload
      // right after adding one can miss it: the PROFILE_UNKNOWN seen in backup.test.ts).
      await expect.poll(() => ana.page.getByTestId('sync-indicator').getAttribute('data-state'), { timeout: WAIT }).toBe('synced');
      const link = await createInvite(ana.page, app, doc, 'editor');
      const ben = await open('ben', 'phone');
      await onboard(ben.page, 'Ben');
      await joinAsRelative(ben.page, link, 'Grandma Rose');
      await addRecord(ana.page, app, doc, 'allergies', allergy('Penicillin'));
      await goto(ben.page, app, `/p/${doc}/s/allergies`);
      await seesText(ben.page, 'Penicillin');

      // One indicator on the profile screen, in the header.
      const benSync = ben.page.getByTestId('sync-indicator');
      await expect.poll(() => benSync.getAttribute('data-state'), { timeout: WAIT }).toBe('synced');
      expect(await benSync.count()).toBe(1);
      expect(await ana.page.getByTestId('sync-indicator').count()).toBe(1);

      // Offline: the indicator says so from the browser's offline event (the socket would take 30 s).
      await setOffline(ben.context, true);
      expect(await benSync.getAttribute('data-state', { timeout: WAIT })).toBe('offline');
      expect((await benSync.innerText()).trim().split('\n')[0]).toBe('Offline');

      // Both change the same field: Ben offline, Ana online.
      await ben.page.getByRole('button', { name: 'Edit Penicillin' }).click();
      await ben.page.getByRole('textbox', { name: 'Substance' }).fill('Penicillin V');
      await ben.page.getByRole('button', { name: /^Save / }).click();
      await seesText(ben.page, 'Offline · 1 change to send');
      await goto(ana.page, app, `/p/${doc}/s/allergies`);
      await ana.page.getByRole('button', { name: 'Edit Penicillin' }).click();
      await ana.page.getByRole('textbox', { name: 'Substance' }).fill('Amoxicillin');
      await ana.page.getByRole('button', { name: /^Save / }).click();
      await expect.poll(() => ana.page.getByTestId('sync-indicator').getAttribute('data-state'), { timeout: WAIT }).toBe('synced');
      await setOffline(ben.context, false);

      // Both are told; the two notices name the same lost value.
      const anaNotice = ana.page.getByTestId('conflict-notice');
      const benNotice = ben.page.getByTestId('conflict-notice');
      await anaNotice.waitFor({ timeout: WAIT });
      await benNotice.waitFor({ timeout: WAIT });
      const lost = (await anaNotice.getByTestId('conflict-lost').innerText()).trim();
      expect((await benNotice.getByTestId('conflict-lost').innerText()).trim()).toBe(lost);
      expect(['Penicillin V', 'Amoxicillin']).toContain(lost);
      const kept = lost === 'Amoxicillin' ? 'Penicillin V' : 'Amoxicillin';
      await screenshot(ben.page, 'conflict-notice-phone');
      await screenshot(ana.page, 'conflict-notice-desktop');
      expect(await axeViolations(ben.page, 'conflict notice (phone)')).toEqual([]);
      expect(await axeViolations(ana.page, 'conflict notice (desktop)')).toEqual([]);

      // The one whose value was lost puts it back: a normal edit both then see.
      const loser = (await anaNotice.innerText()).includes('Your value, now replaced') ? ana : ben;
      const other = loser === ana ? ben : ana;
      await loser.page.getByRole('button', { name: 'Put my value back' }).click();
      await expect.poll(() => loser.page.getByTestId('conflict-notice').count(), { timeout: WAIT }).toBe(0);
      await seesText(other.page, lost);
      await seesText(loser.page, lost);
      expect(await loser.page.getByText(kept, { exact: true }).count()).toBe(0);
      // The other dismisses theirs, keeping what is there now.
      await other.page.getByTestId('conflict-notice').getByRole('button', { name: /^Keep / }).click();
      await expect.poll(() => other.page.getByTestId('conflict-notice').count(), { timeout: WAIT }).toBe(0);

      // Phone: the header and sections fit; the menu opens with every section reachable.
      await goto(ben.page, app, `/p/${doc}`);
      await ben.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      await screenshot(ben.page, 'profile-header-phone');
      const menu = ben.page.locator('details.menu summary');
      expect(await menu.isVisible()).toBe(true);
      const box = await menu.boundingBox();
      expect(box!.y + box!.height).toBeLessThan(300); // header, name and menu in the top third
      await menu.click();
      for (const label of ['Notes', 'Emergency card']) {
        expect(await ben.page.getByRole('navigation', { name: 'Profile sections (menu)' }).getByRole('link', { name: label }).isVisible()).toBe(true);
      }
      await screenshot(ben.page, 'profile-menu-phone');
      expect(await axeViolations(ben.page, 'profile menu (phone)')).toEqual([]);
      await goto(ana.page, app, `/p/${doc}`);
      await ana.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      await screenshot(ana.page, 'profile-header-desktop');
      // Chromium itself logs the socket's reconnect attempts made while the network was cut.
      const offlineNoise = (e: string) => e.includes('net::ERR_INTERNET_DISCONNECTED');
      expect([...ana.errors, ...ben.errors].filter((e) => !offlineNoise(e))).toEqual([]);
    },
    SLOW,
  );

  it(
    'a clinician sees a countdown in the header and no downloads; when the session ends the owner sees no error',
    async () => {
      const ana = owner;
      const doc = profileDoc;
      await goto(ana.page, app, `/p/${doc}/share`);
      await sharingPart(ana.page, 'Clinician');
      await ana.page.getByLabel('Length').selectOption('15');
      await ana.page.getByRole('button', { name: 'Start session' }).click();
      const link = await ana.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      // Scanning the QR code opens the link in a fresh browser.
      const dr = await open('clinician', 'phone', link);
      await dr.page.getByLabel('Your name (shown to the family)').fill('Dr. Lee');
      await dr.page.getByRole('button', { name: 'Join' }).click();
      await dr.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      // Summary first: the clinician lands on the overview, with the time left in the header.
      expect(new URL(dr.page.url()).hash).toBe(`#/p/${doc}`);
      const countdown = dr.page.getByTestId('session-countdown');
      await countdown.waitFor({ timeout: WAIT });
      expect(await countdown.innerText()).toMatch(/Session ends in\s+1[45]:\d\d left/);
      expect(await dr.page.getByTestId('sync-indicator').count()).toBe(1);
      expect(await dr.page.getByRole('button', { name: /Download/ }).count()).toBe(0);
      await screenshot(dr.page, 'clinician-header-phone');
      expect(await axeViolations(dr.page, 'clinician overview (phone)')).toEqual([]);

      // The relay's clock passes the session's end: the clinician is told, the owner sees no error.
      clockOffset = 16 * 60_000;
      await dr.page.getByTestId('access-ended').waitFor({ timeout: WAIT });
      clockOffset = 0;
      await addRecord(ana.page, app, doc, 'allergies', allergy('Ibuprofen'));
      const anaSync = ana.page.getByTestId('sync-indicator');
      await expect.poll(() => anaSync.getAttribute('data-state'), { timeout: WAIT }).toBe('synced');
      expect(await ana.page.getByText('Sync problem').count()).toBe(0);
      expect(await ana.page.getByText(/invite expired/i).count()).toBe(0);
    },
    SLOW,
  );
});
