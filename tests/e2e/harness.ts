/**
 * Real-browser e2e helpers: the built app (build/) served by the real relay in-process, driven by
 * Debian's Chromium through playwright-core. Everything stays on 127.0.0.1. Nothing here logs page
 * content; collected errors only surface through a test's own assertions.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Response } from 'playwright-core';
import type { RelayConfig } from '../../server/config.ts';
import { startRelay, type Relay } from '../../server/relay.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const BUILD_DIR = join(ROOT, 'build');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps dialling out to a network it cannot reach. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Any host name but the loopback fails to resolve: a test can only ever reach the relay.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

export interface App {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly relay: Relay;
  stop(): Promise<void>;
}

/** The relay on a free loopback port, serving build/, with a fresh temp data dir removed on stop(). */
export async function startApp(overrides: Partial<RelayConfig> = {}): Promise<App> {
  if (!existsSync(join(BUILD_DIR, 'index.html'))) {
    throw new Error(`${join(BUILD_DIR, 'index.html')} is missing: run vite build first (npm run build)`);
  }
  const ownDataDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'fhv-e2e-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', staticDir: BUILD_DIR, storeDebounceMs: 50, ...overrides, dataDir });
  return {
    url: relay.httpUrl,
    relay,
    async stop() {
      await relay.destroy();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (the e2e tests use Debian's Chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

const VIEWPORTS: Record<'desktop' | 'phone', BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
};

export interface PageOptions {
  /** Labels this page's entries in `errors` and `failedRequests` (e.g. 'alice-phone'). */
  readonly name: string;
  readonly viewport?: 'desktop' | 'phone';
}

export interface TestPage {
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  /** The response to the first navigation (null for same-document navigations). */
  readonly response: Response | null;
  /** Console errors and uncaught page errors (CSP violations show up here too). */
  readonly errors: string[];
  /** Requests that failed at the network level or got an HTTP status >= 400: "name: METHOD /path → reason". */
  readonly failedRequests: string[];
  close(): Promise<void>;
}

/** A fresh BrowserContext (own storage, own IndexedDB) with one page, already navigated to `url`. */
export async function newPage(browser: Browser, url: string, options: PageOptions): Promise<TestPage> {
  const { name, viewport = 'desktop' } = options;
  const context = await browser.newContext({ ...VIEWPORTS[viewport], serviceWorkers: 'allow' });
  const page = await context.newPage();
  const errors: string[] = [];
  const failedRequests: string[] = [];
  // Path only: fragments never reach the network and query strings are not logged.
  const where = (u: string) => {
    const parsed = new URL(u);
    return parsed.host === new URL(url).host ? parsed.pathname : `${parsed.origin}${parsed.pathname}`;
  };
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${name}: console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`${name}: pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The browser drops its own favicon fetch when the page navigates or reloads meanwhile: not
    // a request the app made, nor a failure of one.
    if (req.failure()?.errorText === 'net::ERR_ABORTED' && new URL(req.url()).pathname.endsWith('/icon.svg')) return;
    failedRequests.push(`${name}: ${req.method()} ${where(req.url())} → ${req.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) failedRequests.push(`${name}: ${res.request().method()} ${where(res.url())} → HTTP ${res.status()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  return { name, page, context, response, errors, failedRequests, close: () => context.close() };
}

/** Saves a full-page PNG to test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Cuts (true) or restores (false) the network for every page of the context, WebSockets included. */
export async function setOffline(context: BrowserContext, offline: boolean): Promise<void> {
  await context.setOffline(offline);
}
