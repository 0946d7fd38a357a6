import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Browser, Page, Response } from 'playwright-core';
import { SecondFactors } from '../../src/authorization-server/accounts/second-factors.ts';
import { totpCode } from '../../src/authorization-server/accounts/totp.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openLoopbackPage, redirectSettled, serveRedirectUri } from '../support/browser.ts';
import { addUser, authorizationRequest, client, discover } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';
const RULED_RESOURCE = 'https://ruled.example.test/mcp';
const STEP_MS = 30_000;
const ADMIN_ONLY = { uri: RULED_RESOURCE, name: 'Ruled Notes', scopes: ['ruled:read', 'ruled:admin'], default: false, scopeRoles: { 'ruled:admin': ['admin'] } };

// Every page on the embedded store; on Redis the steps whose state must be shared (pending sign-in, used codes).
// One Chromium for both engines' tests (each test still gets its own context).
let browser: Browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser?.close());

const engines = [
  { name: 'embedded store', everyPage: true, env: (): Record<string, string> => ({}) },
  { name: 'Redis store', everyPage: false, env: (prefix: string): Record<string, string> => ({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }) },
];

for (const engine of engines) {
  describe(`second factor at sign-in, in headless Chromium without JavaScript (${engine.name})`, () => {
    const prefix = uniqueRedisPrefix('test:second-factor');
    let server: TestServer;
    let config: client.Configuration;
    let factors: SecondFactors;

    before(async () => {
      server = await startTestServer({ ...engine.env(prefix), SECOND_FACTOR_REQUIRED: 'admin', LOGIN_LOCKOUT_THRESHOLD: '3' }, undefined, [ADMIN_ONLY]);
      config = await discover(server, PUBLIC_CLIENT.client_id);
      factors = new SecondFactors(server.store);
    });
    after(async () => {
      await server?.destroy();
      await deleteKeysUnder(prefix);
    });

    async function openPage(t: TestContext): Promise<Page> {
      const opened = await openLoopbackPage(browser, { javaScriptEnabled: false });
      t.after(async () => {
        await opened.close();
        assert.deepEqual(opened.blockedRequests, [], 'the browser tried to leave loopback');
      });
      await serveRedirectUri(opened.context, REDIRECT_URI);
      return opened.page;
    }

    /** Opens the authorization request and signs in with the password; returns the page that follows. */
    async function signInWithPassword(page: Page, user: { username: string; password: string }, scope = 'openid notes:read', resource = NOTES_RESOURCE) {
      const request = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope, resource });
      await page.goto(request.url.href);
      await page.locator('input[name=username]').fill(user.username);
      await page.locator('input[name=password]').fill(user.password);
      await submit(page, page.getByRole('button', { name: 'Sign in' }));
      return request;
    }

    /** Clicks and returns the response to the form POST, once the page that follows has loaded. */
    async function submit(page: Page, button: ReturnType<Page['getByRole']>): Promise<Response> {
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.request().method() === 'POST'),
        button.click(),
      ]);
      await page.waitForLoadState();
      return response;
    }

    async function enterCode(page: Page, code: string): Promise<Response> {
      await page.locator('input[name=code]').fill(code);
      return submit(page, page.getByRole('button', { name: 'Continue', exact: true }));
    }

    /** Approves on the consent page and redeems the code. */
    async function approveAndRedeem(page: Page, request: Awaited<ReturnType<typeof authorizationRequest>>, resource = NOTES_RESOURCE) {
      assert.equal(await page.locator('h1').textContent(), 'Allow access?');
      const redirect = nextRedirectTo(page, REDIRECT_URI);
      await page.locator('button[name=decision][value=approve]').click();
      const callback = await redirect;
      // Let the callback page finish loading, so the test's next navigation does not cut it off.
      await redirectSettled(page, REDIRECT_URI);
      return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { resource });
    }

    /** A user who already has an authenticator app; returns its secret. The enrolment used the current step's code. */
    async function userWithApp(prefixName: string) {
      const user = await addUser(server, prefixName);
      const { secret } = await factors.startTotpEnrolment(user.id, user.username);
      const codes = await factors.confirmTotpEnrolment(user.id, totpCode(secret));
      assert.ok(codes);
      return { ...user, secret, codes };
    }

    if (engine.everyPage) it('leads an admin without a second factor to set up an authenticator app, shows the recovery codes once, and says so in amr and acr', async (t) => {
      const page = await openPage(t);
      const user = await addUser(server, 'new-admin');
      await server.users.changeRoles(user.username, { add: ['admin'] });
      const request = await signInWithPassword(page, user);
      assert.equal(await page.locator('h1').textContent(), 'Set up your authenticator app');
      assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is inline SVG');
      assert.equal(await page.locator('script').count(), 0);
      const secret = ((await page.locator('.totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);

      const wrong = await enterCodeOnEnrolment(page, '000000' === totpCode(secret) ? '111111' : '000000');
      assert.equal(wrong.status(), 401);
      assert.equal(await page.locator('h1').textContent(), 'Set up your authenticator app');
      assert.equal(((await page.locator('.totp-secret').textContent()) ?? '').replace(/\s+/g, ''), secret, 'the same key is offered again');

      const confirmed = await enterCodeOnEnrolment(page, totpCode(secret));
      assert.equal(confirmed.status(), 200);
      assert.equal(await page.locator('h1').textContent(), 'Save your recovery codes');
      const codes = await page.locator('.recovery-codes code').allTextContents();
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      const dump = JSON.stringify(await server.store.findByTag(`mfa-recovery:${user.id}`));
      assert.ok(codes.every((code) => !dump.includes(code)), 'recovery codes are stored only as hashes');

      await submit(page, page.getByRole('button', { name: 'I saved them, continue' }));
      const tokens = await approveAndRedeem(page, request);
      const idToken = (await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL('/jwks', server.issuer)))).payload;
      assert.deepEqual(idToken.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(idToken.acr, 'urn:portcullis:acr:mfa');
      const accessToken = decodeJwt(tokens.access_token);
      assert.deepEqual(accessToken.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(accessToken.acr, 'urn:portcullis:acr:mfa');
    });

    async function enterCodeOnEnrolment(page: Page, code: string): Promise<Response> {
      await page.locator('input[name=code]').fill(code);
      return submit(page, page.getByRole('button', { name: 'Turn on' }));
    }

    it('signs in a user who has an app with its code, and refuses the same code a second time', async (t) => {
      const user = await userWithApp('app-user');
      const code = totpCode(user.secret, Date.now() + STEP_MS);
      const page = await openPage(t);
      const request = await signInWithPassword(page, user);
      assert.equal(await page.locator('h1').textContent(), 'Confirm it is you');
      const accepted = await enterCode(page, code);
      assert.equal(accepted.status(), 303);
      const tokens = await approveAndRedeem(page, request);
      assert.deepEqual(decodeJwt(tokens.access_token).amr, ['pwd', 'otp', 'mfa']);

      const again = await openPage(t);
      await signInWithPassword(again, user);
      const replayed = await enterCode(again, code);
      assert.equal(replayed.status(), 401);
      assert.match((await again.locator('[role=alert]:visible').textContent()) ?? '', /not correct, or it was already used/);
    });

    it('accepts each recovery code once, without JavaScript', async (t) => {
      const user = await userWithApp('recovering');
      const page = await openPage(t);
      const request = await signInWithPassword(page, user);
      await page.locator('details summary').click();
      await page.locator('input[name=recovery-code]').fill(user.codes[3]!.toUpperCase());
      const accepted = await submit(page, page.getByRole('button', { name: 'Continue with a recovery code' }));
      assert.equal(accepted.status(), 303);
      await approveAndRedeem(page, request);
      assert.equal((await factors.status(user.id)).recoveryCodesLeft, 9);

      const again = await openPage(t);
      await signInWithPassword(again, user);
      await again.locator('details summary').click();
      await again.locator('input[name=recovery-code]').fill(user.codes[3]!);
      const refused = await submit(again, again.getByRole('button', { name: 'Continue with a recovery code' }));
      assert.equal(refused.status(), 401);
    });

    if (engine.everyPage) it('counts wrong codes toward the sign-in lockout, which then pauses the password step too', async (t) => {
      const user = await userWithApp('guessed');
      const page = await openPage(t);
      await signInWithPassword(page, user);
      const current = new Set([totpCode(user.secret, Date.now() - STEP_MS), totpCode(user.secret), totpCode(user.secret, Date.now() + STEP_MS)]);
      const wrong = ['123456', '654321', '111111', '222222'].filter((code) => !current.has(code));
      assert.equal((await enterCode(page, wrong[0]!)).status(), 401);
      assert.equal((await enterCode(page, wrong[1]!)).status(), 401);
      const paused = await enterCode(page, wrong[2]!);
      assert.equal(paused.status(), 429);
      assert.ok(Number(paused.headers()['retry-after']) > 0);
      assert.equal((await enterCode(page, totpCode(user.secret, Date.now() + STEP_MS))).status(), 429, 'even the right code waits');

      const fresh = await openPage(t);
      const request = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
      await fresh.goto(request.url.href);
      await fresh.locator('input[name=username]').fill(user.username);
      await fresh.locator('input[name=password]').fill(user.password);
      assert.equal((await submit(fresh, fresh.getByRole('button', { name: 'Sign in' }))).status(), 429);
    });

    it('signs a password-only session in again with a second factor when the client asks acr_values for one (step-up)', async (t) => {
      const page = await openPage(t);
      const user = await addUser(server, 'stepping-up');
      const first = await approveAndRedeem(page, await signInWithPassword(page, user));
      assert.deepEqual(decodeJwt(first.access_token).amr, ['pwd']);
      assert.equal(decodeJwt(first.access_token).acr, 'urn:portcullis:acr:password');

      const request = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'openid notes:read', resource: NOTES_RESOURCE, extra: { acr_values: 'urn:portcullis:acr:mfa' } });
      await page.goto(request.url.href);
      assert.equal(await page.locator('h1').textContent(), 'Sign in', 'the session is signed in again');
      await page.locator('input[name=username]').fill(user.username);
      await page.locator('input[name=password]').fill(user.password);
      await submit(page, page.getByRole('button', { name: 'Sign in' }));
      assert.equal(await page.locator('h1').textContent(), 'Set up your authenticator app');
      const secret = ((await page.locator('.totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      await enterCodeOnEnrolment(page, totpCode(secret));
      const redirect = nextRedirectTo(page, REDIRECT_URI);
      await page.getByRole('button', { name: 'I saved them, continue' }).click();
      const tokens = await client.authorizationCodeGrant(config, await redirect, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { resource: NOTES_RESOURCE });
      assert.equal(decodeJwt(tokens.access_token).acr, 'urn:portcullis:acr:mfa');
      assert.equal(decodeJwt(tokens.id_token!).acr, 'urn:portcullis:acr:mfa');
    });

    if (engine.everyPage) it('lets a signed-in user set up an authenticator app on the account page and remove it with their password', async (t) => {
      const page = await openPage(t);
      const user = await addUser(server, 'self-service');
      await approveAndRedeem(page, await signInWithPassword(page, user));
      const accountPage = new URL('/account/second-factor', server.issuer).href;
      const overview = await page.goto(accountPage);
      assert.equal(overview?.headers()['cache-control'], 'no-store');
      assert.equal(await page.locator('h1').textContent(), 'Second step at sign-in');
      assert.equal(await page.locator('.factor-state').first().textContent(), 'Off.');

      await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
      const secret = ((await page.locator('.totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      assert.equal((await enterCodeOnEnrolment(page, totpCode(secret))).status(), 200);
      assert.equal((await page.locator('.recovery-codes code').allTextContents()).length, 10);
      await page.getByRole('link', { name: /I saved them/ }).click();
      assert.equal(await page.locator('.factor-state').first().textContent(), 'On.');
      assert.equal(await page.locator('.recovery-left').textContent(), '10 of 10 left.');

      await page.locator('#remove-app-password').fill('not the password');
      const refused = await submit(page, page.getByRole('button', { name: 'Remove the authenticator app' }));
      assert.equal(refused.status(), 401);
      assert.equal(await page.locator('[role=alert]:visible').textContent(), 'The password is not correct.');
      assert.equal((await factors.status(user.id)).totp, true);

      await page.locator('#remove-app-password').fill(user.password);
      assert.equal((await submit(page, page.getByRole('button', { name: 'Remove the authenticator app' }))).status(), 200);
      assert.equal(await page.locator('[role=status]').textContent(), 'The authenticator app was removed.');
      assert.deepEqual(await factors.status(user.id), { totp: false, passkeys: [], recoveryCodesLeft: 0 });
    });

    if (engine.everyPage) it('asks a browser that is not signed in to sign in first', async (t) => {
      const page = await openPage(t);
      const response = await page.goto(new URL('/account/second-factor', server.issuer).href);
      assert.equal(response?.status(), 401);
      assert.equal(await page.locator('h1').textContent(), 'Sign in first');
    });

    if (engine.everyPage) it('offers on the consent page only the scopes the user may grant', async (t) => {
      const page = await openPage(t);
      const user = await addUser(server, 'reader');
      await signInWithPassword(page, user, 'ruled:read ruled:admin', RULED_RESOURCE);
      assert.equal(await page.locator('h1').textContent(), 'Allow access?');
      assert.deepEqual((await page.locator('.scopes li').allTextContents()).map((text) => text.trim()), ['ruled:read']);
    });
  });
}
