import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { NOTES_RESOURCE, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, openLoopbackPage } from '../support/browser.ts';
import { addConsoleUser, signInToConsole } from '../support/console.ts';
import { client } from '../support/oauth-client.ts';
import { runProject, startProject, type RunningProject } from '../support/processes.ts';
import { freePort } from '../support/ports.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

/** Within this, every instance must serve a change (the promise is 30 s; polling is every 5 s). */
const PROPAGATION_MS = 30_000;

async function jwksAt(url: string): Promise<JSONWebKeySet> {
  return (await fetch(new URL('/jwks', url))).json() as Promise<JSONWebKeySet>;
}

async function serviceTokenAt(url: string, issuer: string): Promise<string> {
  const response = await fetch(new URL('/token', url), {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notes:read', resource: NOTES_RESOURCE }),
  });
  assert.equal(response.status, 200, `token at ${url} (issuer ${issuer})`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Polls `check` until it holds; fails naming `what` if it does not within PROPAGATION_MS + `extraMs`. */
async function eventually(what: string, check: () => Promise<boolean>, extraMs = 0): Promise<void> {
  const deadline = Date.now() + PROPAGATION_MS + extraMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `not within ${(PROPAGATION_MS + extraMs) / 1000} s: ${what}`);
    await delay(250);
  }
}

async function screenshot(page: Page, path: string): Promise<void> {
  if (process.env.SCREENSHOTS === '1') await page.screenshot({ path, fullPage: true });
}

const kids = async (url: string) => (await jwksAt(url)).keys.map((key) => key.kid);

describe('signing keys rotate and retire live on every instance sharing Redis', () => {
  const prefix = uniqueRedisPrefix('test:live-keys');
  let root: string;
  let a: TestServer;
  let b: RunningProject;
  let urlB: string;
  let browser: Browser;
  let shared: Record<string, string>;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-live-keys-'));
    shared = {
      REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, COOKIE_KEYS: randomBytes(32).toString('base64url'),
      KEY_ACTIVATION_DELAY_SECONDS: '6', DEMO_MCP: 'off', RSA_PRIVATE_KEY_PATH: join(root, 'absent'),
    };
    a = await startTestServer(shared);
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify({ clients: [SERVICE_CLIENT], resources: [{ uri: NOTES_RESOURCE, name: 'Notes', scopes: ['notes:read'] }] }));
    const portB = await freePort();
    urlB = `http://127.0.0.1:${portB}`;
    // B has its own (empty) keys dir: the keys it signs with come from Redis, where A put them.
    b = await startProject({ ...shared, ISSUER: a.issuer, PORT: String(portB), CONFIG_FILE: configFile, DATA_DIR: join(root, 'b', 'data'), KEYS_DIR: join(root, 'b', 'keys') });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await b?.stop();
    await a?.destroy();
    await rm(root, { recursive: true, force: true });
    await deleteKeysUnder(prefix);
  });

  it('a key made in the console is published by both, then signs on both; old tokens verify until the old key is retired', async () => {
    const oldKid = a.keys.signingKid;
    assert.deepEqual(await kids(urlB), [oldKid], 'B serves the ring A seeded in Redis, not a key of its own');
    const oldToken = await serviceTokenAt(a.url, a.issuer);

    const admin = await addConsoleUser(a);
    const { page, close } = await openLoopbackPage(browser);
    try {
      await signInToConsole(page, a.consoleUrl, admin);
      await page.goto(`${a.consoleUrl}/keys`);
      await page.fill('input[name=password]', admin.password);
      await page.click('button:has-text("Make a new key")');
      const notice = await page.locator('.banner.notice').textContent();
      const newKid = /\(([A-Za-z0-9_-]{43})\)/.exec(notice ?? '')?.[1];
      assert.ok(newKid, `the page names the new key: ${notice}`);

      await eventually('A and B publish the new key', async () => (await kids(a.url)).includes(newKid) && (await kids(urlB)).includes(newKid));
      await eventually('A and B sign with the new key', async () => {
        const headers = [decodeProtectedHeader(await serviceTokenAt(a.url, a.issuer)), decodeProtectedHeader(await serviceTokenAt(urlB, a.issuer))];
        return headers.every((header) => header.kid === newKid);
      }, 6000);
      const published = await jwksAt(urlB);
      assert.deepEqual(published.keys.map((key) => key.kid).sort(), [newKid, oldKid].sort());
      await jwtVerify(oldToken, createLocalJWKSet(published), { audience: NOTES_RESOURCE });

      await page.goto(`${a.consoleUrl}/keys`);
      await screenshot(page, '/tmp/portcullis-console-keys-desktop.png');
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.evaluate(() => {
        const { documentElement } = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
        return documentElement.scrollWidth <= documentElement.clientWidth;
      }), 'the page fits 390 px (the key table scrolls on its own)');
      await screenshot(page, '/tmp/portcullis-console-keys-phone.png');
      assert.equal(await page.locator(`form[action="/admin/keys/${newKid}/retire"]`).count(), 0, 'no Retire button for the current key');
      // A forged retire of the current key is refused in plain words, and nothing changes.
      const csrf = await page.locator('input[name=csrf]').first().inputValue();
      const refused = await page.request.post(`${a.consoleUrl}/keys/${newKid}/retire`, { form: { csrf } });
      assert.equal(refused.status(), 409);
      assert.match(await refused.text(), /signs tokens now, so it cannot be retired/);
      assert.ok((await kids(a.url)).includes(newKid));

      const retired = await runProject('src/cli/main.ts', ['keys', 'retire', oldKid], {
        env: { ...shared, DATA_DIR: join(root, 'cli', 'data'), KEYS_DIR: join(root, 'cli', 'keys') },
      });
      assert.equal(retired.code, 0, retired.stderr);
      assert.match(retired.stderr, /warning: tokens signed by this key were valid until/i, 'the old key signed tokens that are still valid');
      await eventually('A and B stop publishing the retired key', async () => (await kids(a.url)).join() === newKid && (await kids(urlB)).join() === newKid);
      await assert.rejects(jwtVerify(oldToken, createLocalJWKSet(await jwksAt(urlB)), { audience: NOTES_RESOURCE }));
    } finally {
      await close();
    }
  });

  it('a second rotation while one is waiting is refused, and changes nothing', async () => {
    const env = { ...shared, KEY_ACTIVATION_DELAY_SECONDS: '3600', DATA_DIR: join(root, 'cli', 'data'), KEYS_DIR: join(root, 'cli', 'keys') };
    const first = await runProject('src/cli/main.ts', ['keys', 'rotate'], { env });
    assert.equal(first.code, 0, first.stderr);
    const second = await runProject('src/cli/main.ts', ['keys', 'rotate'], { env });
    assert.equal(second.code, 2);
    assert.match(second.stderr, /a rotation is already under way/);
    const listed = JSON.parse((await runProject('src/cli/main.ts', ['keys', 'list', '--json'], { env })).stdout) as Array<{ status: string }>;
    assert.equal(listed.filter((key) => key.status === 'next').length, 1, 'only the first rotation is waiting');
  });
});

describe('a signing key set by the deployment', () => {
  it('cannot be rotated from the command line: rotate it where it is kept', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const root = await mkdtemp(join(tmpdir(), 'portcullis-fixed-key-'));
    try {
      const env = { RSA_PRIVATE_KEY_PEM: pem, DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys') };
      const rotated = await runProject('src/cli/main.ts', ['keys', 'rotate'], { env });
      assert.equal(rotated.code, 2);
      assert.match(rotated.stderr, /comes from RSA_PRIVATE_KEY_PEM.*rotate it where it is kept/);
      const listed = await runProject('src/cli/main.ts', ['keys', 'list'], { env });
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /current/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
