/**
 * SMART Health Links behind a load balancer: two relay instances on one PostgreSQL
 * (DATABASE_URL, no sticky routing). A link an owner stored through one instance opens through
 * the other; a file ticket one instance handed out is redeemed at the other; wrong passcodes
 * sent to both spend one lifetime budget; a revocation through one is a 404 at the other; and
 * neither PostgreSQL nor either instance's DATA_DIR holds the content, the passcode or the key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { openSharedLink, revokeLink, shareLink, type ShlError } from '../../src/lib/vault/shl.ts';
import { DEFAULT_SHL_LIMITS } from '../../server/shl.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const CANARY = 'CANARY-SHL-INSTANCES-5120';
const PASSCODE = 'PASS-CANARY-3388';

describe('SMART Health Links across relay instances on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let databaseUrl: string;
  let one: TestRelay;
  let two: TestRelay;
  let profile: Profile;
  /** The same request, sent to instance two instead of instance one. */
  const viaTwo: typeof fetch = (url, init) => fetch(String(url).replace(one.httpUrl, two.httpUrl), init);
  const manifest = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const onTwo = (url: string) => url.replace(one.httpUrl, two.httpUrl);

  beforeAll(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.database('shl_instances');
    one = await testRelay({ databaseUrl });
    two = await testRelay({ databaseUrl });
    profile = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: one.url, minReconnectDelayMs: 50 });
    profile.records.put('allergies', { id: 'a1', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: CANARY } });
    await profile.flush();
  });

  afterAll(async () => {
    await profile?.close();
    await one?.destroy();
    await two?.destroy();
    await postgres?.destroy();
  });

  it('a link stored through one instance opens through the other, with its passcode', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    expect(made.payload.url.startsWith(one.httpUrl)).toBe(true);
    const { files } = await openSharedLink(made.link, { recipient: 'Dr. Lee', passcode: PASSCODE, fetch: viaTwo });
    expect(JSON.stringify(files[0]!.json)).toContain(CANARY);
  });

  it("a file ticket from one instance is redeemed at the other, for that link only", async () => {
    const made = await shareLink(profile, {});
    const other = await shareLink(profile, {});
    const body = (await (await manifest(made.payload.url, { recipient: 'r', embeddedLengthMax: 10 })).json()) as { files: Array<{ location: string }> };
    const location = body.files[0]!.location;
    expect(location.startsWith(`${one.httpUrl}/shl/${made.manifestId}/file/`)).toBe(true);
    const file = await fetch(onTwo(location));
    expect([file.status, await file.text()]).toEqual([200, made.jwe]);
    const ticket = location.split('/').at(-1)!;
    expect((await fetch(`${two.httpUrl}/shl/${other.manifestId}/file/${ticket}`)).status).toBe(404);
    await revokeLink(profile, made.link);
    expect((await fetch(onTwo(location))).status).toBe(404);
  });

  it('wrong passcodes sent to both instances spend one lifetime budget; a revocation through one is a 404 at the other', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    const statuses: number[] = [];
    for (let i = 0; i < DEFAULT_SHL_LIMITS.passcodeAttempts + 2; i++) {
      const url = i % 2 === 0 ? made.payload.url : onTwo(made.payload.url);
      statuses.push((await manifest(url, { recipient: 'r', passcode: `guess-${i}` })).status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(DEFAULT_SHL_LIMITS.passcodeAttempts);
    expect(statuses.slice(DEFAULT_SHL_LIMITS.passcodeAttempts)).toEqual([404, 404]);
    const e = (await openSharedLink(made.link, { recipient: 'r', passcode: PASSCODE, fetch: viaTwo }).catch((x: ShlError) => x)) as ShlError;
    expect(e.code).toBe('SHL_NOT_FOUND');

    const revoked = await shareLink(profile, {});
    expect((await openSharedLink(revoked.link, { recipient: 'r', fetch: viaTwo })).files).toHaveLength(1);
    await revokeLink(profile, revoked.link);
    expect((await manifest(onTwo(revoked.payload.url), { recipient: 'r' })).status).toBe(404);
  });

  it('keeps no content, passcode or key in PostgreSQL or in either DATA_DIR', async () => {
    const made = await shareLink(profile, { passcode: PASSCODE });
    const needles = [CANARY, PASSCODE, made.payload.key, Buffer.from(fromBase64Url(made.payload.key)).toString('latin1')];
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    let rows: string;
    try {
      const dumped: unknown[] = [];
      for (const t of ['shl_links', 'shl_tickets', 'updates', 'documents']) dumped.push((await client.query(`SELECT * FROM ${t}`)).rows);
      rows = JSON.stringify(dumped, (_, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
    } finally {
      await client.end();
    }
    expect(rows).toContain(made.manifestId); // the scan does look at the link's row
    const files = [one, two].flatMap((r) => readdirSync(r.dataDir).map((f) => readFileSync(join(r.dataDir, f))));
    for (const needle of needles) {
      expect(rows.includes(needle)).toBe(false);
      for (const bytes of files) expect(bytes.includes(Buffer.from(needle, 'latin1'))).toBe(false);
    }
    for (const bytes of files) expect(bytes.includes(Buffer.from(made.manifestId))).toBe(false);
  });
});
