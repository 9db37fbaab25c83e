/**
 * A tour of the main screens with a realistic record, written live by a relative's device outside
 * the browser (so it also shows remote changes arriving), and saved as screenshots to look at.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { acceptInvitation } from '../../src/lib/vault/invite.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';
import { seedRecord } from './seed-record.ts';
import { addFamilyMember, WAIT } from './flows.ts';
import { axeViolations, type AxeFinding } from './axe.ts';

const SLOW = 240_000;

describe('e2e: the main screens', () => {
  let app: App;
  let browser: Browser;
  let ana: TestPage;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    await ana?.close();
    await browser?.close();
    await app?.stop();
  }, SLOW);

  it(
    'family, profile, medications, trends, journal, emergency card and settings render a real record',
    async () => {
      ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      const page = ana.page;
      const a11y: AxeFinding[] = [];
      const check = async (screen: string) => a11y.push(...(await axeViolations(page, screen)));
      await check('onboarding');
      await page.getByLabel('Your name').fill('Ana');
      await page.getByRole('button', { name: 'Create my vault' }).click();
      await page.getByTestId('recovery-code').waitFor({ timeout: WAIT });
      await screenshot(page, 'recovery-code');
      await check('recovery-code');
      await page.getByLabel('I have written down my recovery code').check();
      await page.getByRole('button', { name: 'Continue to my family' }).click();
      const doc = await addFamilyMember(page, 'Rose', 'mother');

      // Ana's brother writes the record from his own device while she watches.
      await page.goto(`${app.url}/#/p/${doc}/share`);
      await page.getByRole('tab', { name: 'Invite' }).click({ timeout: WAIT });
      await page.getByLabel('They can').selectOption('editor');
      await page.getByRole('button', { name: 'Create invite link' }).click();
      const link = await page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      const keys = { signer: generateSigningKeyPair(), box: generateBoxKeyPair() };
      const brother = await acceptInvitation(link, { ...keys, relayUrl: app.relay.url, minReconnectDelayMs: 50 });
      try {
        brother.setDisplayName('Tom');
        await page.goto(`${app.url}/#/p/${doc}`);
        seedRecord(brother);
        await brother.flush();
        await page.getByRole('heading', { level: 1, name: 'Rose Example' }).waitFor({ timeout: WAIT });
        await page.getByText('Tom').first().waitFor({ timeout: WAIT });
        await screenshot(page, 'profile-overview');
        await check('profile-overview');

        await page.goto(`${app.url}/#/`);
        await page.getByText('Penicillin').first().waitFor({ timeout: WAIT });
        await page.getByText('Fall risk').first().waitFor();
        await screenshot(page, 'family-overview');
        await check('family-overview');

        await page.goto(`${app.url}/#/p/${doc}/meds`);
        const taken = page.getByRole('button', { name: /^Taken: Metformin/ }).first();
        await taken.waitFor({ timeout: WAIT });
        await taken.click();
        await page.getByText(/Taken[\s\S]*by Ana/).first().waitFor({ timeout: WAIT });
        await screenshot(page, 'medications');
        await check('medications');

        await page.goto(`${app.url}/#/p/${doc}/trends`);
        await page.getByRole('figure').first().waitFor({ timeout: WAIT });
        expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(2);
        await screenshot(page, 'trends');
        await check('trends');

        await page.goto(`${app.url}/#/p/${doc}/s/journal`);
        await page.getByText('Dizziness when standing up').waitFor({ timeout: WAIT });
        await page.getByRole('button', { name: /^Add / }).click();
        await page.getByRole('textbox', { name: 'Symptom' }).fill('Headache');
        await page.getByRole('textbox', { name: 'Severity' }).fill('12');
        await page.getByRole('button', { name: /^Save / }).click();
        // Out of range: a clear message, nothing saved.
        await page.getByText(/There (is a problem|are \d+ problems)/).waitFor({ timeout: WAIT });
        expect(await page.getByText(/Severity: /).count()).toBeGreaterThan(0);
        await screenshot(page, 'journal-validation');
        await check('journal-validation');
        await page.getByRole('textbox', { name: 'Severity' }).fill('3');
        await page.getByRole('button', { name: /^Save / }).click();
        await page.getByText('Headache').first().waitFor({ timeout: WAIT });
        // Undo takes my own entry back; Tom's stay.
        await page.getByRole('button', { name: 'Undo my last change' }).click();
        await expect.poll(() => page.getByText('Headache').count(), { timeout: WAIT }).toBe(0);
        await page.getByText('Dizziness when standing up').waitFor();

        await page.goto(`${app.url}/#/p/${doc}/emergency`);
        await page.getByText('Penicillin').first().waitFor({ timeout: WAIT });
        await page.getByText('Dr. Priya Shah').first().waitFor();
        await screenshot(page, 'emergency-card');
        await check('emergency-card');
        await page.setViewportSize({ width: 390, height: 844 });
        await screenshot(page, 'emergency-card-phone');
        await page.setViewportSize({ width: 1280, height: 800 });

        await page.goto(`${app.url}/#/p/${doc}/s/allergies`);
        await page.getByRole('button', { name: /^Add / }).click();
        await screenshot(page, 'allergy-form');
        await check('allergy-form');

        await page.goto(`${app.url}/#/settings`);
        await page.getByText('this device', { exact: true }).waitFor({ timeout: WAIT });
        await screenshot(page, 'settings');
        await check('settings');
        expect(ana.errors).toEqual([]);
        expect(a11y, JSON.stringify(a11y, null, 1)).toEqual([]);
      } finally {
        await brother.close();
      }
    },
    SLOW,
  );
});
