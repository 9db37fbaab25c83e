/**
 * The relay's static server (docs/decisions/0011): security headers on every response, cache
 * rules, content types, SPA fallback vs 404, refusal of path traversal in every spelling we know,
 * and no request URL in any log line. Raw HTTP requests, so paths reach the server unnormalised.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BASE_CSP, pageCsp } from '../../server/static.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;
interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const SECRET = 'SECRET-OUTSIDE-THE-BUILD';
const CANARY = 'canary-path-7f3a9c';
const BOOT = "\n{ __sveltekit_x = { base: '' }; import('/_app/immutable/entry/start.abc123.js'); }\n";
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const META_POLICY = `default-src 'self'; connect-src 'self'; object-src 'none'; script-src 'self' ${sha256(BOOT)}; style-src 'self' 'unsafe-inline'; base-uri 'none'`;
const INDEX = `<!doctype html><html><head><meta http-equiv="content-security-policy" content="${META_POLICY}"></head><body><div><script>${BOOT}</script></div></body></html>`;

function get(port: number, path: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

function getRaw(port: number, path: string, headers: Record<string, string> = {}): Promise<{ headers: Reply['headers']; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

function write(root: string, path: string, content: string | Buffer) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function expectSecurityHeaders(reply: Reply) {
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['referrer-policy']).toBe('no-referrer');
  expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(reply.headers['x-frame-options']).toBe('DENY');
  const permissions = String(reply.headers['permissions-policy']);
  for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) expect(permissions).toContain(`${feature}=()`);
  const csp = String(reply.headers['content-security-policy']);
  for (const directive of ["frame-ancestors 'none'", "default-src 'self'", "object-src 'none'", "base-uri 'none'"]) {
    expect(csp).toContain(directive);
  }
}

describe('static app server', () => {
  const dir = tempDir('fhv-static-');
  const root = join(dir.path, 'build');
  let relay: TestRelay;
  const logged: string[] = [];

  beforeAll(async () => {
    write(root, 'index.html', INDEX);
    write(root, '_app/immutable/entry/start.abc123.js', 'export const start = 1;');
    write(root, '_app/immutable/assets/app.def456.css', 'main{}');
    write(root, '_app/version.json', '{"version":"1"}');
    write(root, 'service-worker.js', 'self.addEventListener("fetch", () => {});');
    write(root, 'manifest.webmanifest', '{"name":"Family Health Vault"}');
    write(root, 'icon.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
    write(root, 'icon-192.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    write(root, '.env', SECRET);
    write(root, 'data.bin', 'binary');
    write(dir.path, 'secret.txt', SECRET);
    write(dir.path, 'build-evil/secret.txt', SECRET); // shares the root's prefix: "build" + "-evil"
    symlinkSync(join(dir.path, 'secret.txt'), join(root, 'link.txt'));
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    relay = await testRelay({ staticDir: root });
  });

  afterAll(async () => {
    await relay?.destroy();
    vi.restoreAllMocks();
    dir.remove();
  });

  it('serves the page with the meta CSP repeated as a header, plus frame-ancestors', async () => {
    for (const path of ['/', '/index.html', '/?x=1']) {
      const reply = await get(relay.port, path);
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(INDEX);
      expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(reply.headers['cache-control']).toBe('no-cache');
      expectSecurityHeaders(reply);
      // The same script hash as the meta tag, or the two policies together would block the boot script.
      expect(reply.headers['content-security-policy']).toBe(`${META_POLICY}; frame-ancestors 'none'`);
    }
  });

  it('falls back to the page for extensionless paths, 404s for missing files', async () => {
    for (const path of ['/some/deep/route', '/vault', '/_app/immutable/', '/%E2%9C%93']) {
      const reply = await get(relay.port, path);
      expect(reply.status, path).toBe(200);
      expect(reply.body).toBe(INDEX);
      expect(reply.headers['cache-control']).toBe('no-cache');
    }
    for (const path of ['/missing.png', '/_app/immutable/entry/start.old999.js', '/favicon.ico', '/.env', '/.git/config']) {
      const reply = await get(relay.port, path);
      expect(reply.status, path).toBe(404);
      expect(reply.body).not.toContain(SECRET);
      expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(reply.headers['cache-control']).toBe('no-cache');
      expectSecurityHeaders(reply);
      expect(reply.headers['content-security-policy']).toBe(BASE_CSP);
    }
  });

  it('sets content types and cache rules per file', async () => {
    const cases: [string, string, string][] = [
      ['/_app/immutable/entry/start.abc123.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/_app/immutable/assets/app.def456.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/_app/version.json', 'application/json', 'no-cache'],
      ['/service-worker.js', 'text/javascript; charset=utf-8', 'no-cache'],
      ['/manifest.webmanifest', 'application/manifest+json', 'no-cache'],
      ['/icon.svg', 'image/svg+xml', 'no-cache'],
      ['/icon-192.png', 'image/png', 'no-cache'],
      ['/data.bin', 'application/octet-stream', 'no-cache'],
    ];
    for (const [path, type, cache] of cases) {
      const reply = await get(relay.port, path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers['content-type'], path).toBe(type);
      expect(reply.headers['cache-control'], path).toBe(cache);
      expect(reply.headers['content-security-policy'], path).toBe(BASE_CSP);
      expectSecurityHeaders(reply);
    }
  });

  it('answers revalidation with 304, HEAD without a body, other methods with 405', async () => {
    for (const path of ['/', '/service-worker.js']) {
      const first = await get(relay.port, path);
      const etag = String(first.headers.etag);
      const again = await get(relay.port, path, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers['cache-control']).toBe('no-cache');
      expect(again.headers['content-security-policy']).toBe(first.headers['content-security-policy']);
      expectSecurityHeaders(again);
    }
    const head = await get(relay.port, '/manifest.webmanifest', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('{"name":"Family Health Vault"}'.length));
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const reply = await get(relay.port, '/', { method });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('GET, HEAD');
      expectSecurityHeaders(reply);
    }
    const health = await get(relay.port, '/healthz');
    expect(health.body).toBe('ok');
    expectSecurityHeaders(health);
  });

  it('never serves a file outside the build, however the path is spelled', async () => {
    const attempts = [
      '/../secret.txt',
      '/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/.%2e/secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/_app/..%2f..%2fsecret.txt',
      '/_app/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/%2e%2e%252fsecret.txt',
      '/../build-evil/secret.txt',
      '/..%2fbuild-evil%2fsecret.txt',
      '/%2e%2e/build-evil/secret.txt',
      '//..%2f..%2fsecret.txt',
      '/link.txt',
      '/secret.txt%00.js',
      '/%00',
      '/%E0%A4%A',
      '/%',
    ];
    for (const path of attempts) {
      const reply = await get(relay.port, path);
      expect(reply.body, path).not.toContain(SECRET);
      expect([200, 400, 404], path).toContain(reply.status);
      if (reply.status === 200) expect(reply.body, path).toBe(INDEX); // an extensionless route: the app
      expectSecurityHeaders(reply);
    }
    // Encoded separators and malformed escapes are refused outright, not looked up.
    for (const path of ['/..%2fsecret.txt', '/_app/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%00', '/%E0%A4%A']) {
      expect((await get(relay.port, path)).status, path).toBe(400);
    }
    expect((await get(relay.port, '/healthz')).body).toBe('ok'); // still up
  });

  it('compresses text with brotli or gzip when asked (Vary, own ETag), never binaries or tiny files', async () => {
    const big = `export const data = ${JSON.stringify('health '.repeat(2000))};`;
    write(root, '_app/immutable/chunks/big.123.js', big);
    const raw = await getRaw(relay.port, '/_app/immutable/chunks/big.123.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(raw.headers['content-encoding']).toBe('br');
    expect(raw.headers.vary).toBe('Accept-Encoding');
    expect(brotliDecompressSync(raw.body).toString('utf8')).toBe(big);
    expect(raw.body.length).toBeLessThan(big.length / 10);
    const gz = await getRaw(relay.port, '/_app/immutable/chunks/big.123.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(big);
    expect(gz.headers.etag).not.toBe(raw.headers.etag);
    const plain = await getRaw(relay.port, '/_app/immutable/chunks/big.123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(big);
    const tiny = await getRaw(relay.port, '/_app/immutable/entry/start.abc123.js', { 'accept-encoding': 'br' });
    expect(tiny.headers['content-encoding']).toBeUndefined();
    const png = await getRaw(relay.port, '/icon-192.png', { 'accept-encoding': 'br' });
    expect(png.headers['content-encoding']).toBeUndefined();
  });

  it('logs no request URL', async () => {
    for (const path of [`/${CANARY}`, `/${CANARY}.js`, `/..%2f${CANARY}`, `/%E0%A4%A${CANARY}`, `/${CANARY}?q=${CANARY}`]) {
      await get(relay.port, path);
      await get(relay.port, path, { method: 'POST' });
    }
    expect(logged.filter((line) => line.includes(CANARY))).toEqual([]);
  });
});

describe('page CSP', () => {
  it('copies the meta policy (unescaped) and adds frame-ancestors once', () => {
    expect(pageCsp(`<meta http-equiv="content-security-policy" content="script-src 'self' 'sha256-a/b+c='">`)).toBe(
      "script-src 'self' 'sha256-a/b+c='; frame-ancestors 'none'",
    );
    expect(pageCsp(`<meta http-equiv="content-security-policy" content="default-src &#39;self&#39;; frame-ancestors 'self'">`)).toBe(
      "default-src 'self'; frame-ancestors 'self'",
    );
  });

  it('falls back to a policy with no inline scripts when the page has no CSP meta tag', () => {
    expect(pageCsp('<html><script>alert(1)</script></html>')).toBe(BASE_CSP);
  });

  it('still serves a placeholder, with the headers, when the app is not built', async () => {
    const relay = await testRelay({ staticDir: undefined });
    try {
      const reply = await get(relay.port, '/');
      expect(reply.status).toBe(200);
      expect(reply.body).toContain('has not been built');
      expectSecurityHeaders(reply);
    } finally {
      await relay.destroy();
    }
  });

  // The real build (npm test runs vite build first): every inline script SvelteKit wrote is allowed by the header.
  const built = resolve(import.meta.dirname, '../../build/index.html');
  it('allows every inline script of the real build', () => {
    expect(existsSync(built), 'build/index.html is missing: run vite build first').toBe(true);
    const html = readFileSync(built, 'utf8');
    const header = pageCsp(html);
    expect(header).toContain("frame-ancestors 'none'");
    expect(header).toContain("worker-src 'self'");
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline.length).toBeGreaterThan(0);
    for (const script of inline) expect(header).toContain(sha256(script));
  });
});
