/** Serves the built web app on the relay's port (one process, one port is the whole product). */
import type { Extension, onRequestPayload } from '@hocuspocus/server';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every response: no referrer (URLs never carry PHI, but fragments hold invite secrets). */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=()',
};

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Family Health Vault</title></head>
<body><main><h1>Family Health Vault relay</h1><p>The relay is running. The web app has not been built: run <code>npm run build</code>.</p></main></body></html>`;

export function staticExtension(staticDir: string | undefined): Extension {
  const root = staticDir && existsSync(staticDir) ? resolve(staticDir) : undefined;
  return {
    extensionName: 'fhv-static',
    async onRequest({ request, response }: onRequestPayload): Promise<void> {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') {
        response.writeHead(200, { 'Content-Type': 'text/plain', ...SECURITY_HEADERS });
        response.end('ok');
        throw null; // handled: stop Hocuspocus's default response
      }
      let file: string | undefined;
      if (root) {
        const candidate = normalize(join(root, decodeURIComponent(url.pathname)));
        if (candidate.startsWith(root) && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
        else if (existsSync(join(root, 'index.html'))) file = join(root, 'index.html'); // SPA fallback
      }
      const body = file ? readFileSync(file) : PLACEHOLDER;
      const type = file ? (MIME[extname(file)] ?? 'application/octet-stream') : MIME['.html']!;
      const immutable = file?.includes(`${root}/_app/immutable/`);
      response.writeHead(200, {
        'Content-Type': type,
        'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...SECURITY_HEADERS,
      });
      response.end(body);
      throw null;
    },
  };
}
