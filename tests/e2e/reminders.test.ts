/**
 * Reminders in real Chromium (docs/decisions/0044): the meds page says what is due now and next;
 * permission is asked only from the button; at a dose's time (the page's clock moved, not waited
 * for) a notification says only "A dose is due"; a change by another member to a followed
 * section shows as a notice naming them. Notifications are captured by a stand-in for the
 * browser's Notification (headless Chromium shows none).
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { acceptInvitation } from '../../src/lib/vault/invite.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { axeViolations } from './axe.ts';
import { addFamilyMember, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 240_000;
const MED = 'Metformin-CANARY-REM-4410';

/** Records what the page notifies and how often it asked for permission. */
const NOTIFICATION_STAND_IN = () => {
  const w = window as unknown as { __notes: Array<{ title: string; body: string }>; __asked: number };
  w.__notes = [];
  w.__asked = 0;
  class StandIn {
    static permission: NotificationPermission = 'default';
    static async requestPermission(): Promise<NotificationPermission> {
      w.__asked += 1;
      StandIn.permission = 'granted';
      return 'granted';
    }
    constructor(title: string, o?: NotificationOptions) {
      w.__notes.push({ title, body: o?.body ?? '' });
    }
  }
  (window as unknown as { Notification: unknown }).Notification = StandIn;
};

describe('e2e: reminders', () => {
  let app: App;
  let browser: Browser;
  let ana: TestPage;
  let tom: Profile | undefined;

  beforeAll(async () => {
    app = await startApp();
    browser = await launchBrowser();
  }, SLOW);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && ana) {
      await screenshot(ana.page, 'reminders-failed').catch(() => undefined);
      console.log(ana.errors);
    }
  });

  afterAll(async () => {
    await tom?.close().catch(() => undefined);
    await ana?.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  }, SLOW);

  const notes = () => ana.page.evaluate(() => (window as unknown as { __notes: Array<{ title: string; body: string }> }).__notes);

  it(
    'due now and next, permission only from the button, a neutral notification at the dose time, and a notice naming who changed a followed section',
    async () => {
      ana = await newPage(browser, `${app.url}/`, { name: 'ana' });
      await ana.context.addInitScript(NOTIFICATION_STAND_IN);
      // The page's timers run on a clock the test can move.
      await ana.page.clock.install();
      await ana.page.reload();
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');

      // Tom, an editor on his own device, writes Rose's medication: a dose in 90 minutes (past
      // the hour either side in which a dose counts as "due now").
      await ana.page.getByRole('link', { name: 'Sharing' }).click();
      await sharingPart(ana.page, 'Invite');
      await ana.page.getByLabel('They can').selectOption('editor');
      await ana.page.getByRole('button', { name: 'Create invite link' }).click();
      const link = await ana.page.getByTestId('invite-link').inputValue({ timeout: WAIT });
      tom = await acceptInvitation(link, { signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: app.relay.url, minReconnectDelayMs: 50 });
      tom.setDisplayName('Tom');
      const pageNow = await ana.page.evaluate(() => Date.now());
      const at = new Date(pageNow + 90 * 60_000);
      const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
      tom.records.put('medications', {
        id: 'met',
        schemaVersion: 1,
        resourceType: 'MedicationStatement',
        status: 'active',
        medicationCodeableConcept: { text: MED },
        dosage: [{ text: '1 tablet', timing: { repeat: { timeOfDay: [`${hhmm}:00`] } } }],
      });
      await tom.flush();

      await ana.page.getByRole('link', { name: 'Medications' }).click();
      await seesText(ana.page, `Next today: ${hhmm} ${MED}`);
      await seesText(ana.page, 'Reminders come only while this app is open');
      expect(await ana.page.evaluate(() => (window as unknown as { __asked: number }).__asked)).toBe(0);

      await ana.page.getByRole('button', { name: 'Turn on reminders on this device' }).click();
      await seesText(ana.page, 'Dose reminders are on');
      expect(await ana.page.evaluate(() => (window as unknown as { __asked: number }).__asked)).toBe(1);
      await ana.page.getByText('Tell me when someone else changes').click();
      await ana.page.getByLabel('Allergies', { exact: true }).check();
      await screenshot(ana.page, 'reminders-desktop');
      expect(await axeViolations(ana.page, 'medications with reminders')).toEqual([]);

      // Someone else changes a followed section: a notice names him, the notification does not say what.
      tom.records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });
      await tom.flush();
      await seesText(ana.page, 'Tom added a record in Allergies');
      await expect.poll(notes, { timeout: WAIT }).toContainEqual({ title: 'A record you follow changed', body: 'Open Family Health Vault to see it.' });

      // The dose's time comes: one neutral notification.
      expect((await notes()).filter((n) => n.title === 'A dose is due')).toHaveLength(0);
      await ana.page.clock.fastForward('01:31:00');
      await expect.poll(async () => (await notes()).filter((n) => n.title === 'A dose is due'), { timeout: WAIT }).toHaveLength(1);
      expect(JSON.stringify(await notes())).not.toContain('CANARY');
      expect(JSON.stringify(await notes())).not.toContain('Rose');
      await seesText(ana.page, '1 dose due now');

      await ana.page.setViewportSize({ width: 390, height: 844 });
      await screenshot(ana.page, 'reminders-phone');
      expect(await axeViolations(ana.page, 'medications with reminders, phone')).toEqual([]);
      expect(ana.errors).toEqual([]);
      void doc;
    },
    SLOW,
  );
});
