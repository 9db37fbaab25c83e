/**
 * The SMART Health Link viewer in Chromium (src/routes/shl, docs/decisions/0031): an owner's
 * link (made with the vault facade against the real relay) opens at /shl#shlink:/…, asks for
 * the passcode, shows the attempts left after a wrong one, then the IPS; the page's header CSP
 * lets it connect to https hosts while the vault's pages keep connect-src 'self'.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { shareLink } from '../../src/lib/vault/shl.ts';
import { launchBrowser, newPage, screenshot, startApp, type App } from './harness.ts';

const SLOW = 120_000;
const CANARY = 'Canary-Viewer-Peanut-6602';
const PASSCODE = 'river-4417';

describe('e2e: the SMART Health Link viewer', () => {
  let app: App | undefined;
  let browser: Browser | undefined;
  let profile: Profile | undefined;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
    profile = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: app.relay.url, minReconnectDelayMs: 50 });
    profile.records.put('demographics', { id: 'patient', schemaVersion: 1, resourceType: 'Patient', name: [{ text: 'Test Person' }], birthDate: '1970-05-01' });
    profile.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: CANARY } });
    await profile.flush();
  }, SLOW);

  afterAll(async () => {
    await profile?.close();
    await browser?.close();
    await app?.stop();
  }, SLOW);

  it(
    'opens a passcode link: wrong passcode shows the attempts left, the right one shows the IPS',
    async () => {
      const made = await shareLink(profile!, { passcode: PASSCODE, expiresInMs: 3_600_000, label: 'For the clinic' });
      expect(made.viewerLink).toBe(`${app!.url}/shl#${made.link}`);
      const p = await newPage(browser!, made.viewerLink!, { name: 'shl-viewer' });
      try {
        const csp = p.response?.headers()['content-security-policy'] ?? '';
        expect(csp).toMatch(/connect-src 'self' https:/);
        expect(csp).toContain("frame-ancestors 'none'");
        await p.page.getByText('For the clinic').waitFor({ state: 'visible' });
        // Not gated behind onboarding, and no vault navigation for a visitor without one.
        expect(await p.page.getByRole('heading', { name: 'Welcome' }).count()).toBe(0);

        const input = p.page.getByLabel('Passcode');
        await input.fill('wrong-guess');
        await p.page.getByRole('button', { name: 'Open' }).click();
        await p.page.getByText('Attempts left: 9.').waitFor({ state: 'visible' });

        await input.fill(PASSCODE);
        await p.page.getByRole('button', { name: 'Open' }).click();
        await p.page.getByText(CANARY).waitFor({ state: 'visible' });
        expect(await p.page.getByRole('heading', { level: 3, name: 'Allergies and Intolerances' }).count()).toBe(1);
        expect(await p.page.getByText('Test Person').count()).toBeGreaterThan(0);
        await screenshot(p.page, 'shl-viewer-ips');

        // The only failure is the refused passcode's 401; nothing broke the CSP.
        expect(p.errors.filter((e) => !/401/.test(e))).toEqual([]);
        expect(p.failedRequests).toEqual([expect.stringMatching(new RegExp(`POST /shl/${made.manifestId} → HTTP 401$`))]);
      } finally {
        await p.close();
      }

      // The vault's own page keeps connect-src to its origin.
      const home = await newPage(browser!, `${app!.url}/`, { name: 'vault-home' });
      try {
        const csp = home.response?.headers()['content-security-policy'] ?? '';
        expect(csp).toMatch(/connect-src 'self'(;|$)/);
        expect(csp).not.toContain('https:');
      } finally {
        await home.close();
      }
    },
    SLOW,
  );
});
