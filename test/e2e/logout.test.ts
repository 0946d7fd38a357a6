import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { registerClient } from '../../src/authorization-server/clients/registry.ts';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openTestPage, redirectSettled } from '../support/browser.ts';
import { addUser, client, discover } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';
const SIGNED_OUT_URI = 'http://127.0.0.1/signed-out';

// One Chromium for both engines' tests (each test still gets its own context).
let browser: Browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser?.close());

for (const engine of ['embedded', 'redis'] as const) {
  describe(`signing out (RP-initiated logout) in headless Chromium (${engine} store)`, () => {
    let server: TestServer;
    let clientId: string;
    let user: Awaited<ReturnType<typeof addUser>>;
    const prefix = uniqueRedisPrefix('logout');

    before(async () => {
      server = await startTestServer(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {});
      user = await addUser(server);
      clientId = (await registerClient(server.store, { name: 'Signing Out App', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [SIGNED_OUT_URI], confidential: false })).client_id;
    });
    after(async () => {
      await server?.destroy();
      if (engine === 'redis') await deleteKeysUnder(prefix);
    });

    const openPage = (t: TestContext) => openTestPage(t, browser, { javaScriptEnabled: false }, [REDIRECT_URI, SIGNED_OUT_URI]);

    async function authorizationUrl(config: client.Configuration, verifier: string): Promise<URL> {
      return client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI, scope: 'openid notes:read', resource: NOTES_RESOURCE, state: client.randomState(),
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
    }

    /** Signs in (keeping the session) and approves; returns the ID token. */
    async function signIn(page: Page, config: client.Configuration): Promise<string> {
      const verifier = client.randomPKCECodeVerifier();
      const url = await authorizationUrl(config, verifier);
      await page.goto(url.href);
      await page.locator('input[name=username]').fill(user.username);
      await page.locator('input[name=password]').fill(user.password);
      await page.locator('input[name=remember]').check();
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.locator('.sign-out a').textContent(), 'Sign out', 'the consent page offers signing out');
      const redirect = nextRedirectTo(page, REDIRECT_URI);
      await page.locator('button[name=decision][value=approve]').click();
      const callback = await redirect;
      await redirectSettled(page, REDIRECT_URI);
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: callback.searchParams.get('state')! }, { resource: NOTES_RESOURCE });
      return tokens.id_token!;
    }

    it('asks in plain words, then ends the session in the store and returns to the registered address', async (t) => {
      const config = await discover(server, clientId);
      const { page, context } = await openPage(t);
      const idToken = await signIn(page, config);
      const sessionCookies = (await context.cookies()).filter((cookie) => cookie.name.startsWith('_session'));
      assert.ok(sessionCookies.length > 0);

      const state = client.randomState();
      await page.goto(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT_URI, state }).href);
      assert.equal(await page.locator('h1').textContent(), 'Sign out?');
      assert.match(await page.locator('main').textContent() ?? '', /Signing Out App asks to sign you out/);
      const back = nextRedirectTo(page, SIGNED_OUT_URI);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      assert.equal((await back).searchParams.get('state'), state);

      // The old session cookie, replayed in another browser, no longer signs anyone in: the session is gone everywhere.
      const other = await openPage(t);
      await other.context.addCookies(sessionCookies);
      await other.page.goto((await authorizationUrl(config, client.randomPKCECodeVerifier())).href);
      assert.equal(await other.page.locator('h1').textContent(), 'Sign in');
    });

    it('keeps the session when the user chooses to stay signed in, and shows a signed-out page without a return address', async (t) => {
      const config = await discover(server, clientId);
      const { page } = await openPage(t);
      await signIn(page, config);
      await page.goto(new URL('/session/end', server.issuer).href);
      await page.getByRole('button', { name: 'Stay signed in' }).click();
      assert.equal(await page.locator('h1').textContent(), 'You are still signed in');
      const straightBack = nextRedirectTo(page, REDIRECT_URI);
      await page.goto((await authorizationUrl(config, client.randomPKCECodeVerifier())).href).catch(() => undefined);
      assert.ok((await straightBack).searchParams.get('code'), 'still signed in: the application gets a code without a sign-in page');
      await redirectSettled(page, REDIRECT_URI);

      await page.goto(new URL('/session/end', server.issuer).href);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      assert.equal(await page.locator('h1').textContent(), 'You are signed out');
    });

    it('refuses a return address the application did not register', async (t) => {
      const config = await discover(server, clientId);
      const { page } = await openPage(t);
      const response = await page.goto(client.buildEndSessionUrl(config, { post_logout_redirect_uri: 'http://127.0.0.1/elsewhere' }).href);
      assert.equal(response!.status(), 400);
      assert.match(await page.locator('main').textContent() ?? '', /post_logout_redirect_uri not registered/);
    });
  });
}
