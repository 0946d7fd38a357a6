import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Request } from 'playwright-core';

/** Debian's Chromium; playwright-core ships no browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
  // A callback nobody serves ends on Chromium's error page, which Chromium would otherwise reload
  // by itself a moment later, replaying the callback into whatever the test does next.
  '--disable-auto-reload',
];

/** One headless Chromium, meant to be shared by the tests of a file (give each test its own context). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackUrl(url: string | URL): boolean {
  const parsed = URL.parse(String(url));
  return parsed !== null && LOOPBACK_HOSTS.has(parsed.hostname);
}

export interface LoopbackPage {
  context: BrowserContext;
  page: Page;
  /** Requests the page tried to make off loopback; they were aborted. Expected to stay empty. */
  blockedRequests: string[];
  close(): Promise<void>;
}

/**
 * A fresh context with one page, which can reach loopback only: any other request is aborted
 * and recorded, so a test never touches the network and can assert that nothing tried.
 */
export async function openLoopbackPage(browser: Browser, options: BrowserContextOptions = {}): Promise<LoopbackPage> {
  const context = await browser.newContext(options);
  const blockedRequests: string[] = [];
  await context.route(() => true, async (route) => {
    const url = route.request().url();
    if (isLoopbackUrl(url)) return route.fallback();
    blockedRequests.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  return { context, page, blockedRequests, close: () => context.close() };
}

/**
 * Stands in for an OAuth client's redirect URI, which nobody serves: requests to it (same
 * origin and path, any query) get a tiny page. Registered after openLoopbackPage's guard, so it
 * takes precedence for that URL.
 */
export async function serveRedirectUri(context: BrowserContext, redirectUri: string): Promise<void> {
  await context.route((url) => sameEndpoint(url, redirectUri), (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>client callback</title><p>callback reached</p>' }));
}

/** Resolves with the URL of the next request the page makes to the redirect URI. */
export async function nextRedirectTo(page: Page, redirectUri: string, timeout = 10_000): Promise<URL> {
  const request: Request = await page.waitForRequest((candidate) => sameEndpoint(new URL(candidate.url()), redirectUri), { timeout });
  return new URL(request.url());
}

function sameEndpoint(url: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return url.origin === expected.origin && url.pathname === expected.pathname;
}

/**
 * A guarded page for one test (closed when it ends, asserting it never left loopback) whose
 * redirect URIs answer.
 */
export async function openTestPage(t: TestContext, browser: Browser, options: BrowserContextOptions, redirectUris: string[]): Promise<LoopbackPage> {
  const opened = await openLoopbackPage(browser, options);
  t.after(async () => {
    await opened.close();
    assert.deepEqual(opened.blockedRequests, [], 'the browser tried to leave loopback');
  });
  for (const uri of redirectUris) await serveRedirectUri(opened.context, uri);
  return opened;
}

/** Waits until a redirect to the client's callback has finished (after a redirect chain nobody serves it, so it may end on an error page). */
export async function redirectSettled(page: Page, redirectUri: string): Promise<void> {
  await page.waitForURL((url) => url.protocol === 'chrome-error:' || url.href.startsWith(redirectUri));
}
