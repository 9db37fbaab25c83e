/**
 * What the built service worker precaches (decision 0032 amended 2026-12-02; needs `vite build`
 * first, like static.test.ts). The worker from build/ runs in a VM context with a fake Cache
 * Storage and fetch: its install must cache the shell and every file of the build except the
 * PDF chunks (pdfmake and its fonts, found through the client's Vite manifest); the first fetch
 * of a PDF chunk must keep it, so it is served offline afterwards; nothing else fetched at run
 * time is kept.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const BUILD = join(process.cwd(), 'build');
const MANIFEST = join(process.cwd(), '.svelte-kit/output/client/.vite/manifest.json');
const ORIGIN = 'https://vault.example';

type Handler = (event: { request?: Request; waitUntil(p: Promise<unknown>): void; respondWith(p: Promise<Response>): void }) => void;

/** The built worker with fakes: every cache write and network fetch is recorded. */
function loadWorker() {
  const stores = new Map<string, Map<string, Response>>();
  const fetched: string[] = [];
  let online = true;
  const handlers = new Map<string, Handler>();
  const keyOf = (r: Request | string) => new URL(typeof r === 'string' ? r : r.url, ORIGIN).pathname;
  const open = async (name: string) => {
    const store = stores.get(name) ?? new Map<string, Response>();
    stores.set(name, store);
    return {
      addAll: async (requests: Array<Request | string>) => {
        for (const r of requests) store.set(keyOf(r), new Response(`body of ${keyOf(r)}`));
      },
      put: async (r: Request | string, response: Response) => void store.set(keyOf(r), response),
      match: async (r: Request | string) => store.get(keyOf(r))?.clone(),
    };
  };
  const context = {
    self: { addEventListener: (type: string, h: Handler) => handlers.set(type, h), location: new URL(`${ORIGIN}/service-worker.js`), clients: { claim: async () => undefined } },
    location: new URL(`${ORIGIN}/service-worker.js`),
    caches: { open, keys: async () => [...stores.keys()], delete: async (k: string) => stores.delete(k) },
    fetch: async (r: Request | string) => {
      fetched.push(keyOf(r));
      if (!online) throw new TypeError('offline');
      // What a same-origin fetch answers in a worker (a constructed Response is type 'default').
      const response = new Response(`network ${keyOf(r)}`, { status: 200 });
      Object.defineProperty(response, 'type', { value: 'basic' });
      return response;
    },
    // As in a worker, relative URLs resolve against its location.
    Request: class extends Request {
      constructor(input: string | Request, init?: RequestInit) {
        super(typeof input === 'string' ? new URL(input, ORIGIN).href : input, init);
      }
    },
    Response,
    URL,
    Set,
    Promise,
    console,
  };
  runInNewContext(readFileSync(join(BUILD, 'service-worker.js'), 'utf8'), context);
  const run = async (type: string, request?: Request): Promise<Response | undefined> => {
    let waited: Promise<unknown> = Promise.resolve();
    let answer: Promise<Response> | undefined;
    handlers.get(type)!({ request, waitUntil: (p) => (waited = p), respondWith: (p) => (answer = p) });
    await waited;
    return answer ? await answer : undefined;
  };
  const cachedPaths = () => new Set([...stores.values()].flatMap((s) => [...s.keys()]));
  return { run, cachedPaths, fetched, setOnline: (v: boolean) => (online = v) };
}

describe('the service worker precache', () => {
  it('installs the shell and the build without the PDF chunks, which it keeps at first use (then offline)', async () => {
    expect(existsSync(join(BUILD, 'service-worker.js')), 'run `npx vite build` first').toBe(true);
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, { file: string; isDynamicEntry?: boolean }>;
    const pdfChunks = Object.entries(manifest)
      .filter(([src]) => /node_modules\/pdfmake\/build\/(pdfmake|vfs_fonts)\.js$/.test(src))
      .map(([, c]) => `/${c.file}`);
    expect(pdfChunks).toHaveLength(2);
    const pdfBytes = pdfChunks.reduce((n, f) => n + statSync(join(BUILD, f)).size, 0);
    expect(pdfBytes).toBeGreaterThan(1_000_000);

    const sw = loadWorker();
    await sw.run('install');
    const precached = sw.cachedPaths();
    for (const f of pdfChunks) expect(precached.has(f), f).toBe(false);
    expect(precached.has('/')).toBe(true);
    // Everything else the app's code needs offline is there: every other immutable file of the build.
    const immutable = Object.values(manifest).map((c) => `/${c.file}`).filter((f) => !pdfChunks.includes(f));
    const missing = immutable.filter((f) => !precached.has(f));
    expect(missing).toEqual([]);
    const installBytes = [...precached].filter((f) => existsSync(join(BUILD, f)) && statSync(join(BUILD, f)).isFile()).reduce((n, f) => n + statSync(join(BUILD, f)).size, 0);
    console.log(`service worker install: ${precached.size} files, ${installBytes} bytes (PDF chunks left out: ${pdfBytes} bytes)`);

    // First PDF: fetched from the network and kept; later, offline, served from the cache.
    const font = pdfChunks[1]!;
    const first = await sw.run('fetch', new Request(`${ORIGIN}${font}`));
    expect(await first!.text()).toBe(`network ${font}`);
    expect(sw.cachedPaths().has(font)).toBe(true);
    sw.setOnline(false);
    const fetchedBefore = sw.fetched.length;
    const offline = await sw.run('fetch', new Request(`${ORIGIN}${font}`));
    expect(await offline!.text()).toBe(`network ${font}`);
    expect(sw.fetched.length).toBe(fetchedBefore);

    // Nothing else fetched at run time is kept (another build's chunk, an unknown path).
    sw.setOnline(true);
    await sw.run('fetch', new Request(`${ORIGIN}/_app/immutable/chunks/not-this-build.js`));
    await sw.run('fetch', new Request(`${ORIGIN}/blobs/x/y`));
    expect(sw.cachedPaths().has('/_app/immutable/chunks/not-this-build.js')).toBe(false);
    expect(sw.cachedPaths().has('/blobs/x/y')).toBe(false);
  });
});
