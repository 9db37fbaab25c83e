/**
 * The relay's blob routes (server/blobs.ts): writers store, members read, everyone else is
 * refused with the WebSocket's token rules; ids are checked against the body; size is enforced
 * while the body streams in; the database holds ciphertext only; no path reaches a log line.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, nobleEngine, utf8, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { sealBlob } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { DEFAULT_BUDGETS } from '../../server/config.ts';
import { testRelay } from '../helpers/relay.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;
interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const CANARY = 'CANARY-BLOB-SERVER-5521';
const LIMIT = 64 * 1024;
const idOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64url');

function http(port: number, path: string, o: { method?: string; token?: string; body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body) headers['content-length'] = String(o.body.length);
    const req = httpRequest({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // The relay may close an over-size upload while it is still being written: the answer counts.
    req.on('error', (e) => fail(e));
    req.end(o.body);
  });
}

describe('relay blob store', () => {
  let relay: TestRelay;
  const owner = generateSigningKeyPair();
  const editor = generateSigningKeyPair();
  const viewer = generateSigningKeyPair();
  const stranger = generateSigningKeyPair();
  let profile: Profile;
  let doc: string;
  let otherDoc: string;
  const logged: string[] = [];

  const token = (who: SigningKeyPair, o: { expiresAt?: number; docId?: Uint8Array } = {}) =>
    createAuthToken({ secretKey: who.secretKey, docId: o.docId ?? profile.access.docId, expiresAt: o.expiresAt ?? Date.now() + 60_000, engine: nobleEngine });
  const path = (id: string, d = doc) => `/blobs/${d}/${id}`;

  beforeAll(async () => {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    relay = await testRelay({ maxBlobBytes: LIMIT });
    profile = await Profile.create({
      signer: owner,
      box: generateBoxKeyPair(),
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [
        { publicKey: editor.publicKey, role: Role.editor, expiresAt: 0 },
        { publicKey: viewer.publicKey, role: Role.viewer, expiresAt: 0 },
      ],
    });
    await profile.flush();
    doc = profile.name;
    const other = await Profile.create({ signer: stranger, relayUrl: relay.url, minReconnectDelayMs: 50 });
    await other.flush();
    otherDoc = other.name;
    await other.close();
  });

  afterAll(async () => {
    await profile?.close();
    await relay?.destroy();
    vi.restoreAllMocks();
  });

  it('a writer uploads (idempotently) and a viewer downloads the same bytes, with no-store headers', async () => {
    const sealed = sealBlob(utf8(`${CANARY} scan of a lab report`));
    const put = await http(relay.port, path(sealed.id), { method: 'PUT', token: await token(owner), body: sealed.ciphertext });
    expect(put.status).toBe(201);
    const again = await http(relay.port, path(sealed.id), { method: 'PUT', token: await token(editor), body: sealed.ciphertext });
    expect(again.status).toBe(200);

    const got = await http(relay.port, path(sealed.id), { token: await token(viewer) });
    expect(got.status).toBe(200);
    expect(new Uint8Array(got.body)).toEqual(sealed.ciphertext);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['cache-control']).toBe('private, no-store');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['referrer-policy']).toBe('no-referrer');
    expect(got.headers['content-security-policy']).toContain("default-src 'self'");

    // The same request through fetch, as the app makes it.
    const viaFetch = await fetch(`${relay.httpUrl}${path(sealed.id)}`, { headers: { Authorization: `Bearer ${await token(viewer)}` } });
    expect(new Uint8Array(await viaFetch.arrayBuffer())).toEqual(sealed.ciphertext);
  });

  it('refuses non-members, bad and expired tokens, and tokens for another document', async () => {
    const sealed = sealBlob(utf8('members only'));
    expect((await http(relay.port, path(sealed.id), { method: 'PUT', token: await token(owner), body: sealed.ciphertext })).status).toBe(201);

    const cases: [string, Promise<string> | undefined, number, string][] = [
      ['no token', undefined, 401, 'TOKEN_MALFORMED'],
      ['garbage', Promise.resolve('not-a-token'), 401, 'TOKEN_MALFORMED'],
      ['stranger', token(stranger), 403, 'TOKEN_NOT_MEMBER'],
      ['expired', token(viewer, { expiresAt: Date.now() - 1000 }), 401, 'TOKEN_EXPIRED'],
      ['too long-lived', token(viewer, { expiresAt: Date.now() + 24 * 3600_000 }), 401, 'TOKEN_EXPIRED'],
      ['another document', token(viewer, { docId: new Uint8Array(16).fill(7) }), 401, 'TOKEN_WRONG_DOC'],
    ];
    for (const [name, t, status, code] of cases) {
      const got = await http(relay.port, path(sealed.id), { token: t ? await t : undefined });
      expect(got.status, name).toBe(status);
      expect(got.body.toString(), name).toBe(code);
      const put = await http(relay.port, path(sealBlob(utf8(name)).id), { method: 'PUT', token: t ? await t : undefined, body: sealBlob(utf8(name)).ciphertext });
      expect(put.status, `PUT ${name}`).toBeGreaterThanOrEqual(400);
    }
    // A member of one document reads nothing of another through its own token.
    const cross = await http(relay.port, path(sealed.id, otherDoc), { token: await token(stranger, { docId: Uint8Array.from(Buffer.from(otherDoc, 'base64url')) }) });
    expect(cross.status).toBe(404);
  });

  it('a viewer cannot upload', async () => {
    const sealed = sealBlob(utf8('viewer wants to write'));
    const put = await http(relay.port, path(sealed.id), { method: 'PUT', token: await token(viewer), body: sealed.ciphertext });
    expect(put.status).toBe(403);
    expect(put.body.toString()).toBe('RECORD_NOT_WRITER');
    expect((await http(relay.port, path(sealed.id), { token: await token(owner) })).status).toBe(404);
  });

  it('refuses a body whose SHA-256 is not its id, and stores nothing', async () => {
    const sealed = sealBlob(utf8('mismatch'));
    const wrongId = idOf(utf8('something else'));
    const put = await http(relay.port, path(wrongId), { method: 'PUT', token: await token(owner), body: sealed.ciphertext });
    expect(put.status).toBe(400);
    expect(put.body.toString()).toBe('BLOB_ID_MISMATCH');
    expect((await http(relay.port, path(wrongId), { token: await token(owner) })).status).toBe(404);
  });

  it('refuses an over-size body by its declared length and while it streams in (413)', async () => {
    const big = new Uint8Array(LIMIT + 1).fill(1);
    const declared = await http(relay.port, path(idOf(big)), { method: 'PUT', token: await token(owner), body: big });
    expect(declared.status).toBe(413);

    // Chunked, no length: the relay answers once the limit is passed, while the client is still sending.
    const t = await token(owner);
    const total = 8 * 1024 * 1024;
    const result = await new Promise<{ status: number; sent: number }>((done, fail) => {
      let sent = 0;
      let answered = false;
      const req = httpRequest(
        { host: '127.0.0.1', port: relay.port, path: path(idOf(new Uint8Array(1))), method: 'PUT', headers: { authorization: `Bearer ${t}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          answered = true;
          res.resume();
          done({ status: res.statusCode!, sent });
          req.destroy();
        },
      );
      req.on('error', (e) => {
        if (!answered) fail(e);
      });
      const chunk = new Uint8Array(4096).fill(2);
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(result.sent).toBeLessThan(total);
    expect((await relay.blobs.dumpAll()).every((b) => b.length <= LIMIT)).toBe(true);
  });

  it('answers 404 for unknown files and malformed paths, 405 for other methods', async () => {
    const t = await token(viewer);
    expect((await http(relay.port, path(idOf(utf8('nothing here'))), { token: t })).status).toBe(404);
    expect((await http(relay.port, `/blobs/${doc}/short`, { token: t })).status).toBe(404);
    expect((await http(relay.port, `/blobs/${doc}`, { token: t })).status).toBe(404);
    expect((await http(relay.port, `/blobs/${doc}/${idOf(utf8('x'))}`, { method: 'POST', token: t })).status).toBe(405);
    // Not the SPA's page: the static fallback never sees /blobs/.
    expect((await http(relay.port, `/blobs/anything`)).headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('stores ciphertext only, and no log line names a path', async () => {
    const sealed = sealBlob(utf8(`${CANARY} stored`));
    expect((await http(relay.port, path(sealed.id), { method: 'PUT', token: await token(editor), body: sealed.ciphertext })).status).toBe(201);
    const rows = Buffer.concat(await relay.blobs.dumpAll());
    expect(rows.includes(Buffer.from(sealed.ciphertext))).toBe(true);
    expect(rows.includes(Buffer.from(CANARY))).toBe(false);
    // Every byte of the database files on disk (main file and WAL).
    const files = readdirSync(relay.dataDir).map((f) => readFileSync(join(relay.dataDir, f)));
    expect(files.length).toBeGreaterThan(0);
    for (const bytes of files) expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    expect(logged.filter((l) => l.includes('/blobs') || l.includes(doc) || l.includes(sealed.id))).toEqual([]);
  });
});

describe('relay blob quota per profile', () => {
  const QUOTA_BYTES = 10_000;
  const QUOTA_FILES = 3;
  let relay: TestRelay;
  const owner = generateSigningKeyPair();
  let profile: Profile;
  let other: Profile;

  const token = (p: Profile) => createAuthToken({ secretKey: owner.secretKey, docId: p.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
  const put = async (p: Profile, sealed: { id: string; ciphertext: Uint8Array }) =>
    http(relay.port, `/blobs/${p.name}/${sealed.id}`, { method: 'PUT', token: await token(p), body: sealed.ciphertext });
  const stored = async (sealed: { ciphertext: Uint8Array }) => (await relay.blobs.dumpAll()).some((b) => Buffer.from(b).equals(Buffer.from(sealed.ciphertext)));
  /** A sealed file whose ciphertext is `size` bytes. */
  const file = (size: number, fill: number) => sealBlob(new Uint8Array(size - sealBlob(new Uint8Array(0)).ciphertext.length).fill(fill));

  beforeAll(async () => {
    relay = await testRelay({ budgets: { ...DEFAULT_BUDGETS, blobBytesPerProfile: QUOTA_BYTES, blobsPerProfile: QUOTA_FILES } });
    profile = await Profile.create({ signer: owner, relayUrl: relay.url, minReconnectDelayMs: 50 });
    other = await Profile.create({ signer: owner, relayUrl: relay.url, minReconnectDelayMs: 50 });
    await profile.flush();
    await other.flush();
  });

  afterAll(async () => {
    await profile?.close();
    await other?.close();
    await relay?.destroy();
  });

  it('refuses the file that would pass the byte quota (507 BLOB_QUOTA_EXCEEDED) and stores nothing of it', async () => {
    const [one, two, three] = [file(4_000, 1), file(4_000, 2), file(4_000, 3)];
    expect((await put(profile, one)).status).toBe(201);
    expect((await put(profile, two)).status).toBe(201);
    const refused = await put(profile, three);
    expect(refused.status).toBe(507);
    expect(refused.body.toString()).toBe('BLOB_QUOTA_EXCEEDED');
    expect(await stored(three)).toBe(false);
    expect((await http(relay.port, `/blobs/${profile.name}/${three.id}`, { token: await token(profile) })).status).toBe(404);

    // Without a declared length the body is read first, then refused: still nothing stored.
    const t = await token(profile);
    const chunked = await new Promise<number>((done, fail) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: relay.port, path: `/blobs/${profile.name}/${three.id}`, method: 'PUT', headers: { authorization: `Bearer ${t}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          done(res.statusCode!);
        },
      );
      req.on('error', fail);
      req.end(three.ciphertext);
    });
    expect(chunked).toBe(507);
    expect(await stored(three)).toBe(false);

    // A file already stored may be uploaded again (idempotent), and a file that fits still does.
    expect((await put(profile, one)).status).toBe(200);
    const small = file(1_500, 4);
    expect((await put(profile, small)).status).toBe(201);
    // The quota is per profile: another profile has its own.
    expect((await put(other, three)).status).toBe(201);
    expect(await relay.blobs.usage(profile.name)).toEqual({ files: 3, bytes: 9_500 });
  });

  it('refuses a file past the per-profile file count, however small', async () => {
    // The first test left this profile at its 3 files.
    const tiny = file(100, 5);
    const refused = await put(profile, tiny);
    expect(refused.status).toBe(507);
    expect(refused.body.toString()).toBe('BLOB_QUOTA_EXCEEDED');
    expect(await stored(tiny)).toBe(false);
    expect((await relay.blobs.usage(profile.name)).files).toBe(QUOTA_FILES);
  });
});
