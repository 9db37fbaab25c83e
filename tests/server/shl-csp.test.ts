/**
 * The viewer's CSP (server/static.ts, docs/decisions/0031): the meta tag allows connect-src
 * https: for the SMART Health Link viewer, and the relay's header narrows every other page back
 * to 'self' (both policies are enforced, so the narrower one wins). The real build is checked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_CSP, pageCsp } from '../../server/static.ts';

const meta = (policy: string) => `<meta http-equiv="content-security-policy" content="${policy}">`;

describe('page CSP and the SHL viewer', () => {
  it('narrows connect-src to self on every page but the viewer, wherever the directive sits', () => {
    const html = meta("default-src 'self'; connect-src 'self' https:; object-src 'none'");
    expect(pageCsp(html)).toBe("default-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'");
    expect(pageCsp(html, { shlViewer: true })).toBe("default-src 'self'; connect-src 'self' https:; object-src 'none'; frame-ancestors 'none'");
    expect(pageCsp(meta("connect-src https: 'self'; object-src 'none'"))).toBe("connect-src 'self'; object-src 'none'; frame-ancestors 'none'");
    expect(pageCsp('<html></html>', { shlViewer: true })).toBe(BASE_CSP);
  });

  const built = resolve(import.meta.dirname, '../../build/index.html');
  it('the real build: the meta tag allows https: for the viewer, the vault header does not', () => {
    expect(existsSync(built), 'build/index.html is missing: run vite build first').toBe(true);
    const html = readFileSync(built, 'utf8');
    expect(pageCsp(html, { shlViewer: true })).toMatch(/connect-src 'self' https:(;|$)/);
    expect(pageCsp(html)).toMatch(/connect-src 'self'(;|$)/);
    expect(pageCsp(html)).not.toContain('https:');
  });
});
