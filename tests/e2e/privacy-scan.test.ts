/**
 * What a browser keeps of a family's session outside the encrypted store (decision 0042), in real
 * Chromium with a profile directory of its own: a device added from a one-time link with a
 * canary person name and device label, a family member with a canary name, records and a note
 * with canary values, every main screen, a download, a SMART Health Link opened in the viewer,
 * an invite opened and accepted. The browser is then closed, and the whole profile directory
 * (History, Web Data, Sessions, IndexedDB, Local Storage, Cache Storage, everything) is searched
 * for the canaries with tests/helpers/profile-scan.ts (UTF-8 and UTF-16LE, LevelDB logs and
 * Snappy blocks, Blink's Snappy values, SQLite cells).
 *
 * Not blind: the test plants control canaries in plain storage of the same origin (Local Storage;
 * an IndexedDB entry that only a Snappy-decompressed table block shows; a value Blink itself
 * compresses), and the scan must find each of them the hard way.
 *
 * A clinician's guest session is run on a second browser profile, closed and scanned the same way.
 *
 * Secrets in links: they must leave the address bar and the entry's state as soon as they are
 * read. Chromium writes the address as first opened into History and the session files before any
 * script runs; no page can remove those rows. So the test pins where the secrets may still be
 * (the browser's own navigation records, nowhere else) and proves the invite and device-link
 * copies there are spent: opened again, they are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanProfile, type Hit } from '../helpers/profile-scan.ts';
import { axeViolations } from './axe.ts';
import { addFamilyMember, addRecord, allergy, createInvite, goto, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 400_000;

/** What a family types: none of it may be found in the profile directory. */
const CANARIES = {
  person: 'Zebulon Quixcanary',
  device: 'Quixcanary Kitchen Tablet',
  patient: 'Ottoline Vexcanary',
  joined: 'Marisol Yancanary',
  allergy: 'Canarazole 4471',
  note: 'CANARY-NOTE Vexcanazine 9913',
  guest: 'Dr Quillon Canarysmith',
} as const;

/** Planted by the test in plain storage: the scan must find each, or it is blind. */
const CONTROLS = {
  local: 'CONTROL-local-storage-7c1e',
  /** Repeats inside itself, so Snappy stores copies: only a decompressed table block shows it. */
  block: `CONTROL-block-${'Xq5w'.repeat(12)}`,
  /** In a value large enough that Blink compresses it (FF 11 02 + Snappy). */
  value: `CONTROL-value-${'Jd8r'.repeat(12)}`,
} as const;

/** Where Chromium records the addresses it navigated to, before any script of the page runs. */
const NAVIGATION_RECORDS = /^Default\/(History|History-journal|Sessions\/(Session|Tabs)_\d+|Top Sites|Top Sites-journal|Visited Links|Network Action Predictor|Network Action Predictor-journal|Shortcuts|Shortcuts-journal|Favicons|Favicons-journal)$|^segmentation_platform\/ukm_db$/;

describe('e2e: nothing of the family outside the encrypted store (profile directory scan)', () => {
  let app: App;
  let browser: Browser;
  let profileDir: string;
  let guestDir: string;
  let scanned: BrowserContext | undefined;
  let guest: BrowserContext | undefined;
  const others: TestPage[] = [];
  const secrets: Record<string, string> = {};
  const links: Record<string, string> = {};

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
    profileDir = mkdtempSync(join(tmpdir(), 'fhv-privacy-profile-'));
    guestDir = mkdtempSync(join(tmpdir(), 'fhv-privacy-guest-'));
  }, SLOW);

  afterAll(async () => {
    for (const p of others) await p.close().catch(() => undefined);
    await scanned?.close().catch(() => undefined);
    await guest?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    rmSync(profileDir, { recursive: true, force: true });
    rmSync(guestDir, { recursive: true, force: true });
  }, SLOW);

  const other = async (name: string, url = `${app.url}/`, viewport: 'desktop' | 'phone' = 'desktop') => {
    const p = await newPage(browser, url, { name, viewport });
    others.push(p);
    return p;
  };

  /** The secret leaves the address bar and the entry's saved state once the page has read it. */
  const addressForgets = async (page: Page, secret: string, neutral: string) => {
    await expect.poll(() => page.url(), { timeout: WAIT }).toBe(neutral);
    expect(JSON.stringify(await page.evaluate(() => history.state))).not.toContain(secret);
  };

  it(
    'a full session on one browser profile: device link, family member, records, note, every screen, a download, a health link, an invite',
    async () => {
      scanned = await launchProfile(profileDir);
      const page = scanned.pages()[0] ?? (await scanned.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      // The person's other device shows a one-time link; this browser opens it (as from a QR code).
      const laptop = await other('laptop');
      await onboard(laptop.page, CANARIES.person);
      await goto(laptop.page, app, '/settings');
      await laptop.page.getByRole('button', { name: 'Link a new device' }).click();
      links.device = await laptop.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      secrets.device = links.device.split('#/link/')[1]!;
      await page.goto(links.device);
      await page.getByLabel('Your name').fill(CANARIES.person);
      await addressForgets(page, secrets.device, `${app.url}/#/`);
      expect(await axeViolations(page, 'device link, address forgotten')).toEqual([]);
      await screenshot(page, 'privacy-link-page-desktop');
      await page.getByLabel('Name of this device').fill(CANARIES.device);
      await page.getByRole('button', { name: 'Add this device' }).click();
      await page.getByRole('heading', { level: 1, name: `${CANARIES.person}'s family` }).waitFor({ timeout: WAIT });
      await seesText(laptop.page, `${CANARIES.device} was added`);

      // A family member, a record, a note.
      const doc = await addFamilyMember(page, CANARIES.patient, 'aunt');
      await addRecord(page, app, doc, 'allergies', allergy(CANARIES.allergy));
      await goto(page, app, `/p/${doc}/notes`);
      await page.getByLabel('Care notes').pressSequentially(`${CANARIES.note}. `, { delay: 5 });
      await expect.poll(() => page.getByLabel('Care notes').inputValue(), { timeout: WAIT }).toContain(CANARIES.note);

      // Every main screen: the name is on the page, never in the title.
      const screens = ['/', `/p/${doc}`, `/p/${doc}/s/allergies`, `/p/${doc}/meds`, `/p/${doc}/trends`, `/p/${doc}/notes`, `/p/${doc}/emergency`, `/p/${doc}/share`, '/settings'];
      const titles: string[] = [];
      for (const screen of screens) {
        await goto(page, app, screen);
        if (screen.startsWith('/p/')) await page.getByRole('heading', { level: 1, name: CANARIES.patient }).waitFor({ timeout: WAIT });
        else await page.getByRole('heading', { level: 1 }).first().waitFor({ timeout: WAIT });
        await page.waitForFunction(() => document.title.endsWith('Family Health Vault'), undefined, { timeout: WAIT });
        titles.push(await page.title());
      }
      for (const t of titles) for (const c of Object.values(CANARIES)) expect(t, `title "${t}"`).not.toContain(c);
      expect(titles).toContain('Overview · Family Health Vault');

      // A download of the whole record (it goes to the downloads folder, not the profile).
      await goto(page, app, `/p/${doc}`);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), page.getByRole('button', { name: 'Download a copy (JSON)' }).click()]);
      expect(download.suggestedFilename()).toBe('health-record.json');
      expect(await download.path()).toBeTruthy();

      // A SMART Health Link to the summary, opened in the viewer in a second tab.
      await goto(page, app, `/p/${doc}/share`);
      await sharingPart(page, 'Clinician');
      await page.getByLabel('Label (shown to whoever opens it)').fill('For the clinic');
      await page.getByRole('button', { name: 'Create link' }).click();
      links.shl = await page.getByTestId('health-link').inputValue({ timeout: WAIT });
      secrets.shl = links.shl.split('#shlink:/')[1]!;
      const viewer = await scanned.newPage();
      await viewer.goto(links.shl);
      await addressForgets(viewer, secrets.shl, `${app.url}/shl`);
      await viewer.getByRole('article').first().waitFor({ timeout: WAIT });
      for (const c of Object.values(CANARIES)) expect(await viewer.title()).not.toContain(c);
      // A reload of the neutral address shows the empty viewer: the link is no longer in this tab.
      await viewer.reload();
      await seesText(viewer, 'Open a SMART Health Link');
      await viewer.close();

      // An invite from another family, opened and accepted here.
      const helper = await other('helper');
      await onboard(helper.page, 'Helper Owner');
      const helperDoc = await addFamilyMember(helper.page, 'Helper Relative', 'father');
      links.invite = await createInvite(helper.page, app, helperDoc, 'editor');
      secrets.invite = links.invite.split('#/join/')[1]!;
      await page.goto(links.invite);
      await addressForgets(page, secrets.invite, `${app.url}/#/`);
      // A reload before joining shows the family (the secret is gone from the tab); the link,
      // opened again from where it came, still works.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: `${CANARIES.person}'s family` }).waitFor({ timeout: WAIT });
      await page.goto(links.invite);
      await addressForgets(page, secrets.invite, `${app.url}/#/`);
      await page.getByLabel('Whose record is it?').fill(CANARIES.joined);
      await page.getByLabel('Relationship to you').fill('uncle');
      await page.getByRole('button', { name: 'Join' }).click();
      // The profile shows its own name (the one typed here is kept, sealed, in this person's vault).
      await page.getByRole('heading', { level: 1, name: 'Helper Relative' }).waitFor({ timeout: WAIT });
      await page.getByRole('link', { name: 'Family', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: `${CANARIES.person}'s family` }).waitFor({ timeout: WAIT });
      await seesText(page, 'uncle · editor');
      await screenshot(page, 'privacy-scan-family');
      await screenshot(page, 'privacy-scan-joined');

      // A clinician's live session, opened on a browser of its own as a memory-only guest.
      await goto(page, app, `/p/${doc}/share`);
      await sharingPart(page, 'Clinician');
      await page.getByLabel('Length').selectOption('15');
      await page.getByRole('button', { name: 'Start session' }).click();
      links.session = await page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      secrets.session = links.session.split('#/join/')[1]!;
      guest = await launchProfile(guestDir);
      const dr = guest.pages()[0] ?? (await guest.newPage());
      await dr.goto(links.session);
      await addressForgets(dr, secrets.session, `${app.url}/#/`);
      await dr.getByLabel('Your name (shown to the family)').fill(CANARIES.guest);
      await dr.getByRole('button', { name: 'Join' }).click();
      await dr.getByRole('heading', { level: 1, name: CANARIES.patient }).waitFor({ timeout: WAIT });
      for (const c of Object.values(CANARIES)) expect(await dr.title()).not.toContain(c);
      await dr.getByRole('link', { name: /^Allergies/ }).click();
      await seesText(dr, CANARIES.allergy);
      // The family sees who is here: a chip in the presence row (first name), the full name under People.
      await sharingPart(page, 'People');
      await seesText(page, CANARIES.guest);
      await dr.evaluate((c) => localStorage.setItem('privacy-scan-control', c), CONTROLS.local);
      await guest.close();
      guest = undefined;

      // The controls, in plain storage of the same origin.
      await page.evaluate(async (c) => {
        localStorage.setItem('privacy-scan-control', c.local);
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const r = indexedDB.open('privacy-scan-control', 1);
          r.onupgradeneeded = () => r.result.createObjectStore('plain');
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        const put = (key: string, value: string) =>
          new Promise<void>((resolve, reject) => {
            const t = db.transaction('plain', 'readwrite');
            t.objectStore('plain').put(value, key);
            t.oncomplete = () => resolve();
            t.onerror = () => reject(t.error);
          });
        // A compressible neighbourhood for the block control, so its table block is Snappy-compressed.
        await put('c-control', c.block);
        for (let i = 0; i < 100; i++) await put(`c-pad-${String(i).padStart(3, '0')}`, 'a'.repeat(400));
        // Large and compressible: Blink compresses the value itself.
        await put('v-control', c.value + 'b'.repeat(100_000));
        // ~5 MB that does not compress: LevelDB flushes its memtable into a table (.ldb).
        for (let i = 0; i < 150; i++) {
          const r = new Uint8Array(36_000);
          for (let k = 0; k < r.length; k += 65_536) crypto.getRandomValues(r.subarray(k, k + 65_536));
          await put(`r-${i}`, btoa(String.fromCharCode(...r)));
        }
        db.close();
      }, CONTROLS);
      expect(errors).toEqual([]);
      await scanned.close();
      scanned = undefined;
    },
    SLOW,
  );

  it(
    'the closed profile directory holds no canary; every control canary is found the hard way',
    () => {
      const result = scanProfile(profileDir, { ...CANARIES, ...CONTROLS, ...prefixed(secrets) });
      const of = (name: string): Hit[] => result.hits.filter((h) => h.canary === name);
      expect(result.files).toBeGreaterThan(20);
      // Not blind: each control is found, the block one only through a decompressed Snappy block.
      expect(of('local').length).toBeGreaterThan(0);
      expect(of('block').map((h) => h.via)).toEqual(expect.arrayContaining([expect.stringContaining('table-block(snappy)')]));
      expect(of('block').filter((h) => h.via === 'raw')).toEqual([]);
      expect(of('value').map((h) => h.via)).toEqual(expect.arrayContaining([expect.stringContaining('snappy-value')]));
      // Nothing the family typed, anywhere.
      const leaks = Object.keys(CANARIES).flatMap((c) => of(c).map((h) => `${c} in ${h.file} (${h.via}, ${h.encoding})`));
      expect(leaks).toEqual([]);
      // Secrets: only in the browser's own navigation records (written before any script runs).
      const misplaced = Object.keys(secrets).flatMap((s) => of(`secret-${s}`).filter((h) => !NAVIGATION_RECORDS.test(h.file)).map((h) => `${s} in ${h.file} (${h.via})`));
      expect(misplaced).toEqual([]);
      // The session link was only shown here (read-only field, QR), never opened: not even the
      // browser's records hold it (a read-only field's value is saved form state unless autocomplete is off).
      expect(of('secret-session').map((h) => `${h.file} (${h.via}, ${h.encoding})`)).toEqual([]);
      console.log(`privacy scan: ${result.files} files, ${(result.bytes / 1e6).toFixed(1)} MB; secrets kept by the browser's navigation records: ${[...new Set(Object.keys(secrets).flatMap((s) => of(`secret-${s}`).map((h) => `${s}@${h.file}`)))].join(', ') || 'none'}`);
    },
    SLOW,
  );

  it(
    "a clinician's memory-only guest browser keeps nothing of the session: no name, no record, no note",
    () => {
      const result = scanProfile(guestDir, { ...CANARIES, local: CONTROLS.local, ...prefixed(secrets) });
      const of = (name: string): Hit[] => result.hits.filter((h) => h.canary === name);
      expect(result.files).toBeGreaterThan(20);
      expect(of('local').length).toBeGreaterThan(0); // not blind: the control planted in the guest's Local Storage
      const leaks = Object.keys(CANARIES).flatMap((c) => of(c).map((h) => `${c} in ${h.file} (${h.via}, ${h.encoding})`));
      expect(leaks).toEqual([]);
      const misplaced = of('secret-session').filter((h) => !NAVIGATION_RECORDS.test(h.file)).map((h) => `session in ${h.file} (${h.via})`);
      expect(misplaced).toEqual([]);
    },
    SLOW,
  );

  it(
    'the invite, device-link and session secrets the browsers kept are spent: opened again, they are refused',
    async () => {
      const reuse = await other('reuse-device-link', links.device!, 'phone');
      await addressForgets(reuse.page, secrets.device!, `${app.url}/#/`);
      await reuse.page.getByLabel('Your name').fill('Someone');
      await reuse.page.getByRole('button', { name: 'Add this device' }).click();
      await seesText(reuse.page, 'already used');
      await screenshot(reuse.page, 'privacy-link-reused-phone');

      const stranger = await other('reuse-invite');
      await onboard(stranger.page, 'Stranger');
      await stranger.page.goto(links.invite!);
      await addressForgets(stranger.page, secrets.invite!, `${app.url}/#/`);
      // A used link is refused as soon as it is read, before anything is asked or created (0039).
      await stranger.page.getByTestId('invite-refused').waitFor({ timeout: WAIT });
      await seesText(stranger.page, 'it expired, or it never existed');
      expect(await axeViolations(stranger.page, 'join, address forgotten')).toEqual([]);
      expect(await stranger.page.getByLabel('Whose record is it?').count()).toBe(0);

      const late = await other('reuse-session', links.session!);
      await late.page.getByTestId('invite-refused').waitFor({ timeout: WAIT });
      expect(await late.page.getByLabel('Your name (shown to the family)').count()).toBe(0);
      expect(await stranger.page.getByRole('heading', { level: 1, name: 'Helper Relative' }).count()).toBe(0);
    },
    SLOW,
  );
});

/** Chromium with a profile directory of its own (what a person's browser keeps on disk). */
function launchProfile(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'allow',
    acceptDownloads: true,
  });
}

const prefixed = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`secret-${k}`, v]));
