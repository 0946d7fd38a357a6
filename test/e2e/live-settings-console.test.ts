import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { UserDirectory } from '../../src/authorization-server/accounts/users.ts';
import { openRedisStore, type Store } from '../../src/storage/index.ts';
import { OTHER_RESOURCE, SERVICE_CLIENT } from '../support/authorization-server.ts';
import { launchBrowser, openLoopbackPage } from '../support/browser.ts';
import { addConsoleUser, consoleSession, signInToConsole } from '../support/console.ts';
import { freePort } from '../support/ports.ts';
import { sharedDeploymentEnv, startProject, type RunningProject } from '../support/processes.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const screenshots = process.env.SCREENSHOTS === '1';

describe('live settings in the console, on two instances sharing Redis', () => {
  const prefix = uniqueRedisPrefix('test:live-settings');
  const instances: RunningProject[] = [];
  let root: string;
  let urlA: string;
  let urlB: string;
  let store: Store;
  let browser: Browser;
  const admin = () => addConsoleUser({ store, users: new UserDirectory(store) });

  const tokenAt = (url: string) => fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE, scope: 'api:read' }),
  });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-live-settings-'));
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify({
      clients: [SERVICE_CLIENT],
      resources: [{ uri: OTHER_RESOURCE, name: 'Other API', scopes: ['api:read'] }],
    }));
    const [portA, portB] = [await freePort(), await freePort()];
    urlA = `http://127.0.0.1:${portA}`;
    urlB = `http://127.0.0.1:${portB}`;
    const shared = {
      ...sharedDeploymentEnv({ issuer: urlA, redisUrl: TEST_REDIS_URL, prefix, configFile, root }),
      // Fixed by the environment: shown as such, and no console change may touch it.
      TOKEN_RATE_LIMIT_PER_ADDRESS: '1000',
    };
    [instances[0], instances[1], browser] = await Promise.all([
      startProject({ ...shared, PORT: String(portA), DATA_DIR: join(root, 'a', 'data'), KEYS_DIR: join(root, 'a', 'keys') }),
      startProject({ ...shared, PORT: String(portB), DATA_DIR: join(root, 'b', 'data'), KEYS_DIR: join(root, 'b', 'keys') }),
      launchBrowser(),
    ]);
    store = await openRedisStore({ url: TEST_REDIS_URL, prefix });
  });

  after(async () => {
    await browser?.close();
    await store?.close();
    await Promise.all(instances.map((instance) => instance.stop()));
    await rm(root, { recursive: true, force: true });
    await deleteKeysUnder(prefix);
  });

  it('an admin signs in with a second factor, lowers the per-client token limit on A, and B enforces it within 30 seconds', async () => {
    const user = await admin();
    const { page, blockedRequests, close } = await openLoopbackPage(browser);
    try {
      await signInToConsole(page, `${urlA}/admin`, user);
      await page.goto(`${urlA}/admin/settings`);
      assert.match(await page.locator('#setting-tokenRateLimitPerAddress').innerText(), /1000[\s\S]*Fixed by the environment/);
      assert.equal(await page.locator('#setting-tokenRateLimitPerAddress input').count(), 0, 'a fixed setting has no field');
      assert.match(await page.locator('#setting-tokenRateLimitPerClient').innerText(), /Default · Allowed: a whole number, at least 1/);
      if (screenshots) await shoot(page, 'settings');

      await page.fill('#setting-tokenRateLimitPerClient-input', '2');
      await page.click('button:has-text("Review changes")');
      assert.match(await page.locator('table.data').innerText(), /Tokens issued per application in a window[\s\S]*600\s+2/);
      if (screenshots) await shoot(page, 'settings-review');
      await page.click('button:has-text("Apply these changes")');
      assert.match(await page.locator('.banner.notice').innerText(), /Applied\. Every server uses the new values within 30 seconds/);
      assert.match(await page.locator('#setting-tokenRateLimitPerClient').innerText(), new RegExp(`Changed here by ${user.username}`));
      assert.deepEqual(blockedRequests, []);
    } finally {
      await close();
    }

    // B picks the change up by polling the store (every 5 s): ask B for tokens until it refuses.
    const deadline = Date.now() + 30_000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      const response = await tokenAt(urlB);
      refused = response.status === 429;
      if (!refused) {
        assert.equal(response.status, 200, await response.text());
        await sleep(500);
      }
    }
    assert.ok(refused, 'B applied the new limit within 30 seconds');
    assert.equal((await tokenAt(urlA)).status, 429, 'A enforces it too: both count in Redis');
  });

  it('refuses an invalid value naming the setting and its allowed range, and applies nothing', async () => {
    const session = await consoleSession(`${urlA}/admin`, await admin());
    const page = await (await session.agent.get(`${urlA}/admin/settings`)).text();
    const version = /name="version" value="(\d+)"/.exec(page)![1]!;
    const response = await session.agent.postForm(`${urlA}/admin/settings/review`, { csrf: session.csrf, version, cimdMaxBytes: '10', loginLockoutThreshold: '5' });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.match(text, /Nothing was changed/);
    assert.match(text, /<strong>cimdMaxBytes<\/strong>.*allowed: a whole number from 512 to 1048576/);
    const forged = await session.agent.postForm(`${urlA}/admin/settings/apply`, { csrf: session.csrf, version, tokenRateLimitPerAddress: '1' });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /fixed by the environment \(TOKEN_RATE_LIMIT_PER_ADDRESS\)/);
    const withoutToken = await session.agent.postForm(`${urlA}/admin/settings/apply`, { version, loginLockoutThreshold: '9' });
    assert.equal(withoutToken.status, 403);
    const review = await (await session.agent.postForm(`${urlA}/admin/settings/review`, { csrf: session.csrf, version, secondFactorRequired: 'everyone' })).text();
    assert.match(review, /action="\/admin\/settings\/apply-with-password"[\s\S]*name="password"/, 'who must use a second factor needs the password again');
    const withoutPassword = await session.agent.postForm(`${urlA}/admin/settings/apply`, { csrf: session.csrf, version, SECOND_FACTOR_REQUIRED: 'none' });
    assert.equal(withoutPassword.status, 400);
    const wrongPassword = await session.agent.postForm(`${urlA}/admin/settings/apply-with-password`, { csrf: session.csrf, version, secondFactorRequired: 'everyone', password: 'not the password' });
    assert.equal(wrongPassword.status, 403);
    const after = await (await session.agent.get(`${urlA}/admin/settings`)).text();
    assert.match(after, new RegExp(`name="version" value="${version}"`), 'nothing was stored');
  });

  it('shows the second of two admins editing at once a conflict, keeping the first change', async () => {
    const [first, second] = [await consoleSession(`${urlA}/admin`, await admin()), await consoleSession(`${urlB}/admin`, await admin())];
    const versionOf = async (session: typeof first, url: string) => /name="version" value="(\d+)"/.exec(await (await session.agent.get(`${url}/admin/settings`)).text())![1]!;
    const seen = await versionOf(second, urlB);
    const applied = await first.agent.postForm(`${urlA}/admin/settings/apply`, { csrf: first.csrf, version: await versionOf(first, urlA), breakGlassPerHour: '3' });
    assert.equal(applied.status, 303);
    const late = await second.agent.postForm(`${urlB}/admin/settings/apply`, { csrf: second.csrf, version: seen, breakGlassPerHour: '7' });
    assert.equal(late.status, 409);
    const text = await late.text();
    assert.match(text, /Someone else changed the settings while you were editing them\. Nothing of your change was applied/);
    assert.match(text, /In force now[\s\S]*You wanted[\s\S]*>3<[\s\S]*>7</);
    assert.match(await (await second.agent.get(`${urlB}/admin/settings`)).text(), /id="setting-breakGlassPerHour-input" name="breakGlassPerHour" value="3"/);
  });

  it('asks admins for a second factor on the other instance too once an admin, confirming with the password, says so', async () => {
    const plain = await addConsoleUser({ store, users: new UserDirectory(store) }, { secondFactor: false });
    assert.equal((await consoleSession(`${urlB}/admin`, plain)).status, 200, 'no second factor needed yet');
    const user = await admin();
    const session = await consoleSession(`${urlA}/admin`, user);
    const version = /name="version" value="(\d+)"/.exec(await (await session.agent.get(`${urlA}/admin/settings`)).text())![1]!;
    const applied = await session.agent.postForm(`${urlA}/admin/settings/apply-with-password`, { csrf: session.csrf, version, secondFactorRequired: 'admin', password: user.password });
    assert.equal(applied.status, 303);
    const deadline = Date.now() + 30_000;
    let refused: { status: number; text: string } | undefined;
    while (!refused && Date.now() < deadline) {
      const attempt = await consoleSession(`${urlB}/admin`, plain);
      if (attempt.status === 403) refused = attempt;
      else await sleep(500);
    }
    assert.ok(refused, 'B asks for a second factor within 30 seconds');
    assert.match(refused.text, /\/account/);
  });
});

async function shoot(page: import('playwright-core').Page, name: string): Promise<void> {
  await page.screenshot({ path: `/tmp/portcullis-console-${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `/tmp/portcullis-console-${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

