/** The built app in a real Chromium: it boots under its own CSP, renders, and logs no errors. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, screenshot, startApp, type App } from './harness.ts';

// Launching Chromium on a busy 2-core machine can take a while.
const SLOW = 120_000;

describe('e2e smoke: the home page in Chromium', () => {
  let app: App | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  }, SLOW);

  it(
    'renders the page client-side under a hash-based CSP with no console errors',
    async () => {
      const p = await newPage(browser!, `${app!.url}/`, { name: 'smoke' });
      try {
        expect(p.response?.status()).toBe(200);
        expect(p.response?.headers()['x-frame-options']).toBe('DENY');
        // build/index.html is an empty shell: the h1 exists only if the app's scripts ran.
        const h1 = p.page.locator('main h1');
        await h1.waitFor({ state: 'visible' });
        expect(await h1.textContent()).toBe('Welcome');
        expect(await p.page.title()).toBe('Family Health Vault');

        const csp = await p.page.locator('meta[http-equiv="content-security-policy"]').getAttribute('content');
        expect(csp).toContain("default-src 'self'");
        expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
        expect(csp).toContain("object-src 'none'");
        expect(csp).not.toContain('unsafe-eval');

        await screenshot(p.page, 'smoke-home-desktop');
        expect(p.errors).toEqual([]);
        expect(p.failedRequests).toEqual([]);
      } finally {
        await p.close();
      }
    },
    SLOW,
  );

  it(
    'renders on a phone viewport',
    async () => {
      const p = await newPage(browser!, `${app!.url}/`, { name: 'smoke-phone', viewport: 'phone' });
      try {
        await p.page.locator('main h1').waitFor({ state: 'visible' });
        const width = await p.page.evaluate(() => document.documentElement.scrollWidth);
        expect(width).toBeLessThanOrEqual(390); // no horizontal scrolling
        await screenshot(p.page, 'smoke-home-phone');
        expect(p.errors).toEqual([]);
        expect(p.failedRequests).toEqual([]);
      } finally {
        await p.close();
      }
    },
    SLOW,
  );
});
