/**
 * The share page's SMART Health Link panel state (src/lib/state/shl-share.svelte.ts) over a
 * real vault and relay: an owner makes a passcode link, sees it once (link, QR content,
 * passcode), the profile's list holds the link without its key or passcode, a second owner
 * device sees and revokes it, the viewer then gets "not found", and both actions are audited.
 */
import { flushSync } from 'svelte';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { openSharedLink, ShlError } from '../../src/lib/vault/shl.ts';
import { formatUntil, HealthLinkShare } from '../../src/lib/state/shl-share.svelte.ts';
import { startChildRelay, type ChildRelay } from './shl-share-relay.ts';

const CANARY = 'CANARY-SHL-SHARE-5521';
const PASSCODE = 'PASS-CANARY-3318';
const DAY = 86_400_000;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return (e as ShlError).code;
  }
}

describe('HealthLinkShare (the share page panel)', () => {
  let relay: ChildRelay;
  const owner = generateSigningKeyPair();
  const secondOwner = generateSigningKeyPair();
  const editor = generateSigningKeyPair();
  let profile: Profile;
  let other: Profile;

  beforeAll(async () => {
    relay = await startChildRelay();
    profile = await Profile.create({
      signer: owner,
      box: generateBoxKeyPair(),
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [
        { publicKey: secondOwner.publicKey, role: Role.owner, expiresAt: 0 },
        { publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 },
      ],
    });
    profile.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: CANARY } });
    await profile.flush();
    other = await Profile.open({ signer: secondOwner, access: profile.accessBundle(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    await other.status.when((s) => s.synced);
  });

  afterAll(async () => {
    await other?.close();
    await profile?.close();
    await relay?.stop();
  });

  it('makes a passcode link shown once; the list keeps no key or passcode; another owner revokes it; the viewer then gets not found', async () => {
    const now = Date.now();
    const panel = new HealthLinkShare(profile, { now: () => now });
    panel.label = '  For the clinic ';
    panel.expiryDays = 30;
    panel.passcode = PASSCODE;
    expect(panel.expiresAt(now)).toBe(now + 30 * DAY);

    const made = await panel.create();
    expect(panel.error).toBeNull();
    expect(made).not.toBeNull();
    // The passcode field is cleared at once; the passcode is in the result shown once only.
    expect(panel.passcode).toBe('');
    expect(panel.label).toBe('');
    expect(made!.passcode).toBe(PASSCODE);
    expect(made!.label).toBe('For the clinic');
    expect(made!.link).toMatch(new RegExp(`^${relay.httpUrl}/shl#shlink:/[A-Za-z0-9_-]+$`));
    expect(made!.qr).toBe(made!.link);
    expect(made!.expiresAt).toBe(Math.floor((now + 30 * DAY) / 1000) * 1000);
    expect(panel.shown(now)).toBe(made);

    // The profile's list: the link's facts, never its key, the link or the passcode.
    const [listed] = panel.links(now);
    expect(panel.links(now)).toHaveLength(1);
    expect(listed).toEqual({ id: made!.id, label: 'For the clinic', createdAt: now, expiresAt: made!.expiresAt, passcode: true, revokedAt: null, status: 'active' });
    const encoded = made!.link.split('#shlink:/')[1]!;
    const payload = JSON.parse(atob(encoded.replace(/-/g, '+').replace(/_/g, '/'))) as { key: string; flag?: string };
    expect(payload.flag).toBe('P');
    const plain = JSON.stringify(profile.toJSON());
    expect(plain).toContain(made!.id);
    expect(plain).not.toContain(payload.key);
    expect(plain).not.toContain(encoded);
    expect(plain).not.toContain(PASSCODE);

    // A clinician's viewer opens it with the passcode.
    const opened = await openSharedLink(made!.link, { recipient: 'test', passcode: PASSCODE });
    expect(JSON.stringify(opened.files[0]!.json)).toContain(CANARY);

    // Status follows the clock: past the expiry the entry is expired and the QR code is gone.
    expect(panel.links(made!.expiresAt)[0]!.status).toBe('expired');
    expect(panel.shown(made!.expiresAt)).toBeNull();

    // Another owner device sees the link through the sync and revokes it.
    await profile.flush();
    const otherPanel = new HealthLinkShare(other, { now: () => now + 1000 });
    await expect.poll(() => otherPanel.links(now).map((l) => l.id), { timeout: 30_000 }).toEqual([made!.id]);
    expect(await otherPanel.revoke(made!.id)).toBe(true);
    expect(otherPanel.error).toBeNull();
    expect(otherPanel.links(now)[0]).toMatchObject({ status: 'revoked', revokedAt: now + 1000 });
    expect(await codeOf(openSharedLink(made!.link, { recipient: 'test', passcode: PASSCODE }))).toBe('SHL_NOT_FOUND');

    // The first device learns of it: the entry reads revoked, and the QR code it showed goes.
    await other.flush();
    await expect.poll(() => panel.links(now)[0]!.status, { timeout: 30_000 }).toBe('revoked');
    expect(panel.shown(now)).toBeNull();

    // Both actions are in the audit trail, by the device that did them.
    const trail = await profile.auditTrail();
    await expect
      .poll(async () => (await profile.auditTrail()).events.filter((e) => e.kind === 'export').map((e) => e.detail), { timeout: 30_000 })
      .toEqual([expect.stringMatching(/^shl exp=\d+ p$/), 'shl revoked']);
    expect(trail.chains.every((c) => c.ok)).toBe(true);
  });

  it('a link without a passcode says so; a suggested passcode is 10 unambiguous characters', async () => {
    // 0, 7, 14, … index the alphabet; 250 and 255 (past 248, the largest multiple of 31) are drawn again.
    const draws = [[0, 250, 7, 14, 21, 28, 35, 42, 49, 56], [255], [63]];
    const panel = new HealthLinkShare(profile, { randomBytes: (n) => Uint8Array.from(draws.shift()!.slice(0, n)) });
    panel.suggestPasscode();
    expect(panel.passcode).toMatch(/^[a-hjkmnp-z2-9]{10}$/);
    expect(panel.passcode).toBe('ahry7env4b');
    // Too short a passcode is refused before anything is sent; the field keeps it to correct.
    const before = panel.links().length;
    panel.passcode = 'abc';
    expect(await panel.create()).toBeNull();
    expect(panel.error).toMatch(/at least 4 characters/);
    expect(panel.passcode).toBe('abc');
    expect(panel.links().length).toBe(before);
    panel.passcode = '';
    panel.expiryDays = 1;
    const made = await panel.create();
    expect(made!.passcode).toBeUndefined();
    expect(panel.links().find((l) => l.id === made!.id)).toMatchObject({ passcode: false, label: '', status: 'active' });
    // Dismissing hides the link (and so its QR code); it keeps working until revoked.
    panel.dismiss();
    expect(panel.shown()).toBeNull();
    expect(await codeOf(openSharedLink(made!.link, { recipient: 'test' }))).toBe('none');
    expect(await panel.revoke(made!.id)).toBe(true);
  });

  it('refuses a non-owner (no relay call, nothing listed) with a message that carries no content', async () => {
    const ed = await Profile.open({ signer: editor, access: profile.accessBundle(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    try {
      await ed.status.when((s) => s.synced);
      const panel = new HealthLinkShare(ed);
      const before = panel.links().length;
      panel.passcode = PASSCODE;
      expect(await panel.create()).toBeNull();
      expect(panel.error).toMatch(/only an owner/i);
      expect(panel.error).not.toContain(PASSCODE);
      expect(panel.links().length).toBe(before);
    } finally {
      await ed.close();
    }
  });

  it('the list re-renders when a link is made elsewhere (reactive through the profile)', async () => {
    const panel = new HealthLinkShare(profile);
    const seen: number[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        seen.push(panel.links().length);
      });
    });
    flushSync();
    const start = seen.at(-1)!;
    const otherPanel = new HealthLinkShare(other);
    const made = await otherPanel.create();
    expect(made).not.toBeNull();
    await other.flush();
    await expect.poll(() => (flushSync(), seen.at(-1)), { timeout: 30_000 }).toBe(start + 1);
    stop();
  });

  it('formats an expiry with its date', () => {
    const text = formatUntil(Date.UTC(2026, 11, 9, 21, 20), 'en-GB');
    expect(text).toMatch(/9 Dec 2026/);
    expect(text).toMatch(/\d{2}:20/);
  });
});
