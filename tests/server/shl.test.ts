/**
 * SMART Health Links through the real relay (server/shl.ts, src/lib/vault/shl.ts): an owner
 * shares the IPS, a stranger opens it with the passcode; wrong passcodes spend a lifetime budget
 * (401 with attempts left, then 404 for good); revocation and expiry answer 404; the open
 * endpoints have budgets and CORS; and nothing the relay keeps holds the profile's content, the
 * passcode or the link's key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fromBase64Url, generateBoxKeyPair, generateSigningKeyPair, nobleEngine } from '../../src/lib/crypto/index.ts';
import { openShl } from '../../src/lib/interop/shl/open.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { openSharedLink, revokeLink, shareLink, ShlError } from '../../src/lib/vault/shl.ts';
import { DEFAULT_SHL_LIMITS } from '../../server/shl.ts';
import { SqliteShlStore } from '../../server/shl-store.ts';
import { testRelay } from '../helpers/relay.ts';

const CANARY = 'CANARY-SHL-RELAY-7731';
const PASSCODE = 'PASS-CANARY-9042';
type TestRelay = Awaited<ReturnType<typeof testRelay>>;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return (e as ShlError).code;
  }
}

describe('SMART Health Links on the relay', () => {
  let relay: TestRelay;
  let clock = Date.now();
  const owner = generateSigningKeyPair();
  const editor = generateSigningKeyPair();
  let profile: Profile;
  const logged: string[] = [];
  /** The relay's SHL rows, read through a second connection to its database. */
  const shlRows = async () => {
    const store = await SqliteShlStore.open(relay.dataDir);
    try {
      return await store.dumpAll();
    } finally {
      await store.close();
    }
  };
  const manifest = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://viewer.example' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    // The relay's clock is held still (buckets do not refill) and moved by the expiry test.
    relay = await testRelay({ now: () => clock });
    profile = await Profile.create({
      signer: owner,
      box: generateBoxKeyPair(),
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [{ publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 }],
    });
    profile.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: CANARY } });
    await profile.flush();
  });

  afterAll(async () => {
    await profile?.close();
    await relay?.destroy();
    vi.restoreAllMocks();
  });

  it('an owner shares the IPS; anyone with the link and passcode opens it, cross-origin', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE, expiresInMs: 7 * 86_400_000, label: 'For the clinic' });
    expect(made.payload.flag).toBe('P');
    expect(made.payload.url).toBe(`${relay.httpUrl}/shl/${made.manifestId}`);
    expect(made.payload.url.length).toBeLessThanOrEqual(128);
    expect(made.viewerLink).toBe(`${relay.httpUrl}/shl#${made.link}`);
    const { files } = await openSharedLink(made.viewerLink!, { recipient: 'Dr. Lee', passcode: PASSCODE });
    expect(files).toHaveLength(1);
    const bundle = files[0]!.json as { resourceType: string; type: string };
    expect([bundle.resourceType, bundle.type]).toEqual(['Bundle', 'document']);
    expect(JSON.stringify(bundle)).toContain(CANARY);

    const answer = await manifest(made.payload.url, { recipient: 'Dr. Lee', passcode: PASSCODE });
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const preflight = await fetch(made.payload.url, { method: 'OPTIONS' });
    expect([preflight.status, preflight.headers.get('access-control-allow-methods')]).toEqual([204, 'POST, GET']);
  });

  it('a file longer than embeddedLengthMax comes by location, and opens', async () => {
    const made = await shareLink(profile, {});
    const body = (await (await manifest(made.payload.url, { recipient: 'r', embeddedLengthMax: 10 })).json()) as { files: Array<{ location?: string }> };
    expect(body.files[0]!.location).toMatch(new RegExp(`^${relay.httpUrl}/shl/${made.manifestId}/file/[A-Za-z0-9_-]{43}$`));
    const files = await openShl(made.payload, { recipient: 'r', now: Date.now(), embeddedLengthMax: 10 });
    expect(JSON.stringify(files[0]!.json)).toContain(CANARY);
    expect((await fetch(`${made.payload.url}/file/${'A'.repeat(43)}`)).status).toBe(404);
  });

  it('wrong passcodes: 401 with the attempts left, then the link is dead for everyone (404)', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    const seen: Array<number | undefined> = [];
    for (let i = 0; i < DEFAULT_SHL_LIMITS.passcodeAttempts; i++) {
      const e = await openSharedLink(made.link, { recipient: 'r', passcode: `guess-${i}` }).catch((x: ShlError) => x);
      expect((e as ShlError).code).toBe('SHL_PASSCODE_WRONG');
      seen.push((e as ShlError).remainingAttempts);
    }
    expect(seen).toEqual(Array.from({ length: DEFAULT_SHL_LIMITS.passcodeAttempts }, (_, i) => DEFAULT_SHL_LIMITS.passcodeAttempts - 1 - i));
    expect(await codeOf(openSharedLink(made.link, { recipient: 'r', passcode: PASSCODE }))).toBe('SHL_NOT_FOUND');
    expect((await shlRows()).find((r) => r.id === made.manifestId)).toMatchObject({ state: 'exhausted', jwe: null, passcode_hash: null });
    // A missing passcode in the manifest request is a wrong one too (on a fresh link).
    const other = await shareLink(profile, { passcode: PASSCODE });
    const r = await manifest(other.payload.url, { recipient: 'r' });
    expect([r.status, await r.json()]).toEqual([401, { code: 'SHL_PASSCODE_REFUSED', remainingAttempts: DEFAULT_SHL_LIMITS.passcodeAttempts - 1 }]);
    // A right passcode does not spend an attempt.
    await openSharedLink(other.link, { recipient: 'r', passcode: PASSCODE });
    const again = await manifest(other.payload.url, { recipient: 'r', passcode: 'nope' });
    expect(await again.json()).toEqual({ code: 'SHL_PASSCODE_REFUSED', remainingAttempts: DEFAULT_SHL_LIMITS.passcodeAttempts - 2 });
  });

  it('concurrent wrong guesses never spend more than the lifetime budget', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => manifest(made.payload.url, { recipient: 'r', passcode: `g${i}` }).then((r) => r.status)));
    expect(answers.filter((s) => s === 401)).toHaveLength(DEFAULT_SHL_LIMITS.passcodeAttempts);
    expect(answers.filter((s) => s === 404)).toHaveLength(25 - DEFAULT_SHL_LIMITS.passcodeAttempts);
    expect((await manifest(made.payload.url, { recipient: 'r', passcode: PASSCODE })).status).toBe(404);
  });

  it('revocation by an owner answers 404 afterwards; an editor can neither share nor revoke', async () => {
    const made = await shareLink(profile, {});
    const editorToken = await createAuthToken({ secretKey: editor.secretKey, docId: profile.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
    const del = await fetch(`${relay.httpUrl}/shl/profile/${profile.name}/${made.manifestId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${editorToken}` } });
    expect([del.status, await del.text()]).toEqual([403, 'SHL_NOT_OWNER']);
    const put = await fetch(`${relay.httpUrl}/shl/profile/${profile.name}/${'B'.repeat(43)}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${editorToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jwe: made.jwe }),
    });
    expect([put.status, await put.text()]).toEqual([403, 'SHL_NOT_OWNER']);
    expect((await openSharedLink(made.link, { recipient: 'r' })).files).toHaveLength(1);

    await revokeLink(profile, made.link);
    expect(await codeOf(openSharedLink(made.link, { recipient: 'r' }))).toBe('SHL_NOT_FOUND');
    const row = (await shlRows()).find((r) => r.id === made.manifestId)!;
    expect([row.state, row.jwe]).toEqual(['revoked', null]);
    // The id is never reused, even by its owner.
    const ownerToken = await profile.relayToken();
    const reuse = await fetch(`${relay.httpUrl}/shl/profile/${profile.name}/${made.manifestId}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ownerToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jwe: made.jwe }),
    });
    expect(reuse.status).toBe(409);
  });

  it('expiry: 404 once the relay clock passes exp, and the ciphertext is deleted', async () => {
    const made = await shareLink(profile, { expiresInMs: 60_000, now: () => clock });
    expect((await openSharedLink(made.link, { recipient: 'r' })).files).toHaveLength(1);
    clock += 61_000;
    try {
      const r = await manifest(made.payload.url, { recipient: 'r' });
      expect(r.status).toBe(404);
      expect((await shlRows()).find((x) => x.id === made.manifestId)).toMatchObject({ state: 'expired', jwe: null });
    } finally {
      clock -= 61_000;
    }
  });

  it('refuses bad requests on the open endpoints without reading past the caps', async () => {
    const made = await shareLink(profile, {});
    expect((await manifest(made.payload.url, { passcode: 'x' })).status).toBe(400); // no recipient
    expect((await manifest(made.payload.url, { recipient: 'r', embeddedLengthMax: 'big' })).status).toBe(400);
    expect((await manifest(made.payload.url, { recipient: 'r'.repeat(5000) })).status).toBe(413);
    expect((await fetch(made.payload.url)).status).toBe(405);
    expect((await manifest(`${relay.httpUrl}/shl/${'C'.repeat(43)}`, { recipient: 'r' })).status).toBe(404);
    expect((await manifest(`${relay.httpUrl}/shl/short`, { recipient: 'r' })).status).toBe(404);
  });

  it('each link has a request budget: past its burst, 429 until it refills', async () => {
    const made = await shareLink(profile, {});
    const statuses: number[] = [];
    for (let i = 0; i < DEFAULT_SHL_LIMITS.perLinkBurst + 2; i++) statuses.push((await manifest(made.payload.url, { recipient: 'r' })).status);
    expect(statuses.slice(0, DEFAULT_SHL_LIMITS.perLinkBurst).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(DEFAULT_SHL_LIMITS.perLinkBurst)).toEqual([429, 429]);
    // Another link is not affected; time refills the bucket.
    const other = await shareLink(profile, {});
    expect((await manifest(other.payload.url, { recipient: 'r' })).status).toBe(200);
    clock += 2_000 / DEFAULT_SHL_LIMITS.perLinkPerSecond;
    try {
      expect((await manifest(made.payload.url, { recipient: 'r' })).status).toBe(200);
    } finally {
      clock -= 2_000 / DEFAULT_SHL_LIMITS.perLinkPerSecond;
    }
  });

  it('the relay keeps no content, passcode or key: canary scan of its rows and files, and of its logs', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    const needles = [CANARY, PASSCODE, made.payload.key, Buffer.from(fromBase64Url(made.payload.key)).toString('latin1')];
    const rows = JSON.stringify(await shlRows(), (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    const files = readdirSync(relay.dataDir).map((f) => readFileSync(join(relay.dataDir, f)));
    for (const needle of needles) {
      expect(rows.includes(needle)).toBe(false);
      for (const bytes of files) expect(bytes.includes(Buffer.from(needle, 'latin1'))).toBe(false);
      expect(logged.some((l) => l.includes(needle) || l.includes(made.manifestId))).toBe(false);
    }
    expect(rows).toContain(made.manifestId); // the scan does look at the link's row
  });
});
