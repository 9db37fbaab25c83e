/**
 * The web app in real Chromium against the real relay (npm start's server, on loopback):
 * relatives co-editing one profile, offline edits and an offline reload, a viewer who cannot
 * write (and whose forged write the relay refuses), and a clinician's live, expiring session.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP } from '../../src/lib/protocol/index.ts';
import { acceptInvitation } from '../../src/lib/vault/invite.ts';
import { forgeRecord } from '../helpers/forge.ts';
import { storedEnvelopes } from '../helpers/relay.ts';
import { axeViolations } from './axe.ts';
import { addFamilyMember, addRecord, allergy, createInvite, dumpIndexedDb, goto, joinAsRelative, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, setOffline, startApp, type App, type TestPage } from './harness.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

const SLOW = 240_000;

/** Relay clock offset (the clinician test moves the relay's time forward). */
let clockOffset = 0;

describe('e2e: the web app in Chromium', () => {
  let app: App;
  let browser: Browser;
  const pages: TestPage[] = [];
  let ana: TestPage;
  let ben: TestPage;
  let doc: string;
  let anaCode: string;

  beforeAll(async () => {
    app = await startApp({ now: () => Date.now() + clockOffset, expiryCheckMs: 250 });
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  }, SLOW);

  // A failure in CI leaves only the log: say what each page showed (synthetic test data only).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const p of pages) {
      const sync = await p.page.getByTestId('sync-indicator').first().innerText({ timeout: 1000 }).catch(() => '(no sync indicator)');
      console.error(`[e2e failure] ${p.name} at ${new URL(p.page.url()).hash.replace(/[A-Za-z0-9_-]{40,}/g, '…')}: sync "${sync.replace(/\s+/g, ' ')}"; errors ${JSON.stringify([...p.errors, ...p.failedRequests])}`);
      await screenshot(p.page, `failed-${p.name}`).catch(() => undefined);
    }
  });

  const open = async (name: string, viewport: 'desktop' | 'phone' = 'desktop', url = `${app.url}/`) => {
    const p = await newPage(browser, url, { name, viewport });
    pages.push(p);
    return p;
  };

  it(
    'two relatives co-edit one profile at the same time: the same note and different records converge, each sees the other',
    async () => {
      ana = await open('ana');
      await screenshot(ana.page, 'onboarding');
      anaCode = await onboard(ana.page, 'Ana');
      doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      const link = await createInvite(ana.page, app, doc, 'editor');
      expect(link).toMatch(/#\/join\/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      await screenshot(ana.page, 'sharing-invite');
      expect(await axeViolations(ana.page, 'sharing')).toEqual([]);

      ben = await open('ben', 'phone');
      await onboard(ben.page, 'Ben');
      await joinAsRelative(ben.page, link, 'Grandma Rose');
      // The invite secret leaves the address bar once used.
      expect(ben.page.url()).not.toContain('/join/');

      // Both on the same note, typing at once.
      await Promise.all([goto(ana.page, app, `/p/${doc}/notes`), goto(ben.page, app, `/p/${doc}/notes`)]);
      const anaNote = ana.page.getByLabel('Care notes');
      const benNote = ben.page.getByLabel('Care notes');
      await Promise.all([anaNote.waitFor(), benNote.waitFor()]);
      await Promise.all([
        anaNote.pressSequentially('Ana: ask about the new dizziness CANARY-NOTE-5521. ', { delay: 15 }),
        benNote.pressSequentially('Ben: BP was high on Sunday. ', { delay: 15 }),
      ]);
      const bothLines = (t: string) => t.includes('Ana: ask about the new dizziness CANARY-NOTE-5521.') && t.includes('Ben: BP was high on Sunday.');
      await expect.poll(() => anaNote.inputValue(), { timeout: WAIT }).toSatisfy(bothLines);
      await expect.poll(() => benNote.inputValue(), { timeout: WAIT }).toSatisfy(bothLines);
      expect(await anaNote.inputValue()).toBe(await benNote.inputValue());
      // Presence: each sees the other, on the notes.
      await seesText(ana.page, 'Ben');
      await seesText(ben.page, 'Ana');
      await screenshot(ana.page, 'notes-live-desktop');
      await screenshot(ben.page, 'notes-live-phone');
      expect(await axeViolations(ana.page, 'notes')).toEqual([]);

      // Different records at the same time.
      await Promise.all([
        addRecord(ana.page, app, doc, 'allergies', allergy('Penicillin')),
        addRecord(ben.page, app, doc, 'conditions', async (p) => {
          await p.getByRole('textbox', { name: 'Condition' }).fill('Asthma');
          await p.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Active' });
        }),
      ]);
      await goto(ana.page, app, `/p/${doc}/s/conditions`);
      await seesText(ana.page, 'Asthma');
      await goto(ben.page, app, `/p/${doc}/s/allergies`);
      await seesText(ben.page, 'Penicillin');
      // History names who did it, from the signed records.
      await ben.page.getByText('History').first().click();
      await seesText(ben.page, 'Ana added');
      await screenshot(ben.page, 'allergies-history-phone');
      expect([...ana.errors, ...ben.errors]).toEqual([]);
    },
    SLOW,
  );

  it(
    'offline: edits persist encrypted on the device, survive a reload while offline, and sync on reconnect',
    async () => {
      await setOffline(ben.context, true);
      await addRecord(ben.page, app, doc, 'allergies', allergy('Latex'));
      await seesText(ben.page, 'Offline');
      await ben.page.reload();
      await goto(ben.page, app, `/p/${doc}/s/allergies`);
      await seesText(ben.page, 'Latex');
      await seesText(ben.page, 'Penicillin');
      // The sealed-but-unsent edit is still counted after the reload.
      await seesText(ben.page, 'saved on this device');
      await screenshot(ben.page, 'offline-after-reload-phone');
      // Meanwhile Ana adds one too.
      await addRecord(ana.page, app, doc, 'allergies', allergy('Aspirin'));
      await setOffline(ben.context, false);
      await seesText(ben.page, 'Aspirin');
      await goto(ana.page, app, `/p/${doc}/s/allergies`);
      await seesText(ana.page, 'Latex');
      await seesText(ben.page, 'Synced');

      // What the device keeps (IndexedDB) and what the relay stores are ciphertext only.
      const canaries = ['CANARY-NOTE-5521', 'Penicillin', 'Latex', 'Asthma', 'dizziness'];
      const local = await dumpIndexedDb(ben.page);
      expect(local.length).toBeGreaterThan(1000);
      for (const c of canaries) expect(local.includes(c), `device storage holds "${c}" in clear`).toBe(false);
      const stored = storedEnvelopes(app.relay.config.dataDir).dumpAll().map((b) => Buffer.from(b).toString('latin1')).join('');
      expect(stored.length).toBeGreaterThan(1000);
      for (const c of canaries) expect(stored.includes(c), `relay storage holds "${c}" in clear`).toBe(false);
    },
    SLOW,
  );

  it(
    "Ana's phone restores her vault from the recovery code and sees the family and the record",
    async () => {
      const phone = await open('ana-phone', 'phone');
      await phone.page.getByRole('button', { name: 'I have a recovery code' }).click();
      await phone.page.getByLabel('Your name').fill('Ana');
      await phone.page.getByLabel('Name of this device').fill('Phone');
      await phone.page.getByLabel('Recovery code').fill('not a real code');
      await phone.page.getByRole('button', { name: 'Restore my vault' }).click();
      await phone.page.getByRole('alert').waitFor({ timeout: WAIT });
      await phone.page.getByLabel('Recovery code').fill(anaCode);
      await phone.page.getByRole('button', { name: 'Restore my vault' }).click();
      await phone.page.getByRole('heading', { level: 1, name: "Ana's family" }).waitFor({ timeout: WAIT });
      await phone.page.getByRole('link', { name: /Rose/ }).click();
      await goto(phone.page, app, `/p/${doc}/s/allergies`);
      await seesText(phone.page, 'Latex');
      await seesText(phone.page, 'Your role: owner');
      await screenshot(phone.page, 'restored-phone');
      // The new device shows up in Ana's settings on her laptop.
      await goto(ana.page, app, '/settings');
      await seesText(ana.page, 'Phone · added');
      expect(await ana.page.getByText(/· added/).count()).toBe(2);
    },
    SLOW,
  );

  it(
    'Ana adds her tablet with a one-time link from her laptop; the same link is refused a second time',
    async () => {
      await goto(ana.page, app, '/settings');
      await ana.page.getByRole('button', { name: 'Link a new device' }).click();
      const link = await ana.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      expect(link).toMatch(/#\/link\/[A-Za-z0-9_-]+$/);
      await screenshot(ana.page, 'link-device-qr');
      const tablet = await open('ana-tablet', 'desktop', link);
      await tablet.page.getByLabel('Your name').fill('Ana');
      await tablet.page.getByLabel('Name of this device').fill('Tablet');
      await tablet.page.getByRole('button', { name: 'Add this device' }).click();
      await tablet.page.getByRole('heading', { level: 1, name: "Ana's family" }).waitFor({ timeout: WAIT });
      expect(tablet.page.url()).not.toContain('/link/');
      await seesText(tablet.page, 'Rose');
      await seesText(ana.page, 'Tablet was added');
      const again = await open('link-reuse', 'desktop', link);
      await again.page.getByLabel('Your name').fill('Someone');
      await again.page.getByRole('button', { name: 'Add this device' }).click();
      await seesText(again.page, 'already used');
    },
    SLOW,
  );

  it(
    'a viewer sees everything but cannot edit; a write forged with a viewer key is refused by the relay',
    async () => {
      const link = await createInvite(ana.page, app, doc, 'viewer');
      const cleo = await open('cleo');
      await onboard(cleo.page, 'Cleo');
      await joinAsRelative(cleo.page, link, 'Rose');
      await seesText(cleo.page, 'View only');
      await goto(cleo.page, app, `/p/${doc}/s/allergies`);
      await seesText(cleo.page, 'Penicillin');
      expect(await cleo.page.getByRole('button', { name: /^Add / }).count()).toBe(0);
      expect(await cleo.page.getByRole('button', { name: /^Edit / }).count()).toBe(0);
      await goto(cleo.page, app, `/p/${doc}/notes`);
      const note = cleo.page.getByLabel('Care notes');
      const before = await note.inputValue();
      expect(await note.getAttribute('readonly')).not.toBeNull();
      await note.pressSequentially('viewer typing', { delay: 5 }).catch(() => undefined);
      expect(await note.inputValue()).toBe(before);
      await screenshot(cleo.page, 'viewer-notes');

      // A second viewer, outside any browser, signs a write with its own (viewer) key.
      const viewerLink = await createInvite(ana.page, app, doc, 'viewer');
      const keys = { signer: generateSigningKeyPair(), box: generateBoxKeyPair() };
      const viewer = await acceptInvitation(viewerLink, { ...keys, relayUrl: app.relay.url, minReconnectDelayMs: 50 });
      try {
        const forged = await forgeRecord({
          signer: keys.signer,
          docId: viewer.access.docId,
          key: engineOf(viewer).sync.keys.get(engineOf(viewer).sync.currentEpoch)!,
          epoch: engineOf(viewer).sync.currentEpoch,
          seq: 1000,
          edit: (d) => d.getMap('allergies').set('forged', { id: 'forged', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'FORGED-CANARY' } }),
        });
        engineOf(viewer).envelopeDoc.getMap<Uint8Array>(ENVELOPE_MAP).set(forged.key, forged.bytes);
        await engineOf(viewer).connection!.refusal.when((r) => r !== null, WAIT);
        expect(engineOf(viewer).connection!.refusal.value).toBe('RECORD_NOT_WRITER');
      } finally {
        await viewer.close();
      }
      await goto(ana.page, app, `/p/${doc}/s/allergies`);
      await seesText(ana.page, 'Aspirin');
      expect(await ana.page.getByText('FORGED-CANARY').count()).toBe(0);
    },
    SLOW,
  );

  it(
    'a clinician joins from the session QR link, sees live changes, and is cut off when the time is up',
    async () => {
      await goto(ana.page, app, `/p/${doc}/share`);
      await sharingPart(ana.page, 'Clinician');
      await ana.page.getByLabel('Length').selectOption('15');
      await ana.page.getByRole('button', { name: 'Start session' }).click();
      const link = await ana.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      await ana.page.getByRole('img', { name: /QR code/ }).waitFor();
      await seesText(ana.page, 'left');
      await screenshot(ana.page, 'clinician-session-qr');
      expect(await axeViolations(ana.page, 'clinician session')).toEqual([]);

      // Scanning the QR code opens the link in a fresh browser.
      const dr = await open('clinician', 'phone', link);
      // The join screen reads the invite first (a session's link: the guest path, with its end).
      await dr.page.getByLabel('Your name (shown to the family)').waitFor({ timeout: WAIT });
      await screenshot(dr.page, 'join-as-guest-phone');
      expect(await axeViolations(dr.page, 'join')).toEqual([]);
      await dr.page.getByLabel('Your name (shown to the family)').fill('Dr. Lee');
      await dr.page.getByRole('button', { name: 'Join' }).click();
      await dr.page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
      // A guest's keys live in this page only: move by links (a reload would end the session).
      await dr.page.getByRole('link', { name: /^Allergies/ }).click();
      await seesText(dr.page, 'Penicillin');

      await addRecord(ana.page, app, doc, 'allergies', allergy('Ibuprofen'));
      await seesText(dr.page, 'Ibuprofen');
      await screenshot(dr.page, 'clinician-live-phone');

      // The session's 15 minutes pass (the relay's clock moves on): the relay cuts the clinician off.
      clockOffset = 16 * 60_000;
      await dr.page.getByTestId('access-ended').waitFor({ timeout: WAIT });
      expect(await dr.page.getByText('Ibuprofen').count()).toBe(0);
      await screenshot(dr.page, 'clinician-session-ended');
      clockOffset = 0;
      // A reload keeps nothing either: the page says so instead of offering a vault of its own.
      await dr.page.reload();
      await seesText(dr.page, 'This session is not open on this device');
      expect(await dr.page.getByText('Ibuprofen').count()).toBe(0);
    },
    SLOW,
  );
});
