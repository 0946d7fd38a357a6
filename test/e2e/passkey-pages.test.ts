import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { Browser, Page, Response } from 'playwright-core';
import { SecondFactors } from '../../src/authorization-server/accounts/second-factors.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openLoopbackPage, redirectSettled, serveRedirectUri } from '../support/browser.ts';
import { addUser, authorizationRequest, client, discover } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

// One Chromium for both engines' tests (each test still gets its own context).
let browser: Browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser?.close());

const engines = [
  { name: 'embedded store', env: (): Record<string, string> => ({}) },
  { name: 'Redis store', env: (prefix: string): Record<string, string> => ({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }) },
];

for (const engine of engines) {
  describe(`passkeys in headless Chromium with a virtual authenticator (${engine.name})`, () => {
    const prefix = uniqueRedisPrefix('test:passkeys');
    let server: TestServer;
    let config: client.Configuration;

    before(async () => {
      server = await startTestServer(engine.env(prefix));
      config = await discover(server, PUBLIC_CLIENT.client_id);
    });
    after(async () => {
      await server?.destroy();
      await deleteKeysUnder(prefix);
    });

    async function submit(page: Page, click: () => Promise<void>): Promise<Response> {
      const [response] = await Promise.all([page.waitForResponse((candidate) => candidate.request().method() === 'POST'), click()]);
      await page.waitForLoadState();
      return response;
    }

    /** Signs in with the password from the authorization request; returns the request and the page's response to the password. */
    async function signIn(page: Page, user: { username: string; password: string }, extra: Record<string, string> = {}) {
      const request = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'openid notes:read', resource: NOTES_RESOURCE, extra });
      await page.goto(request.url.href);
      await page.locator('input[name=username]').fill(user.username);
      await page.locator('input[name=password]').fill(user.password);
      await submit(page, () => page.getByRole('button', { name: 'Sign in' }).click());
      return request;
    }

    it('adds a passkey on the account page and signs in with it, saying hwk and mfa in the token', async (t) => {
      const opened = await openLoopbackPage(browser, { javaScriptEnabled: true });
      t.after(async () => {
        await opened.close();
        assert.deepEqual(opened.blockedRequests, []);
      });
      const { page, context } = opened;
      await serveRedirectUri(context, REDIRECT_URI);
      const violations: string[] = [];
      page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      const user = await addUser(server, 'passkey');
      const first = await signIn(page, user);
      const approved = nextRedirectTo(page, REDIRECT_URI);
      await page.locator('button[name=decision][value=approve]').click();
      await client.authorizationCodeGrant(config, await approved, { pkceCodeVerifier: first.verifier, expectedState: first.state }, { resource: NOTES_RESOURCE });
      await redirectSettled(page, REDIRECT_URI);

      await page.goto(new URL('/account/second-factor', server.issuer).href);
      const add = page.getByRole('button', { name: 'Add a passkey' });
      await add.waitFor({ state: 'visible' });
      const added = await submit(page, () => add.click());
      assert.equal(added.status(), 200);
      assert.equal(await page.locator('h1').textContent(), 'Save your recovery codes', 'a first second factor comes with recovery codes');
      const status = await new SecondFactors(server.store).status(user.id);
      assert.equal(status.passkeys.length, 1);
      assert.equal(status.recoveryCodesLeft, 10);

      const request = await signIn(page, user, { prompt: 'login' });
      assert.equal(await page.locator('h1').textContent(), 'Confirm it is you');
      const usePasskey = page.getByRole('button', { name: 'Use your passkey' });
      await usePasskey.waitFor({ state: 'visible' });
      const redirect = nextRedirectTo(page, REDIRECT_URI);
      await usePasskey.click();
      const tokens = await client.authorizationCodeGrant(config, await redirect, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { resource: NOTES_RESOURCE });
      assert.deepEqual(decodeJwt(tokens.access_token).amr, ['pwd', 'hwk', 'user', 'mfa']);
      assert.equal(decodeJwt(tokens.id_token!).acr, 'urn:portcullis:acr:mfa');
      assert.deepEqual(violations, [], 'the scripts run under the page CSP');
    });
  });
}
