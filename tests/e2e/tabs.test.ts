/**
 * One tab at a time uses the device's vault (decision 0064): a second tab of the same browser
 * says the vault is open elsewhere and takes it over only once the first has closed its session,
 * so both never seal records with the device's key at once (the relay would refuse one of them
 * for good, RECORD_FORK). What either typed reaches the other.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFamilyMember, addRecord, allergy, goto, onboard, seesText, WAIT } from './flows.ts';
import { launchBrowser, screenshot, startApp, type App } from './harness.ts';

describe('e2e: two tabs of one browser', () => {
  let app: App;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.stop();
  });

  const tab = async (errors: string[], name: string, hash = '/'): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${name}: pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${name}: console.error: ${m.text()}`));
    await page.goto(`${app.url}/#${hash}`, { waitUntil: 'load' });
    return page;
  };
  const elsewhere = (page: Page) => page.getByRole('heading', { level: 1, name: 'Your vault is open in another tab' });

  it(
    'a second tab waits; taking the vault over there closes it here first, and what each tab typed reaches the other and the relay',
    async () => {
      const errors: string[] = [];
      const first = await tab(errors, 'first');
      const code = await onboard(first, 'Ana');
      const doc = await addFamilyMember(first, 'Rose', 'mother');
      await addRecord(first, app, doc, 'allergies', allergy('Penicillin'));

      // A second tab (a bookmark, a link opened in a new tab): it does not open the vault.
      const second = await tab(errors, 'second', `/p/${doc}/s/allergies`);
      await elsewhere(second).waitFor({ timeout: WAIT });
      expect(await second.getByText('Penicillin').count()).toBe(0);
      await screenshot(second, 'tabs-elsewhere');

      await second.getByRole('button', { name: 'Use it here' }).click();
      await seesText(second, 'Penicillin');
      await elsewhere(first).waitFor({ timeout: WAIT });
      await addRecord(second, app, doc, 'allergies', allergy('Latex'));
      await seesText(second, 'Synced');

      // And back: the first tab sees what the second added, and can keep writing.
      await first.getByRole('button', { name: 'Use it here' }).click();
      await goto(first, app, `/p/${doc}/s/allergies`);
      await seesText(first, 'Latex');
      await elsewhere(second).waitFor({ timeout: WAIT });
      await addRecord(first, app, doc, 'allergies', allergy('Aspirin'));
      await seesText(first, 'Synced');
      expect(await first.getByTestId('sync-indicator').getAttribute('data-state')).toBe('synced');

      // Whatever the device wrote from either tab, the relay took: Ana's phone sees all three.
      const phoneContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      try {
        const phone = await phoneContext.newPage();
        await phone.goto(`${app.url}/`, { waitUntil: 'load' });
        await phone.getByRole('button', { name: 'I have a recovery code' }).click();
        await phone.getByLabel('Your name').fill('Ana');
        await phone.getByLabel('Name of this device').fill('Phone');
        await phone.getByLabel('Recovery code').fill(code);
        await phone.getByRole('button', { name: 'Restore my vault' }).click();
        await phone.getByRole('heading', { level: 1, name: "Ana's family" }).waitFor({ timeout: WAIT });
        await goto(phone, app, `/p/${doc}/s/allergies`);
        for (const substance of ['Penicillin', 'Latex', 'Aspirin']) await seesText(phone, substance);
      } finally {
        await phoneContext.close();
      }
      expect(errors).toEqual([]);
    },
    240_000,
  );
});
