import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { NOTES_RESOURCE, PUBLIC_CLIENT, TEST_PASSWORD, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openTestPage, redirectSettled } from '../support/browser.ts';
import { addUser, client, discover } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

// One Chromium for both engines' tests (each test still gets its own context).
let browser: Browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser?.close());

for (const engine of ['embedded', 'redis'] as const) {
  describe(`the account page in headless Chromium (${engine} store)`, () => {
    let server: TestServer;
    let config: client.Configuration;
    const prefix = uniqueRedisPrefix('account');

    before(async () => {
      server = await startTestServer(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {});
      config = await discover(server, PUBLIC_CLIENT.client_id);
    });
    after(async () => {
      await server?.destroy();
      if (engine === 'redis') await deleteKeysUnder(prefix);
    });

    const openPage = (t: TestContext) => openTestPage(t, browser, { javaScriptEnabled: false }, [REDIRECT_URI]);

    /** Signs in through the pages, approves offline access to notes, and returns the refresh token. */
    async function signInAndConnect(page: Page, user: { username: string; password: string }): Promise<string> {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      await page.goto(client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE, state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).href);
      await page.locator('input[name=username]').fill(user.username);
      await page.locator('input[name=password]').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const redirect = nextRedirectTo(page, REDIRECT_URI);
      await page.locator('button[name=decision][value=approve]').click();
      const callback = await redirect;
      await redirectSettled(page, REDIRECT_URI);
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: NOTES_RESOURCE });
      return tokens.refresh_token!;
    }

    /** One user signed in on two browsers. */
    async function signedInTwice(t: TestContext) {
      const user = await addUser(server);
      const first = await openPage(t);
      const second = await openPage(t);
      await signInAndConnect(first.page, user);
      await signInAndConnect(second.page, user);
      return { user, first, second };
    }

    const account = (page: Page) => page.goto(new URL('/account', server.issuer).href);

    it('says the browser is not signed in when it is not', async (t) => {
      const { page } = await openPage(t);
      assert.equal((await account(page))!.status(), 401);
      assert.match(await page.locator('main').textContent() ?? '', /not signed in on this browser/);
    });

    it('lists the apps with access and removes one, revoking its refresh tokens', async (t) => {
      const user = await addUser(server);
      const { page } = await openPage(t);
      const refreshToken = await signInAndConnect(page, user);
      await account(page);
      assert.equal(await page.locator('#apps .app-name').textContent(), PUBLIC_CLIENT.client_name);
      assert.match(await page.locator('#apps').textContent() ?? '', /notes:read/);
      await page.getByRole('button', { name: 'Remove access' }).click();
      assert.match(await page.locator('[role=status]').textContent() ?? '', /no longer has access/);
      assert.equal(await page.locator('#apps .app-name').count(), 0);
      await assert.rejects(client.refreshTokenGrant(config, refreshToken, { resource: NOTES_RESOURCE }), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    });

    it('shows where the user is signed in and signs out another browser', async (t) => {
      const { user, first, second } = await signedInTwice(t);
      await account(first.page);
      assert.deepEqual((await first.page.locator('#sessions strong').allTextContents()), ['This browser']);
      assert.equal(await first.page.locator('#sessions form').count(), 2);
      await first.page.locator('#sessions form', { hasText: 'Another browser' }).getByRole('button').click();
      assert.match(await first.page.locator('[role=status]').textContent() ?? '', /signed out there/);
      assert.equal((await account(second.page))!.status(), 401, 'the other browser is signed out');
      assert.equal((await account(first.page))!.status(), 200);
    });

    it('changes the password only with the current one, and signs out the other browsers', async (t) => {
      const { user, first, second } = await signedInTwice(t);
      await account(first.page);
      await first.page.locator('#current').fill('not the password');
      await first.page.locator('#new').fill('a new password 123');
      await first.page.getByRole('button', { name: 'Change password' }).click();
      assert.match(await first.page.locator('[role=alert]').textContent() ?? '', /current password is not correct/);
      assert.equal((await server.users.authenticate(user.username, TEST_PASSWORD))?.id, user.id, 'a refused change changes nothing');

      await first.page.locator('#current').fill(TEST_PASSWORD);
      await first.page.locator('#new').fill('a new password 123');
      await first.page.getByRole('button', { name: 'Change password' }).click();
      assert.match(await first.page.locator('[role=status]').textContent() ?? '', /password was changed/);
      assert.equal((await server.users.authenticate(user.username, 'a new password 123'))?.id, user.id);
      assert.equal((await account(second.page))!.status(), 401);
      assert.equal((await account(first.page))!.status(), 200);
    });

    it('refuses a change posted without the page\'s form token', async (t) => {
      const user = await addUser(server);
      const { page } = await openPage(t);
      await signInAndConnect(page, user);
      const response = await page.request.post(new URL('/account/password', server.issuer).href, { form: { current: TEST_PASSWORD, new: 'forged password 1' } });
      assert.equal(response.status(), 400);
      assert.equal((await server.users.authenticate(user.username, TEST_PASSWORD))?.id, user.id);
    });
  });
}
