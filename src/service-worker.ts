/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/// <reference types="@sveltejs/kit" />
/**
 * Offline app shell (docs/decisions/0011). This worker only makes the *code* available offline:
 * health data never passes through it (it lives encrypted in IndexedDB, and sync goes over the
 * relay's WebSocket, which service workers never see). At run time it keeps only this build's
 * own code chunks that the install left out (the PDF chunks), never a response of any other
 * kind: a response cache would be one more place where decrypted or per-user content could linger.
 */
import { base, build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

// One cache per build: the shell and its chunks must come from the same build, or an offline
// start would load an index.html whose chunks are not there.
const PREFIX = 'fhv-shell-';
const CACHE = `${PREFIX}${version}`;
// Hash routes: every screen is the one page at base + '/', so that is the whole shell.
const SHELL = `${base}/`;
const IMMUTABLE = `${base}/_app/immutable/`;

/**
 * Chunks fetched only when a PDF is made (pdfmake and its embedded fonts, ~1 MB gzip, decision
 * 0032; only these two: the PDF module's own chunk also holds code ordinary pages load, and
 * leaving it out broke page loads in Chromium): not precached at install, where every visitor would pay for them, but cached at their
 * first use, so a PDF made once also works offline later. SvelteKit names chunks by hash alone
 * (it ignores `chunkFileNames`), so they are found through the client build's Vite manifest,
 * which exists when SvelteKit builds this worker (after the client) and is inlined here by the
 * glob; in dev the glob finds nothing and nothing is left out. tests/server/sw-precache.test.ts
 * runs the built worker against this rule.
 */
type ManifestChunk = { readonly file: string; readonly isDynamicEntry?: boolean };
const CLIENT_MANIFEST = import.meta.glob<Record<string, ManifestChunk>>('../.svelte-kit/output/client/.vite/manifest.json', { eager: true, import: 'default' });
const ON_FIRST_USE_SOURCES = /(^|\/)node_modules\/pdfmake\/build\/(pdfmake|vfs_fonts)\.js$/;
const ON_FIRST_USE = new Set(
  Object.values(CLIENT_MANIFEST)
    .flatMap((manifest) => Object.entries(manifest))
    .filter(([source, chunk]) => chunk.isDynamicEntry === true && ON_FIRST_USE_SOURCES.test(source))
    .map(([, chunk]) => `${base}/${chunk.file}`),
);
const PRECACHE = [SHELL, ...build.filter((file) => !ON_FIRST_USE.has(file)), ...files];
const PRECACHED = new Set(PRECACHE);

sw.addEventListener('install', (event) => {
  // addAll is all or nothing: a half-cached shell would fail offline in confusing ways.
  // cache: 'no-cache' revalidates, so a stale HTTP-cached copy from an older deploy cannot slip
  // into this build's cache (the relay answers unchanged files with 304).
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'no-cache' })))));
  // No skipWaiting(): an open tab keeps the worker (and chunks) of the build it started with;
  // the new build takes over once every tab of the old one is closed.
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Only our own caches: other code on this origin may use Cache Storage for other things.
      for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
      // Control the page that installed us, so its lazily loaded chunks come from this cache too.
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  // Writes and anything cross-origin go straight to the network, untouched.
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;

  if (request.mode === 'navigate') event.respondWith(shellFirstFromNetwork(request));
  else if (ON_FIRST_USE.has(url.pathname)) event.respondWith(fromCacheThenKeep(request));
  else if (url.pathname.startsWith(IMMUTABLE)) event.respondWith(fromCacheFirst(request));
  else if (PRECACHED.has(url.pathname)) event.respondWith(fromNetworkFirst(request));
  // Anything else (unknown paths, other builds' files): the browser's default, never cached.
});

/**
 * Online, the server's index.html wins (a new deploy shows up on the next load); offline or when
 * a proxy in front of a stopped relay answers 5xx, the shell cached with this build. The network
 * copy is not stored: it may belong to a newer build whose chunks this cache does not hold.
 */
async function shellFirstFromNetwork(request: Request): Promise<Response> {
  try {
    const response = await fetch(request);
    if (response.status < 500) return response;
    return (await cached(SHELL)) ?? response;
  } catch (error) {
    const shell = await cached(SHELL);
    if (shell) return shell;
    throw error;
  }
}

/** Content-hashed files never change, so a cached copy is always right. A miss (another build's
 *  chunk) goes to the network and is not stored: it belongs to no cache we manage. */
async function fromCacheFirst(request: Request): Promise<Response> {
  return (await cached(request)) ?? fetch(request);
}

/** A chunk of this build left out of the install (ON_FIRST_USE): the first use fetches and keeps
 *  it in this build's cache; content-hashed, so the copy stays right. */
async function fromCacheThenKeep(request: Request): Promise<Response> {
  const copy = await cached(request);
  if (copy) return copy;
  const response = await fetch(request);
  // Only a whole, same-origin answer (a 206 range or a redirect's target is not the chunk).
  if (response.status === 200 && response.type === 'basic' && !response.redirected) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

/** Static files (manifest, icons, version.json) keep their names across builds: fresh when
 *  online, this build's copy when offline. */
async function fromNetworkFirst(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (error) {
    const copy = await cached(request);
    if (copy) return copy;
    throw error;
  }
}

async function cached(request: Request | string): Promise<Response | undefined> {
  const cache = await caches.open(CACHE);
  return cache.match(request);
}
