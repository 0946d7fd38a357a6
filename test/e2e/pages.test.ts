import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, BrowserContextOptions, Page, Response } from 'playwright-core';
import { registerClient } from '../../src/authorization-server/clients/registry.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openLoopbackPage, serveRedirectUri, type LoopbackPage } from '../support/browser.ts';
import { startCallbackServer } from '../support/callback-server.ts';
import { addUser, client, discover } from '../support/oauth-client.ts';
import { register } from '../support/registration.ts';
import { makeTestCertificates, startHttpsFixture, type HttpsFixture, type TestCertificates } from '../support/tls.ts';

const PUBLIC_REDIRECT = 'http://127.0.0.1/callback';
const LOOPBACK_ONLY_REDIRECT = 'http://127.0.0.1:53682/callback';
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">"><script>window.__pwned=1</script>';
const NO_JS: BrowserContextOptions = { javaScriptEnabled: false };
const WITH_JS: BrowserContextOptions = { javaScriptEnabled: true };

const INTERACTION_PAGE = /\/interaction\/[^/?#]+$/;

describe('login and consent pages in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let user: Awaited<ReturnType<typeof addUser>>;
  let hostileClientId: string;
  let loopbackOnlyClientId: string;
  let certificates: TestCertificates;
  let fixture: HttpsFixture;

  before(async () => {
    // Client metadata documents come from an https server on loopback under a throwaway CA.
    certificates = makeTestCertificates();
    fixture = await startHttpsFixture(certificates);
    server = await startTestServer({ OUTBOUND_ALLOW_LOOPBACK: 'true', OUTBOUND_CA_FILE: certificates.caFile });
    browser = await launchBrowser();
    user = await addUser(server);
    hostileClientId = (await registerClient(server.store, { name: HOSTILE_NAME, redirectUris: [LOOPBACK_ONLY_REDIRECT], confidential: false })).client_id;
    loopbackOnlyClientId = (await registerClient(server.store, {
      name: 'Local CLI', redirectUris: [LOOPBACK_ONLY_REDIRECT, 'http://localhost:53682/callback'], confidential: false,
    })).client_id;
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
    await fixture?.close();
    certificates?.remove();
  });

  /** Publishes a client metadata document on the fixture; its URL is the client_id. */
  function publishMetadataDocument(path: string, redirectUris: string[]): string {
    const clientId = `${fixture.origin}${path}`;
    fixture.json(path, { client_id: clientId, client_name: 'Doc Client', redirect_uris: redirectUris, token_endpoint_auth_method: 'none' });
    return clientId;
  }

  // ---- helpers ------------------------------------------------------------------------------

  interface Authorization {
    url: URL;
    state: string;
    verifier: string;
    config: client.Configuration;
    redirectUri: string;
  }

  async function authorizationRequest(clientId: string = PUBLIC_CLIENT.client_id, redirectUri = PUBLIC_REDIRECT, scope = 'openid notes:read notes:write'): Promise<Authorization> {
    const config = await discover(server, clientId);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope, resource: NOTES_RESOURCE, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { url, state, verifier, config, redirectUri };
  }

  /** A fresh browser context for this test, closed when it ends, whose redirect URI answers. */
  async function openPage(t: TestContext, options: BrowserContextOptions, redirectUri = PUBLIC_REDIRECT): Promise<LoopbackPage> {
    const opened = await openLoopbackPage(browser, options);
    t.after(async () => {
      await opened.close();
      assert.deepEqual(opened.blockedRequests, [], 'the browser tried to leave loopback');
    });
    await serveRedirectUri(opened.context, redirectUri);
    return opened;
  }

  /** Starts the authorization request; the server sends the browser to its login page. */
  async function openLoginPage(page: Page, authorization: Authorization): Promise<Response> {
    const landing = page.waitForResponse((response) => INTERACTION_PAGE.test(new URL(response.url()).pathname));
    await page.goto(authorization.url.href);
    const response = await landing;
    assert.equal(response.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Sign in');
    return response;
  }

  /** Fills the login form and submits it the way a user would; returns the response to the POST. */
  async function submitLogin(page: Page, username: string, password: string): Promise<Response> {
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === 'POST' && candidate.url().endsWith('/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState();
    return response;
  }

  /** On the login page: signs in with the test user and waits for the consent page; returns the response that served it. */
  async function signInAndReachConsent(page: Page): Promise<Response> {
    const consent = page.waitForResponse((response) => response.request().method() === 'GET' && INTERACTION_PAGE.test(new URL(response.url()).pathname));
    const login = await submitLogin(page, user.username, user.password);
    assert.equal(login.status(), 303, 'a correct sign-in redirects');
    const response = await consent;
    await page.waitForURL(response.url());
    assert.equal(response.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Allow access?');
    return response;
  }

  async function signInToConsent(page: Page, authorization: Authorization): Promise<Response> {
    await openLoginPage(page, authorization);
    return signInAndReachConsent(page);
  }

  async function decide(page: Page, authorization: Authorization, decision: 'approve' | 'deny'): Promise<URL> {
    const redirect = nextRedirectTo(page, authorization.redirectUri);
    await page.locator(`button[type=submit][name=decision][value=${decision}]`).click();
    return redirect;
  }

  async function textsOf(page: Page, selector: string): Promise<string[]> {
    return (await page.locator(selector).allTextContents()).map((text) => text.trim());
  }

  function cspDirectives(response: Response): Map<string, string> {
    const header = response.headers()['content-security-policy'] ?? '';
    return new Map(header.split(';').map((directive) => directive.trim()).filter(Boolean).map((directive) => {
      const [name, ...values] = directive.split(/\s+/);
      return [name!.toLowerCase(), values.join(' ')];
    }));
  }

  function assertHardenedInteractionPage(response: Response, label: string): void {
    const headers = response.headers();
    assert.equal(headers['x-frame-options'], 'DENY', `${label}: X-Frame-Options`);
    assert.equal(headers['cache-control'], 'no-store', `${label}: Cache-Control`);
    const csp = cspDirectives(response);
    assert.equal(csp.get('default-src'), "'none'", `${label}: CSP default-src`);
    assert.equal(csp.get('frame-ancestors'), "'none'", `${label}: CSP frame-ancestors`);
    assert.match(headers['content-type'] ?? '', /^text\/html/, `${label}: served as HTML`);
  }

  async function screenshot(page: Page, path: string): Promise<void> {
    if (process.env.SCREENSHOTS === '1') await page.screenshot({ path, fullPage: true });
  }

  // ---- login --------------------------------------------------------------------------------

  describe('login page', () => {
    it('is a plain HTML form with autocomplete hints and a csrf field', async (t) => {
      const { page } = await openPage(t, NO_JS);
      const response = await openLoginPage(page, await authorizationRequest());
      await screenshot(page, '/tmp/portcullis-login.png');

      assertHardenedInteractionPage(response, 'login page');
      const form = page.locator('form[method=post]');
      assert.equal(await form.count(), 1);
      assert.match((await form.getAttribute('action')) ?? '', /^\/interaction\/[^/]+\/login$/);
      assert.equal(await form.locator('input[name=username][autocomplete=username]').count(), 1);
      assert.equal(await form.locator('input[name=password][type=password][autocomplete=current-password]').count(), 1);
      const csrf = form.locator('input[type=hidden][name=csrf]');
      assert.equal(await csrf.count(), 1);
      assert.ok(((await csrf.getAttribute('value')) ?? '').length >= 32, 'the csrf token is not empty');
      assert.equal(await page.locator('script').count(), 0, 'the page needs no script');
      assert.equal(await page.locator('main strong').textContent(), PUBLIC_CLIENT.client_name, 'names the client');
    });

    it('signs the user in and moves on to the consent page without JavaScript', async (t) => {
      const { page } = await openPage(t, NO_JS);
      const consent = await signInToConsent(page, await authorizationRequest());
      assert.match(new URL(page.url()).pathname, INTERACTION_PAGE);
      assert.match(new URL(consent.url()).pathname, INTERACTION_PAGE);
    });

    it('answers an unknown user, a wrong password and a disabled account with the same generic 401 page', async (t) => {
      const disabled = await addUser(server, 'disabled');
      await server.users.setDisabled(disabled.username, true);
      const attempts = [
        { case: 'unknown user', username: `nobody-${randomBytes(4).toString('hex')}`, password: user.password },
        { case: 'wrong password', username: user.username, password: 'not the right password' },
        { case: 'disabled account', username: disabled.username, password: disabled.password },
      ];
      const outcomes = [];
      for (const attempt of attempts) {
        const { page } = await openPage(t, NO_JS);
        await openLoginPage(page, await authorizationRequest());
        const response = await submitLogin(page, attempt.username, attempt.password);
        assert.equal(response.status(), 401, attempt.case);
        assertHardenedInteractionPage(response, attempt.case);
        assert.equal(await page.locator('input[name=username]').inputValue(), attempt.username, `${attempt.case}: the username stays`);
        assert.equal(await page.locator('input[name=password]').inputValue(), '', `${attempt.case}: the password is cleared`);
        assert.equal(await page.locator('input[name=password]').getAttribute('value'), null, `${attempt.case}: no password in the HTML`);
        outcomes.push({
          error: await page.getByRole('alert').textContent(),
          page: (await page.locator('main').innerText()).replaceAll(attempt.username, '<typed>'),
        });
      }
      const [first, ...rest] = outcomes;
      assert.equal(first!.error, 'The username or password is not correct.');
      for (const outcome of rest) assert.deepEqual(outcome, first, 'every failure looks the same');
    });

    it('still signs the user in after a failed attempt', async (t) => {
      const { page } = await openPage(t, NO_JS);
      await openLoginPage(page, await authorizationRequest());
      assert.equal((await submitLogin(page, user.username, 'wrong password!')).status(), 401);
      await signInAndReachConsent(page);
    });
  });

  // ---- consent ------------------------------------------------------------------------------

  describe('consent page', () => {
    it('shows the client, where it redirects, the resource and every requested scope', async (t) => {
      const { page } = await openPage(t, NO_JS);
      const response = await signInToConsent(page, await authorizationRequest());
      await screenshot(page, '/tmp/portcullis-consent.png');

      assertHardenedInteractionPage(response, 'consent page');
      assert.equal(await page.locator('.client-name').textContent(), PUBLIC_CLIENT.client_name);
      assert.equal(await page.locator('.redirect-host').textContent(), 'http://127.0.0.1');
      const notes = page.locator('section.resource').filter({ has: page.locator('.resource-uri', { hasText: NOTES_RESOURCE }) });
      assert.equal(await notes.count(), 1, 'one section for the Notes resource');
      assert.equal(await notes.locator('h2').textContent(), 'Notes');
      assert.deepEqual(await textsOf(page, '.scopes li .scope-name'), ['notes:read', 'notes:write', 'openid']);
      assert.equal(await page.locator('.scopes li .scope-description').first().textContent(), 'Know who you are on this server', 'openid in plain words');
      assert.match((await page.locator('.signed-in-as').textContent())!, /^Signed in as \S+ — not you\?$/);
      assert.equal(await page.locator('form.decision button[type=submit][name=decision][value=approve]').count(), 1);
      assert.equal(await page.locator('form.decision button[type=submit][name=decision][value=deny]').count(), 1);
      assert.equal(await page.locator('form.decision input[type=hidden][name=csrf]').count(), 1);
    });

    it('returns to the redirect URI with a code that redeems, the state and the issuer when the user approves', async (t) => {
      const callbackServer = await startCallbackServer();
      t.after(() => callbackServer.close());
      const { page } = await openPage(t, NO_JS, callbackServer.redirectUri);
      const authorization = await authorizationRequest(PUBLIC_CLIENT.client_id, callbackServer.redirectUri);
      await signInToConsent(page, authorization);
      const callback = await decide(page, authorization, 'approve');

      assert.equal(`${callback.origin}${callback.pathname}`, callbackServer.redirectUri);
      assert.ok(callback.searchParams.get('code'), 'a code');
      assert.equal(callback.searchParams.get('state'), authorization.state);
      assert.equal(callback.searchParams.get('iss'), server.issuer);
      assert.equal(callback.searchParams.get('error'), null);
      await page.waitForURL((url) => url.href === callback.href);
      assert.equal(await page.locator('p').textContent(), 'callback reached');

      const tokens = await client.authorizationCodeGrant(authorization.config, callback, {
        pkceCodeVerifier: authorization.verifier, expectedState: authorization.state,
      }, { resource: NOTES_RESOURCE });
      assert.ok(tokens.access_token);
    });

    it('returns to the redirect URI with access_denied and the issuer when the user denies', async (t) => {
      const { page } = await openPage(t, NO_JS);
      const authorization = await authorizationRequest();
      await signInToConsent(page, authorization);
      const callback = await decide(page, authorization, 'deny');

      assert.equal(`${callback.origin}${callback.pathname}`, PUBLIC_REDIRECT);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('iss'), server.issuer);
      assert.equal(callback.searchParams.get('state'), authorization.state);
      assert.equal(callback.searchParams.get('code'), null);
    });

    it('warns that a client redirects only to this computer when all its redirect URIs are loopback', async (t) => {
      const { page } = await openPage(t, NO_JS, LOOPBACK_ONLY_REDIRECT);
      await signInToConsent(page, await authorizationRequest(loopbackOnlyClientId, LOOPBACK_ONLY_REDIRECT));
      const warning = page.locator('.warning');
      assert.equal(await warning.count(), 1);
      assert.match((await warning.textContent()) ?? '', /only redirects to your own computer \(localhost\)/);
      assert.equal(await page.locator('.redirect-host').textContent(), 'http://127.0.0.1:53682');
    });

    it('does not warn about localhost for a client that also has an https redirect URI', async (t) => {
      const { page } = await openPage(t, NO_JS);
      await signInToConsent(page, await authorizationRequest(PUBLIC_CLIENT.client_id, PUBLIC_REDIRECT));
      assert.equal(await page.locator('.warning').count(), 0);
      assert.doesNotMatch(await page.locator('main').innerText(), /localhost\)/);
    });

    it('says a client configured by the operator was registered by the administrator', async (t) => {
      const { page } = await openPage(t, NO_JS);
      await signInToConsent(page, await authorizationRequest());
      assert.equal(await page.locator('.identity').textContent(), 'Registered by the administrator of this server.');
    });

    it('says a dynamically registered client registered itself, and where it redirects', async (t) => {
      const redirectUri = 'http://127.0.0.1:47001/callback';
      const { body } = await register(server, { client_name: 'Self-registered MCP client', redirect_uris: [redirectUri, 'https://claude.ai/api/mcp/auth_callback'], token_endpoint_auth_method: 'none' });
      const { page } = await openPage(t, NO_JS, redirectUri);
      await signInToConsent(page, await authorizationRequest(body.client_id!, redirectUri));
      await screenshot(page, '/tmp/portcullis-consent-dynamic.png');
      assert.equal(await page.locator('.client-name').textContent(), 'Self-registered MCP client');
      assert.match((await page.locator('.identity').textContent()) ?? '', /registered itself with this server\. Its name is not verified\./);
      assert.equal(await page.locator('.redirect-host').textContent(), 'http://127.0.0.1:47001');
      assert.equal(await page.locator('.warning').count(), 0);
    });

    it('identifies a metadata-document client by the host that publishes its document', async (t) => {
      const redirectUri = 'http://127.0.0.1:47002/callback';
      const clientId = publishMetadataDocument('/pages/mixed.json', [redirectUri, 'https://chatgpt.com/connector_platform_oauth_redirect']);
      const { page } = await openPage(t, NO_JS, redirectUri);
      await signInToConsent(page, await authorizationRequest(clientId, redirectUri));
      assert.equal(await page.locator('.client-name').textContent(), 'Doc Client');
      assert.equal(await page.locator('.identity .client-host').textContent(), new URL(fixture.origin).host);
      assert.equal(await page.locator('.redirect-host').textContent(), 'http://127.0.0.1:47002');
      assert.equal(await page.locator('.warning').count(), 0, 'an https redirect URI: no localhost warning');
    });

    it('warns that anyone on this computer could claim a metadata-document identity whose redirects are all localhost', async (t) => {
      const redirectUri = 'http://localhost:47003/callback';
      const clientId = publishMetadataDocument('/pages/localhost-only.json', [redirectUri, 'http://127.0.0.1:47003/callback']);
      const { page } = await openPage(t, NO_JS, redirectUri);
      await signInToConsent(page, await authorizationRequest(clientId, redirectUri));
      await screenshot(page, '/tmp/portcullis-consent-cimd-localhost.png');
      const host = new URL(fixture.origin).host;
      assert.equal(await page.locator('.identity .client-host').textContent(), host);
      const warning = page.locator('.warning');
      assert.equal(await warning.count(), 1);
      const text = (await warning.textContent()) ?? '';
      assert.match(text, /only redirects to your own computer \(localhost\)/);
      assert.ok(text.includes(`Any program on your computer could claim to be ${host}.`), text);
      assert.equal(await page.locator('.redirect-host').textContent(), 'http://localhost:47003');
    });
  });

  // ---- hostile input ------------------------------------------------------------------------

  describe('hostile input', () => {
    async function assertNothingInjected(page: Page, label: string): Promise<void> {
      assert.equal(await page.locator('script').count(), 0, `${label}: no script element`);
      assert.equal(await page.locator('img').count(), 0, `${label}: no img element`);
      assert.equal(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned), undefined, `${label}: nothing ran`);
    }

    it('shows a client name full of markup as literal text on the login and consent pages', async (t) => {
      const { page } = await openPage(t, WITH_JS, LOOPBACK_ONLY_REDIRECT);
      const authorization = await authorizationRequest(hostileClientId, LOOPBACK_ONLY_REDIRECT);

      await openLoginPage(page, authorization);
      assert.equal(await page.locator('main strong').textContent(), HOSTILE_NAME);
      await assertNothingInjected(page, 'login page');

      const consent = await signInAndReachConsent(page);
      assert.equal(await page.locator('.client-name').textContent(), HOSTILE_NAME);
      await assertNothingInjected(page, 'consent page');
      assertHardenedInteractionPage(consent, 'consent page');
    });

    it('puts a hostile typed username back only as the value of the username field', async (t) => {
      const { page } = await openPage(t, WITH_JS);
      await openLoginPage(page, await authorizationRequest());
      const typed = '"><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
      const response = await submitLogin(page, typed, 'whatever-password');
      assert.equal(response.status(), 401);
      assert.equal(await page.locator('input[name=username]').inputValue(), typed);
      await assertNothingInjected(page, 'failed login page');
    });
  });

  // ---- layout -------------------------------------------------------------------------------

  describe('layout', () => {
    it('fits the card inside a 360px-wide phone screen', async (t) => {
      const { page } = await openPage(t, { ...NO_JS, viewport: { width: 360, height: 740 } });
      await openLoginPage(page, await authorizationRequest());
      const card = await page.locator('main.card').boundingBox();
      assert.ok(card);
      assert.ok(card.x >= 0, `the card starts ${-card.x}px left of the screen`);
      assert.ok(card.x + card.width <= 360, `the card ends ${card.x + card.width - 360}px right of the screen`);
    });
  });

  // ---- stale and forged forms ---------------------------------------------------------------

  describe('stale and forged forms', () => {
    function assertFriendlyErrorPage(body: string, label: string): void {
      assert.match(body, /Something went wrong/, `${label}: our error page`);
      assert.match(body, /invalid_request/, label);
      assert.doesNotMatch(body, /\bat \S+ \(|node_modules|\.ts:\d+|SessionNotFound|Error:/, `${label}: no stack trace or internals`);
    }

    it('refuses a login form whose csrf token was changed, with a 400 page and no sign-in', async (t) => {
      const { page } = await openPage(t, WITH_JS);
      await openLoginPage(page, await authorizationRequest());
      const loginPage = page.url();
      await page.evaluate(() => {
        const field = (globalThis as unknown as { document: { querySelector(selector: string): { value: string } } }).document.querySelector('input[name=csrf]');
        field.value = 'forged-token-forged-token-forged-token-forged';
      });
      const response = await submitLogin(page, user.username, user.password);

      assert.equal(response.status(), 400);
      assertHardenedInteractionPage(response, 'csrf error page');
      assertFriendlyErrorPage(await page.locator('main').innerText(), 'forged login');
      assert.match(await page.locator('main').innerText(), /form expired or was not sent from this page/);

      const again = await page.goto(loginPage);
      assert.equal(again?.status(), 200);
      assert.equal(await page.locator('h1').textContent(), 'Sign in', 'the interaction is still waiting for a sign-in');
    });

    it('refuses a consent decision with a forged csrf token and issues no code', async (t) => {
      const { page, context } = await openPage(t, NO_JS);
      await signInToConsent(page, await authorizationRequest());
      const action = new URL((await page.locator('form.decision').getAttribute('action'))!, page.url());
      const response = await context.request.post(action.href, { form: { csrf: 'forged', decision: 'approve' }, maxRedirects: 0 });

      assert.equal(response.status(), 400);
      assert.equal(response.headers().location, undefined, 'no redirect to the client');
      assertFriendlyErrorPage(await response.text(), 'forged consent');
    });

    it('shows a friendly 400 page for an interaction id the browser has no cookie for', async (t) => {
      const { page } = await openPage(t, NO_JS);
      const response = await page.goto(new URL(`/interaction/${randomBytes(32).toString('base64url')}`, server.issuer).href);

      assert.equal(response?.status(), 400);
      assertHardenedInteractionPage(response!, 'unknown interaction');
      const body = await page.locator('main').innerText();
      assertFriendlyErrorPage(body, 'unknown interaction');
      assert.match(body, /expired or was opened in another browser/);
    });

    it('shows the same friendly 400 page when a real interaction is opened in another browser', async (t) => {
      const first = await openPage(t, NO_JS);
      await openLoginPage(first.page, await authorizationRequest());
      const other = await openPage(t, NO_JS);
      const response = await other.page.goto(first.page.url());

      assert.equal(response?.status(), 400);
      assertFriendlyErrorPage(await other.page.locator('main').innerText(), 'interaction without its cookie');
      assert.equal(await other.page.locator('form').count(), 0, 'no login form for someone else’s interaction');
    });
  });
});
