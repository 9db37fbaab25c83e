/** The steps a person takes in the app, shared by the e2e tests (selectors are what a person reads). */
import type { Page } from 'playwright-core';
import type { App } from './harness.ts';

export const WAIT = 20_000;

export async function onboard(page: Page, name: string): Promise<string> {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Create my vault' }).click();
  const code = (await page.getByTestId('recovery-code').textContent({ timeout: WAIT }))!.trim();
  await page.getByLabel('I have written down my recovery code').check();
  await page.getByRole('button', { name: 'Continue to my family' }).click();
  await page.getByRole('heading', { level: 1, name: `${name}'s family` }).waitFor({ timeout: WAIT });
  return code;
}

export async function addFamilyMember(page: Page, name: string, relationship: string): Promise<string> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Relationship to you').fill(relationship);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('link', { name: new RegExp(name) }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: WAIT });
  return new URL(page.url()).hash.split('/')[2]!;
}

export const goto = (page: Page, app: App, hash: string) => page.goto(`${app.url}/#${hash}`);

export async function createInvite(page: Page, app: App, doc: string, role: 'viewer' | 'editor'): Promise<string> {
  await goto(page, app, `/p/${doc}/share`);
  await sharingPart(page, 'Invite');
  await page.getByLabel('They can').selectOption(role);
  await page.getByRole('button', { name: 'Create invite link' }).click();
  return page.getByTestId('invite-link').inputValue({ timeout: WAIT });
}

/** Sharing is in parts (People, Invite, Clinician, Activity): opens one. */
export async function sharingPart(page: Page, part: 'People' | 'Invite' | 'Clinician' | 'Activity'): Promise<void> {
  await page.getByRole('tab', { name: part }).click({ timeout: WAIT });
}

export async function joinAsRelative(page: Page, link: string, name: string): Promise<void> {
  await page.goto(link);
  await page.getByLabel('Whose record is it?').fill(name);
  await page.getByLabel('Relationship to you').fill('grandmother');
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByRole('heading', { level: 1, name: 'Rose' }).waitFor({ timeout: WAIT });
}

export async function addRecord(page: Page, app: App, doc: string, slug: string, fill: (page: Page) => Promise<void>): Promise<void> {
  await goto(page, app, `/p/${doc}/s/${slug}`);
  await page.getByRole('button', { name: /^Add / }).click();
  await fill(page);
  await page.getByRole('button', { name: /^Save / }).click();
  await page.getByRole('button', { name: /^Add / }).waitFor({ timeout: WAIT });
}

export const allergy = (substance: string) => async (page: Page) => page.getByRole('textbox', { name: 'Substance' }).fill(substance);
/** Every value in every IndexedDB database of the page, bytes as latin1 (to search for plaintext). */
export async function dumpIndexedDb(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const parts: string[] = [];
    const flat = (v: unknown): void => {
      if (v instanceof Uint8Array) parts.push(Array.from(v, (b) => String.fromCharCode(b)).join(''));
      else if (v instanceof ArrayBuffer) flat(new Uint8Array(v));
      else if (Array.isArray(v)) v.forEach(flat);
      else if (v && typeof v === 'object' && !(v instanceof CryptoKey)) Object.values(v).forEach(flat);
      else parts.push(String(v));
    };
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(name!);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const all = await new Promise<unknown[]>((resolve, reject) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        flat(all);
      }
      db.close();
    }
    return parts.join('\n');
  });
}

export const seesText = (page: Page, text: string) => page.getByText(text, { exact: false }).first().waitFor({ timeout: WAIT });
