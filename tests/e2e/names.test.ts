/**
 * People are people (docs/decisions/0038), in two browsers: an owner invites a viewer and names
 * the invitation; the viewer joins with a name of their own; each side sees the other's name
 * (and device label), never a key. The viewer renames themselves, gives the profile a nickname
 * and leaves it; the owner sees them gone. Phone and desktop screenshots, axe clean.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './axe.ts';
import { addFamilyMember, createInvite, goto, joinAsRelative, onboard, seesText, sharingPart, WAIT } from './flows.ts';
import { launchBrowser, newPage, screenshot, startApp, type App, type TestPage } from './harness.ts';

const SLOW = 300_000;

describe('e2e: names', () => {
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

  const open = async (name: string, viewport: 'desktop' | 'phone') => {
    const p = await newPage(browser, `${app.url}/`, { name, viewport });
    pages.push(p);
    return p;
  };
  /** The member list itself (the People part also lists everyone's safety code). */
  const people = (page: Page) => page.getByTestId('member-list');

  it(
    'an owner and a viewer see each other by name; the viewer renames, nicknames and leaves',
    async () => {
      const ana = await open('ana', 'desktop');
      await onboard(ana.page, 'Ana');
      const doc = await addFamilyMember(ana.page, 'Rose', 'mother');
      const link = await createInvite(ana.page, app, doc, 'viewer');
      // The owner names the invitation (open invites are listed under People): that is how the
      // viewer shows until they name themselves.
      await sharingPart(ana.page, 'People');
      await ana.page.getByRole('button', { name: 'Name: For' }).click();
      await ana.page.getByLabel('For', { exact: true }).fill('Grandpa Joe');
      await ana.page.getByRole('button', { name: 'Save', exact: true }).click();
      await seesText(ana.page, 'Invitation for Grandpa Joe');
      // An empty name is refused with a message, nothing written.
      await ana.page.getByRole('button', { name: 'Rename: For' }).click();
      await ana.page.getByLabel('For', { exact: true }).fill('   ');
      await ana.page.getByRole('button', { name: 'Save', exact: true }).click();
      await seesText(ana.page, 'Please enter a name.');
      await ana.page.getByRole('button', { name: 'Cancel' }).click();

      const joe = await open('joe', 'phone');
      await onboard(joe.page, 'Joe Bloggs');
      await joinAsRelative(joe.page, link, 'Rose');

      // The owner sees the viewer by the name he chose, with his device's label (no keys).
      await goto(ana.page, app, `/p/${doc}/share`);
      await people(ana.page).getByText('Joe Bloggs').waitFor({ timeout: WAIT });
      const anaList = (await people(ana.page).textContent())!;
      expect(anaList).toContain('Can view');
      expect(anaList).not.toMatch(/Member [0-9a-f]{6}|Device [0-9a-f]{8}/);
      // The owner's own device is marked and asks before revoking itself.
      await people(ana.page).getByRole('button', { name: 'Revoke this device (the one you are using)' }).click();
      await seesText(ana.page, 'This is the device you are using now.');
      await screenshot(ana.page, 'names-owner-desktop');
      expect(await axeViolations(ana.page, 'names-owner')).toEqual([]);
      await ana.page.getByRole('button', { name: 'Keep it' }).click();

      // The viewer sees the owner by name (People with access is on the profile's Sharing page).
      await goto(joe.page, app, `/p/${doc}/share`);
      await people(joe.page).getByText('Ana', { exact: true }).waitFor({ timeout: WAIT });
      expect((await people(joe.page).textContent())!).toContain('Owner');
      await screenshot(joe.page, 'names-viewer-phone');
      expect(await axeViolations(joe.page, 'names-viewer')).toEqual([]);

      // The viewer renames himself in Settings; the owner's list follows.
      await goto(joe.page, app, '/settings');
      await joe.page.getByRole('button', { name: 'Change: Your name' }).click();
      await joe.page.getByLabel('Your name', { exact: true }).fill('Joseph Bloggs');
      await joe.page.getByRole('button', { name: 'Save', exact: true }).click();
      await joe.page.getByText('Joseph Bloggs').waitFor({ timeout: WAIT });
      await screenshot(joe.page, 'names-settings-phone');
      await people(ana.page).getByText('Joseph Bloggs').waitFor({ timeout: WAIT });

      // His own name for the profile, seen only by him, on the family overview.
      await goto(joe.page, app, `/p/${doc}/share`);
      await joe.page.getByRole('button', { name: 'Change: Your name for this profile' }).click();
      await joe.page.getByLabel('Your name for this profile').fill('Nonna Rose');
      await joe.page.getByRole('button', { name: 'Save', exact: true }).click();
      await joe.page.getByText('Nonna Rose').first().waitFor({ timeout: WAIT });
      await goto(joe.page, app, '/');
      await joe.page.getByRole('heading', { level: 2, name: 'Nonna Rose' }).waitFor({ timeout: WAIT });
      await screenshot(joe.page, 'names-family-nickname-phone');

      // He leaves: after a confirmation, the profile goes from his list, and from the owner's people.
      await goto(joe.page, app, `/p/${doc}/share`);
      await joe.page.getByRole('button', { name: 'Leave this profile…' }).click();
      await seesText(joe.page, 'To come back you need a new invitation.');
      await screenshot(joe.page, 'names-leave-confirm-phone');
      await joe.page.getByRole('button', { name: 'Leave', exact: true }).click();
      await joe.page.getByRole('heading', { level: 1, name: "Joseph Bloggs's family" }).waitFor({ timeout: WAIT });
      expect(await joe.page.getByRole('heading', { level: 2, name: 'Nonna Rose' }).count()).toBe(0);
      await people(ana.page).getByText('Joseph Bloggs').waitFor({ state: 'detached', timeout: WAIT });
      await screenshot(ana.page, 'names-owner-after-leave-desktop');
      // The only owner may not leave: the page says so instead of offering it.
      await seesText(ana.page, 'You are the only owner, so you cannot leave this profile.');

      // Invited again, then removed by the owner: his card says access ended, shows none of the
      // old data, and offers to remove the profile from his device.
      const again = await createInvite(ana.page, app, doc, 'viewer');
      await joinAsRelative(joe.page, again, 'Rose');
      await goto(ana.page, app, `/p/${doc}/share`);
      ana.page.once('dialog', (d) => void d.accept());
      await people(ana.page).getByRole('button', { name: 'Remove Joseph Bloggs' }).click({ timeout: WAIT });
      await people(ana.page).getByText('Joseph Bloggs').waitFor({ state: 'detached', timeout: WAIT });
      await goto(joe.page, app, '/');
      await joe.page.getByTestId('access-ended').waitFor({ timeout: WAIT });
      expect(await joe.page.getByTestId('access-ended').textContent()).not.toContain('No allergies recorded');
      await screenshot(joe.page, 'names-access-ended-phone');
      expect(await axeViolations(joe.page, 'names-access-ended')).toEqual([]);
      await joe.page.getByRole('button', { name: 'Remove from this device' }).click();
      await joe.page.getByTestId('access-ended').waitFor({ state: 'detached', timeout: WAIT });
      expect(ana.errors.filter((e) => !/WebSocket|ERR_/.test(e))).toEqual([]);
    },
    SLOW,
  );
});
