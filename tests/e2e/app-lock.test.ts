/**
 * The app lock in real Chromium (docs/decisions/0043), with a CDP virtual authenticator that
 * offers the PRF extension. On `localhost`: WebAuthn refuses IP addresses as relying parties.
 * Set up a passkey lock → reload → locked, no health data in the page → unlock with the passkey
 * → the data is back; the recovery code needs the passkey again; a chosen emergency card is
 * readable while locked; an idle time locks (the page's clock is moved, not waited for).
 */
import type { Browser, CDPSession } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, allergy, onboard, seesText, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;
const CANARY = 'Penicillin-CANARY-LOCK-7731';

describe('e2e: app lock', () => {
  let app: App;
  let browser: Browser;
  let ana: TestPage;
  let cdp: CDPSession;
  let authenticatorId: string;
  let url: string;

  beforeAll(async () => {
    app = await startApp();
    // WebAuthn needs a host name: the same loopback relay, addressed as localhost.
    url = app.url.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
  }, SLOW);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && ana) await screenshot(ana.page, `app-lock-failed-${ctx.task.name.slice(0, 30)}`).catch(() => undefined);
  });

  afterAll(async () => {
    await ana?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  }, SLOW);

  const locked = () => ana.page.getByRole('heading', { level: 1, name: 'Locked' }).waitFor({ timeout: WAIT });
  /** Unlocks with the passkey and waits for the app (its header links are back). */
  const unlock = async () => {
    await ana.page.getByRole('button', { name: 'Unlock with passkey' }).click();
    await ana.page.getByRole('link', { name: 'Settings' }).waitFor({ timeout: WAIT });
  };
  const html = () => ana.page.content();
  /** In-app navigation by the header's links (an address typed in reloads the page, which locks it). */
  const nav = (name: 'Family' | 'Settings') => ana.page.getByRole('navigation', { name: 'App' }).getByRole('link', { name }).click();

  it(
    'a passkey lock: after a reload nothing health-related is on the page until the passkey unlocks it',
    async () => {
      ana = await newPage(browser, `${url}/`, { name: 'ana' });
      cdp = await ana.context.newCDPSession(ana.page);
      await cdp.send('WebAuthn.enable');
      ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, hasPrf: true },
      }));
      await onboard(ana.page, 'Ana');
      await addFamilyMember(ana.page, 'Rose', 'mother');
      await ana.page.getByRole('link', { name: /Allergies/ }).first().click();
      await ana.page.getByRole('button', { name: /^Add / }).click();
      await allergy(CANARY)(ana.page);
      await ana.page.getByRole('button', { name: /^Save / }).click();
      await seesText(ana.page, CANARY);

      await nav('Settings');
      await ana.page.setViewportSize({ width: 390, height: 844 });
      await screenshot(ana.page, 'app-lock-settings-off-phone');
      await ana.page.setViewportSize({ width: 1280, height: 800 });
      await ana.page.getByRole('button', { name: 'Lock with a passkey' }).click();
      await seesText(ana.page, 'Locked with a passkey');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      await screenshot(ana.page, 'app-lock-settings-desktop');
      expect(await axeViolations(ana.page, 'app lock settings')).toEqual([]);

      await ana.page.reload();
      await locked();
      const page = await html();
      expect(page).not.toContain(CANARY);
      expect(page).not.toContain('Rose');
      expect(page).not.toContain('Ana');
      await screenshot(ana.page, 'app-lock-locked-desktop');
      await ana.page.setViewportSize({ width: 390, height: 844 });
      await screenshot(ana.page, 'app-lock-locked-phone');
      await ana.page.setViewportSize({ width: 1280, height: 800 });
      expect(await axeViolations(ana.page, 'lock screen')).toEqual([]);

      await unlock();
      await nav('Family');
      await seesText(ana.page, CANARY);
    },
    SLOW,
  );

  const signCount = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]!.signCount;

  it(
    'the recovery code is shown only once the passkey confirms it is the person',
    async () => {
      await nav('Settings');
      const before = await signCount();
      await ana.page.getByRole('button', { name: 'Show my recovery code' }).click();
      await ana.page.locator('p.code').waitFor({ timeout: WAIT });
      expect(((await ana.page.locator('p.code').textContent()) ?? '').length).toBeGreaterThan(40);
      // It took one use of the passkey.
      expect(await signCount()).toBe(before + 1);
      await ana.page.getByRole('button', { name: 'Hide' }).click();
    },
    SLOW,
  );

  it(
    "a chosen emergency card is readable on the lock screen; the rest stays locked",
    async () => {
      await ana.page.getByLabel("Show Rose's emergency card while locked").check();
      await expect.poll(() => ana.page.getByLabel("Show Rose's emergency card while locked").isChecked()).toBe(true);
      await ana.page.getByRole('button', { name: 'Lock now' }).click();
      await locked();
      await ana.page.reload();
      await locked();
      await ana.page.getByRole('button', { name: 'Emergency card: Rose' }).click();
      await seesText(ana.page, CANARY);
      await screenshot(ana.page, 'app-lock-emergency-desktop');
      await ana.page.setViewportSize({ width: 390, height: 844 });
      await screenshot(ana.page, 'app-lock-emergency-phone');
      expect(await axeViolations(ana.page, 'lock screen with emergency card')).toEqual([]);
      await ana.page.setViewportSize({ width: 1280, height: 800 });
      // Still locked: the family list and the records are not there.
      expect(await ana.page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
      await unlock();
    },
    SLOW,
  );

  it(
    'after the idle time without input the app locks itself',
    async () => {
      await nav('Settings');
      await ana.page.getByLabel('Lock after no use for').selectOption('1');
      await expect.poll(async () => (await ana.page.getByLabel('Lock after no use for').inputValue())).toBe('1');
      // The page's timers from here on run on a clock the test moves.
      await ana.page.clock.install();
      await ana.page.reload();
      await locked();
      await unlock();
      await ana.page.clock.fastForward('00:30');
      expect(await ana.page.getByRole('heading', { level: 1, name: 'Locked' }).count()).toBe(0);
      await ana.page.clock.fastForward('00:35');
      await locked();
      // Rose's name is on the lock screen only as the emergency card chosen above (closed).
      expect(await html()).not.toContain(CANARY);
      expect(await ana.page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    },
    SLOW,
  );

  it(
    'a passkey use without the person verified does not unlock',
    async () => {
      // Last: Chromium's virtual authenticator refuses every request after a failed verification.
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
      await ana.page.getByRole('button', { name: 'Unlock with passkey' }).click();
      await seesText(ana.page, 'the passkey was not used');
      await locked();
      expect(await ana.page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    },
    SLOW,
  );

  it(
    'a PIN hides the app: reload locks, a wrong PIN is refused, the right one opens; the recovery code asks for it again',
    async () => {
      const bea = await newPage(browser, `${url}/`, { name: 'bea', viewport: 'phone' });
      try {
        const { page } = bea;
        await onboard(page, 'Bea');
        await page.getByRole('navigation', { name: 'App' }).getByRole('link', { name: 'Settings' }).click();
        await page.getByLabel('Or a PIN (6 to 12 digits)').fill('482913');
        await page.getByRole('button', { name: 'Set PIN' }).click();
        await seesText(page, 'Locked with a PIN');
        await page.reload();
        await page.getByRole('heading', { level: 1, name: 'Locked' }).waitFor({ timeout: WAIT });
        expect(await page.content()).not.toContain('Bea');
        await page.getByLabel('PIN').fill('000000');
        await page.getByRole('button', { name: 'Unlock' }).click();
        await seesText(page, 'that PIN is not right');
        await screenshot(page, 'app-lock-pin-phone');
        expect(await axeViolations(page, 'PIN lock screen')).toEqual([]);
        await page.getByLabel('PIN').fill('482913');
        await page.getByRole('button', { name: 'Unlock' }).click();
        await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor({ timeout: WAIT });

        await page.getByRole('button', { name: 'Show my recovery code' }).click();
        const dialog = page.getByRole('dialog', { name: 'Enter your PIN' });
        await dialog.waitFor({ timeout: WAIT });
        expect(await page.locator('p.code').count()).toBe(0);
        await dialog.getByLabel('PIN').fill('482913');
        await dialog.getByRole('button', { name: 'Confirm' }).click();
        await page.locator('p.code').waitFor({ timeout: WAIT });
      } finally {
        await bea.close();
      }
    },
    SLOW,
  );
});
