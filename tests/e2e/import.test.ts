/**
 * FHIR import and the exports in the web app, in real Chromium against the real relay
 * (docs/decisions/0034): an owner imports a generated multi-thousand-resource Synthea-style
 * bundle from a file; the progress bar shows the facade's real progress while the relay's
 * acknowledgements are held back (so the screenshot catches it without timing); the report's
 * counts match the plan of the same file; an imported record shows in its section with its
 * source; the FHIR, IPS and CSV downloads carry PHI-free names with the right extension; a
 * dropped file whose patient differs asks first and shows nothing of the file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImportFile } from '../../src/lib/interop/fhir/import-read.ts';
import { planImport } from '../../src/lib/interop/fhir/import-plan.ts';
import { summarisePlan } from '../../src/lib/state/fhir-import.ts';
import { createPrng } from '../helpers/prng.ts';
import { syntheaBundle } from '../interop/synthea.ts';
import { axeViolations } from './axe.ts';
import { addFamilyMember, onboard, seesText } from './flows.ts';
import { launchBrowser, screenshot, startApp, type App } from './harness.ts';

const SLOW = 600_000;
/** The machine is loaded: importing thousands of resources in the page takes a while. */
const LONG = 180_000;
const SEED = 1212;
const FILE_NAME = 'portal-export.json';

/** Server → page WebSocket messages, optionally held back (the import waits for the relay's acknowledgement of each chunk). */
interface Gate {
  hold: boolean;
  readonly queue: (() => void)[];
}

async function gatedPage(browser: Browser, url: string, gate: Gate): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  await context.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => (gate.hold ? gate.queue.push(() => ws.send(m)) : ws.send(m)));
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console.error: ${m.text()}`));
  await page.goto(url, { waitUntil: 'load' });
  return { page, context, errors };
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: LONG }), click()]);
  return { name: download.suggestedFilename(), text: readFileSync((await download.path())!, 'utf8') };
}

describe('e2e: FHIR import and exports in Chromium', () => {
  let app: App;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'fhv-import-'));

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, SLOW);

  it(
    'imports a multi-thousand-resource bundle with a progress bar, reports what the plan said, and shows the records',
    async () => {
      console.log(`seed ${SEED} (rerun: npx vitest run tests/e2e/import.test.ts)`);
      const text = JSON.stringify(syntheaBundle(createPrng(SEED).next, { encounters: 250 }));
      const path = join(dir, FILE_NAME);
      writeFileSync(path, text);
      const parsed = parseImportFile(text);
      if (!parsed.ok) throw new Error(parsed.code);
      const planned = planImport(parsed.value, { fileName: FILE_NAME, now: () => Date.now() });
      if (!planned.ok) throw new Error(planned.code);
      const expected = summarisePlan(planned.value);
      expect(expected.resources).toBeGreaterThan(4000);

      const gate: Gate = { hold: false, queue: [] };
      const opened = await gatedPage(browser, `${app.url}/`, gate);
      context = opened.context;
      const { page } = opened;
      await onboard(page, 'Ana');
      const doc = await addFamilyMember(page, 'Rose', 'mother');

      await page.getByRole('link', { name: 'Import health records (FHIR)' }).click();
      await page.getByRole('heading', { name: 'Import health records (FHIR)' }).waitFor({ timeout: LONG });
      await page.getByLabel('FHIR file (.json)').setInputFiles(path);
      const plan = page.getByTestId('import-plan');
      await plan.waitFor({ timeout: LONG });
      await seesText(page, `Ready to import ${expected.resources} resources`);
      await screenshot(page, 'import-plan');
      expect(await axeViolations(page, 'import plan')).toEqual([]);

      // Hold the relay's answers: the first chunk is sealed and sent, then the import waits for
      // its acknowledgement. Letting answers through one at a time moves it a chunk at a time.
      gate.hold = true;
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      const bar = page.getByTestId('import-progress');
      await expect
        .poll(
          async () => {
            gate.queue.shift()?.();
            return Number((await bar.getAttribute('value').catch(() => null)) ?? 0);
          },
          { timeout: LONG, interval: 200 },
        )
        .toBeGreaterThan(0);
      await seesText(page, 'records encrypted and saved');
      const progressShot = await screenshot(page, 'import-progress');
      console.log(`progress screenshot: ${progressShot}`);
      // Sync state stays visible while the import runs: the held chunk is pending.
      await seesText(page, 'Pending');
      gate.hold = false;
      for (const send of gate.queue.splice(0)) send();

      const report = page.getByTestId('import-report');
      await report.waitFor({ timeout: LONG });
      const rows = await page.getByTestId('import-sections').locator('li').allInnerTexts();
      const shown = rows.map((r) => r.replace(/\s+/g, ' ').trim()).sort();
      expect(shown).toEqual(expected.sections.map((s) => `${s.label} ${s.count}`).sort());
      const kept = await page.getByTestId('import-kept').locator('li').allInnerTexts();
      expect(kept.map((r) => r.replace(/\s+/g, ' ').trim()).sort()).toEqual(expected.kept.map((s) => `${s.label} ${s.count}`).sort());
      expect(await page.getByTestId('import-unchanged').textContent()).toBe('0');
      expect(await page.getByTestId('import-conflicts').textContent()).toBe('0');
      await screenshot(page, 'import-report');
      expect(await axeViolations(page, 'import report')).toEqual([]);
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'import-report-phone');
      await page.setViewportSize({ width: 1280, height: 800 });

      // A record appears in its section, with its source.
      const immunizations = expected.sections.find((s) => s.key === 'immunizations')!;
      await page.getByTestId('import-sections').getByRole('link', { name: immunizations.label }).click();
      await page.getByRole('heading', { level: 2, name: immunizations.label }).waitFor({ timeout: LONG });
      await page.getByText(/Influenza|Td \(adult\)|SARS-COV-2/).first().waitFor({ timeout: LONG });
      await seesText(page, `Imported from ${FILE_NAME}`);
      // The kept resources are listed, read-only.
      await page.goto(`${app.url}/#/p/${doc}/kept`);
      await page.getByTestId('kept-list').waitFor({ timeout: LONG });
      await seesText(page, 'ExplanationOfBenefit');
      expect(await page.getByRole('button', { name: /Edit|Delete/ }).count()).toBe(0);

      // Exports beside the JSON and PDF downloads: names without PHI, the right extension.
      await page.goto(`${app.url}/#/p/${doc}`);
      const ips = await downloaded(page, () => page.getByRole('button', { name: 'Download patient summary (IPS)' }).click());
      expect(ips.name).toMatch(/^ips-\d{4}-\d{2}-\d{2}\.json$/);
      expect(JSON.parse(ips.text)).toMatchObject({ resourceType: 'Bundle', type: 'document' });
      const fhir = await downloaded(page, () => page.getByRole('button', { name: 'Download FHIR (all records)' }).click());
      expect(fhir.name).toMatch(/^fhir-\d{4}-\d{2}-\d{2}\.json$/);
      const collection = JSON.parse(fhir.text) as { type: string; entry: { resource: { resourceType: string } }[] };
      expect(collection.type).toBe('collection');
      expect(collection.entry.filter((e) => e.resource.resourceType === 'ExplanationOfBenefit')).toHaveLength(expected.kept.find((k) => k.key === 'ExplanationOfBenefit')!.count);
      await page.getByLabel('Log').selectOption('vitals');
      const csv = await downloaded(page, () => page.getByRole('button', { name: 'Download CSV' }).click());
      expect(csv.name).toMatch(/^vitals-\d{4}-\d{2}-\d{2}\.csv$/);
      expect(csv.text.split('\n').length).toBeGreaterThan(100);

      // A dropped file whose patient differs (the first import gave Rose a birth date): a confirm
      // step that names the difference and shows nothing of the file, then the import.
      await page.getByRole('link', { name: 'Import health records (FHIR)' }).click();
      const other = JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Canarysson' }], birthDate: '1901-02-03' } },
          {
            resource: {
              resourceType: 'Condition',
              id: 'c1',
              clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
              code: { text: 'Dropped-condition' },
              subject: { reference: 'Patient/p1' },
            },
          },
        ],
      });
      const dataTransfer = await page.evaluateHandle((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'other-person.json', { type: 'application/json' }));
        return dt;
      }, other);
      await page.getByRole('group', { name: 'Drop a FHIR file here' }).dispatchEvent('drop', { dataTransfer });
      await page.getByRole('heading', { name: "This file's patient differs from this profile's person" }).waitFor({ timeout: LONG });
      for (const leak of ['Canarysson', '1901']) expect(await page.getByText(leak).count()).toBe(0);
      await screenshot(page, 'import-patient-differs');
      await page.getByRole('button', { name: 'It is this person: continue' }).click();
      await seesText(page, 'Patient differs: confirmed');
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.getByTestId('import-report').waitFor({ timeout: LONG });
      expect((await page.getByTestId('import-sections').locator('li').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim())).toContain('Conditions 1');
      expect(opened.errors).toEqual([]);
    },
    SLOW,
  );
});
