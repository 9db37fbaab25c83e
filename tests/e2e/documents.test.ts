/**
 * Documents in real Chromium against the real relay: a file attached to a new document is
 * encrypted in the page and stored on the relay, the document is listed, and both its owner and
 * a viewer who joined by invite download the same bytes. The relay never holds the file's text.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { storedEnvelopes } from '../helpers/relay.ts';
import { addFamilyMember, onboard, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;
const CANARY = 'CANARY-DOCUMENT-8841';
const FILE = Buffer.from(`Discharge letter (synthetic). ${CANARY}\nNo real patient.\n\u00e9\u00e8\u2713`);

async function downloadBytes(page: Page, title: string): Promise<{ bytes: Buffer; name: string }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.getByRole('button', { name: `Download ${title}` }).click()]);
  const path = await download.path();
  return { bytes: await readFile(path), name: download.suggestedFilename() };
}

describe('e2e: documents with encrypted files', () => {
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
    'an owner attaches a file, sees the document listed and downloads the same bytes; a viewer downloads them too',
    async () => {
      const ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      pages.push(ana);
      const page = ana.page;
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Rose', 'mother');

      await page.goto(`${app.url}/#/p/${doc}/s/documents`);
      await page.getByRole('button', { name: 'Add document' }).click();
      // No file yet: the form says so and nothing is saved.
      await page.getByRole('textbox', { name: 'Title' }).fill('Discharge letter');
      await page.getByRole('button', { name: 'Save document' }).click();
      await page.getByText('Attach a file first').first().waitFor({ timeout: WAIT });

      await page.getByLabel(/^File\b/).setInputFiles({ name: 'discharge.txt', mimeType: 'text/plain', buffer: FILE });
      await expect.poll(() => page.getByTestId('chosen-file').textContent()).toContain('discharge.txt');
      expect(await axeViolations(page, 'documents-new')).toEqual([]);
      await screenshot(page, 'documents-new');
      await page.getByRole('button', { name: 'Save document' }).click();
      await page.getByRole('button', { name: 'Add document' }).waitFor({ timeout: WAIT });
      await page.getByRole('heading', { name: 'Discharge letter' }).waitFor({ timeout: WAIT });
      await screenshot(page, 'documents-listed');
      expect(await axeViolations(page, 'documents-list')).toEqual([]);

      const mine = await downloadBytes(page, 'Discharge letter');
      expect(mine.bytes.equals(FILE)).toBe(true);
      expect(mine.name).toBe('Discharge letter.txt'); // the extension from the stored MIME type

      // The relay holds ciphertext: not the text, not the title.
      const stored = Buffer.concat([...(await app.relay.blobs.dumpAll()), ...storedEnvelopes(app.relay.config.dataDir).dumpAll()]);
      expect(await app.relay.blobs.dumpAll()).toHaveLength(1);
      expect(stored.includes(Buffer.from(CANARY))).toBe(false);
      expect(stored.includes(Buffer.from('Discharge letter'))).toBe(false);

      // A viewer (a relative who joined by invite) reads the document and downloads the file.
      await page.goto(`${app.url}/#/p/${doc}/share`);
      await page.getByRole('tab', { name: 'Invite' }).click({ timeout: WAIT });
      await page.getByLabel('They can').selectOption('viewer');
      await page.getByRole('button', { name: 'Create invite link' }).click();
      const link = await page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      const ben = await newPage(browser, `${app.url}/`, { name: 'ben', viewport: 'phone' });
      pages.push(ben);
      await onboard(ben.page, 'Ben');
      await ben.page.goto(link);
      await ben.page.getByLabel('Whose record is it?').fill('Grandma Rose');
      await ben.page.getByLabel('Relationship to you').fill('grandmother');
      await ben.page.getByRole('button', { name: 'Join' }).click();
      await ben.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      await ben.page.goto(`${app.url}/#/p/${doc}/s/documents`);
      await ben.page.getByRole('heading', { name: 'Discharge letter' }).waitFor({ timeout: WAIT });
      expect(await ben.page.getByRole('button', { name: 'Add document' }).count()).toBe(0);
      const theirs = await downloadBytes(ben.page, 'Discharge letter');
      expect(theirs.bytes.equals(FILE)).toBe(true);
      await screenshot(ben.page, 'documents-viewer-phone');

      expect([...ana.errors, ...ben.errors]).toEqual([]);
      // (Navigations may abort an icon load; the blob requests themselves must all succeed.)
      expect([...ana.failedRequests, ...ben.failedRequests].filter((r) => r.includes('/blobs/'))).toEqual([]);
    },
    SLOW,
  );
});
