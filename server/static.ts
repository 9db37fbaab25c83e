/**
 * Serves the built web app on the relay's port (one process, one port is the whole product),
 * with the headers a <meta> tag cannot carry (docs/decisions/0011). Request URLs are never logged.
 */
import { silentLogger, type RelayLogger } from './log.ts';
import type { Extension, onRequestPayload } from '@hocuspocus/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, realpathSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { extname, join, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Powerful features the app does not use, off for the page and anything it could ever embed. */
const PERMISSIONS_POLICY = [
  'accelerometer',
  'autoplay',
  'camera',
  'display-capture',
  'geolocation',
  'gyroscope',
  'hid',
  'idle-detection',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'serial',
  'usb',
  'xr-spatial-tracking',
  'browsing-topics',
]
  .map((feature) => `${feature}=()`)
  .join(', ');

/** Headers on every response: no referrer (URLs never carry PHI, but fragments hold invite secrets). */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': PERMISSIONS_POLICY,
};

/**
 * CSP for every response but the app page (scripts, images, the service worker, errors): a
 * worker's policy comes from its script's response, and 'self' lets the service worker fetch the
 * shell. Nothing inline anywhere.
 */
export const BASE_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Family Health Vault</title></head>
<body><main><h1>Family Health Vault relay</h1><p>The relay is running. The web app has not been built: run <code>npm run build</code>.</p></main></body></html>`;

const CSP_META = /<meta\s+http-equiv=["']content-security-policy["']\s+content="([^"]*)"/i;

/**
 * The page's header CSP is the policy SvelteKit wrote into its <meta> tag (same script hashes,
 * one source of truth: svelte.config.js) plus frame-ancestors, which browsers ignore in a meta
 * tag. Both policies are enforced, so they must agree on scripts or the bootstrap would be
 * blocked. A page without that meta tag gets BASE_CSP, under which inline scripts do not run:
 * turning SvelteKit's CSP off breaks the app loudly instead of silently dropping the policy.
 */
export function pageCsp(html: string, o: { shlViewer?: boolean } = {}): string {
  const policy = metaPolicy(html);
  return policy === BASE_CSP || o.shlViewer ? policy : selfConnectOnly(policy);
}

/**
 * The SMART Health Link viewer's path (docs/decisions/0031): the one page whose header keeps
 * the meta tag's `connect-src 'self' https:` (a viewer fetches manifests from any https host).
 */
export const SHL_VIEWER_PATH = '/shl';

/**
 * Every other page's header narrows connect-src back to 'self'. The meta tag must allow what
 * the viewer needs (both policies are enforced, so a page gets the narrower of the two), and
 * this header is what keeps the vault's pages to their own origin.
 */
function selfConnectOnly(policy: string): string {
  return policy.replace(/(^|;)\s*connect-src\s[^;]*/i, "$1 connect-src 'self'").trim();
}

function metaPolicy(html: string): string {
  const meta = CSP_META.exec(html)?.[1];
  if (meta === undefined) return BASE_CSP;
  const policy = meta
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .trim()
    .replace(/;$/, '');
  if (/[\r\n]/.test(policy) || !policy) return BASE_CSP;
  return /(^|;)\s*frame-ancestors\s/i.test(policy) ? policy : `${policy}; frame-ancestors 'none'`;
}

export function staticExtension(staticDir: string | undefined, logger: RelayLogger = silentLogger): Extension {
  // Resolved on first use once it exists, so a relay started before `npm run build` picks it up.
  let root: string | undefined;
  return {
    extensionName: 'fhv-static',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      try {
        if (!root && staticDir && existsSync(staticDir)) root = realpathSync(staticDir);
        await serve(root, request, response);
      } catch (error) {
        // The error's message may name the file (so the request path): log its code only.
        logger('error', 'static_request_failed', { code: (error as NodeJS.ErrnoException)?.code ?? 'error' });
        if (!response.headersSent) send(request, response, 500, 'Internal error');
        else response.destroy();
      }
      throw null; // handled: stop Hocuspocus's default response (and its rethrow of errors)
    },
  };
}

async function serve(root: string | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(request, response, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
  }
  // The URL parser already resolves "..", "%2e%2e" and friends within the path.
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    return send(request, response, 400, 'Bad request');
  }
  if (!root) return sendFile(request, response, Buffer.from(PLACEHOLDER), '.html', REVALIDATE);

  // What decoding can still smuggle in: encoded slashes around "..", backslashes, NUL.
  const segments = pathname.split('/').filter(Boolean);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) {
    return send(request, response, 400, 'Bad request');
  }
  const hidden = segments.some((s) => s.startsWith('.'));
  const file = hidden ? undefined : await fileInside(root, join(root, ...segments));
  if (file) {
    const immutable = file.startsWith(join(root, '_app', 'immutable') + sep);
    return sendPath(request, response, file, immutable ? IMMUTABLE_CACHE : REVALIDATE, false);
  }
  // Hash routes: every screen is "/", so any other extensionless path is a link into the app.
  // A path that names a file which is not there is a real miss (an old chunk, a typo).
  if (extname(pathname) !== '' || hidden) return send(request, response, 404, 'Not found');
  const index = await fileInside(root, join(root, 'index.html'));
  if (index) return sendPath(request, response, index, REVALIDATE, pathname === SHL_VIEWER_PATH);
  return sendFile(request, response, Buffer.from(PLACEHOLDER), '.html', REVALIDATE);
}

/** A regular file whose real path (symlinks resolved) is inside root. */
async function fileInside(root: string, candidate: string): Promise<string | undefined> {
  if (!candidate.startsWith(root + sep)) return undefined;
  try {
    const real = await realpath(candidate);
    if (!real.startsWith(root + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined; // missing, or a name the file system refuses
  }
}

async function sendPath(request: IncomingMessage, response: ServerResponse, file: string, cacheControl: string, shlViewer: boolean): Promise<void> {
  const info = await stat(file);
  const ext = extname(file);
  const encoding = COMPRESSIBLE.has(ext) && info.size >= 1024 ? acceptedEncoding(request) : undefined;
  const etag = `"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ''}"`;
  const fresh = request.headers['if-none-match']?.split(/\s*,\s*/).includes(etag) ?? false;
  // A 304 of the page still carries its CSP, which needs the page's script hashes.
  const body = fresh && ext !== '.html' ? Buffer.alloc(0) : await readFile(file);
  const vary: Record<string, string> = COMPRESSIBLE.has(ext) ? { Vary: 'Accept-Encoding' } : {};
  if (fresh) {
    response.writeHead(304, { ETag: etag, ...vary, ...commonHeaders(ext, body, cacheControl, shlViewer) });
    response.end();
    return;
  }
  if (!encoding) return sendFile(request, response, body, ext, cacheControl, { ETag: etag, ...vary }, shlViewer);
  const packed = compressed(etag, body, encoding);
  response.writeHead(200, {
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Content-Length': String(packed.length),
    'Content-Encoding': encoding,
    ETag: etag,
    ...vary,
    ...commonHeaders(ext, body, cacheControl, shlViewer),
  });
  response.end(request.method === 'HEAD' ? undefined : packed);
}

// ---- compression: the app's code is text; brotli (or gzip) cuts a cold load to about a quarter

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.webmanifest', '.txt']);
const packedCache = new Map<string, Buffer>();
const MAX_PACKED_ENTRIES = 256;

function acceptedEncoding(request: IncomingMessage): 'br' | 'gzip' | undefined {
  const accept = String(request.headers['accept-encoding'] ?? '');
  return /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : undefined;
}

/** Compressed once per file version (the ETag names size, mtime and encoding). */
function compressed(key: string, body: Buffer, encoding: 'br' | 'gzip'): Buffer {
  let hit = packedCache.get(key);
  if (!hit) {
    hit = encoding === 'br' ? brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } }) : gzipSync(body, { level: 9 });
    if (packedCache.size >= MAX_PACKED_ENTRIES) packedCache.delete(packedCache.keys().next().value!);
    packedCache.set(key, hit);
  }
  return hit;
}

function commonHeaders(ext: string, body: Buffer, cacheControl: string, shlViewer = false): Record<string, string> {
  return {
    'Cache-Control': cacheControl,
    ...SECURITY_HEADERS,
    'Content-Security-Policy': ext === '.html' ? pageCsp(body.toString('utf8'), { shlViewer }) : BASE_CSP,
  };
}

function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  ext: string,
  cacheControl: string,
  extra: Record<string, string> = {},
  shlViewer = false,
): void {
  response.writeHead(200, {
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Content-Length': String(body.length),
    ...commonHeaders(ext, body, cacheControl, shlViewer),
    ...extra,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function send(request: IncomingMessage, response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  response.writeHead(status, {
    'Content-Type': MIME['.txt']!,
    'Content-Length': String(body.length),
    'Cache-Control': REVALIDATE,
    ...SECURITY_HEADERS,
    'Content-Security-Policy': BASE_CSP,
    ...extra,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
