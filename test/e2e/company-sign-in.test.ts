import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { allEvents } from '../../src/audit/index.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openTestPage } from '../support/browser.ts';
import { startCompanyIdp, type CompanyIdp } from '../support/company-idp.ts';
import { client, discover } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { makeTestCertificates, type TestCertificates } from '../support/tls.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';
const IDP_SECRET = 'company-idp-client-secret-0123456789';

describe('company sign-in through an upstream OpenID provider, in headless Chromium', () => {
  let certificates: TestCertificates;
  let idp: CompanyIdp;
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    certificates = makeTestCertificates();
    const port = await freePort();
    const issuer = `http://localhost:${port}`;
    idp = await startCompanyIdp(certificates, { client_id: 'portcullis', client_secret: IDP_SECRET, redirect_uris: [`${issuer}/federation/callback`] });
    const downPort = await freePort();
    const provider = (id: string, name: string, extra: object = {}) => ({
      id, name, issuer: idp.issuer, clientId: 'portcullis', clientSecret: 'env:COMPANY_IDP_SECRET',
      scopes: ['openid', 'email', 'profile', 'groups'], groupRoles: { 'mcp-admins': 'admin' }, ...extra,
    });
    const configFile = join(tmpdir(), `portcullis-federation-${process.pid}.json`);
    await writeFile(configFile, JSON.stringify({
      upstreamProviders: [
        provider('acme', 'Acme', { provision: true, allowedEmailDomains: ['acme.test'] }),
        provider('acme-invited', 'Acme (invited only)'),
        { id: 'down', name: 'Down Corp', issuer: `https://localhost:${downPort}`, clientId: 'portcullis' },
      ],
    }));
    server = await startTestServer({
      PORT: String(port), CONFIG_FILE: configFile, COMPANY_IDP_SECRET: IDP_SECRET, OUTBOUND_ALLOW_LOOPBACK: 'true', OUTBOUND_CA_FILE: certificates.caFile,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
    await idp?.close();
    certificates?.remove();
  });

  const openPage = async (t: TestContext) => (await openTestPage(t, browser, { javaScriptEnabled: false, ignoreHTTPSErrors: true }, [REDIRECT_URI])).page;

  async function authorization() {
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email profile notes:read', resource: NOTES_RESOURCE, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { config, url, verifier, state };
  }

  /** From the application's request to the company's sign-in form, submitted as `login`; returns the page reached after it. */
  async function signInAtCompany(page: Page, providerName: string, login: string) {
    await page.goto((await authorization()).url.href);
    await page.getByRole('button', { name: `Sign in with ${providerName}`, exact: true }).click();
    assert.ok(page.url().startsWith(idp.issuer), 'the browser went to the company provider');
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any password');
    const response = page.waitForResponse((candidate) => candidate.url().includes('/federation-return'));
    await page.locator('button[type=submit]').click();
    await page.waitForLoadState();
    return response;
  }

  async function failureEvents(reason: string) {
    return (await allEvents(server.config.auditDir, { type: 'login.failed' })).filter((record) => record.event.reason === reason);
  }

  it('offers "Sign in with" each provider beside the password form', async (t) => {
    const page = await openPage(t);
    await page.goto((await authorization()).url.href);
    assert.deepEqual((await page.locator('form.upstream button').allTextContents()).map((text) => text.trim()),
      ['Sign in with Acme', 'Sign in with Acme (invited only)', 'Sign in with Down Corp']);
    assert.equal(await page.locator('input[name=password]').count(), 1);
  });

  it('provisions a first-time company user with roles from groups, and the tokens name that account', async (t) => {
    idp.accounts.set('alice', { email: 'alice@acme.test', email_verified: true, name: 'Alice Example', groups: ['mcp-admins', 'staff'] });
    // A local account with the same address is never linked by email alone.
    const local = await server.users.add('alice@acme.test', 'correct horse battery staple');
    const page = await openPage(t);
    const request = await authorization();
    await page.goto(request.url.href);
    await page.getByRole('button', { name: 'Sign in with Acme', exact: true }).click();
    await page.locator('input[name=login]').fill('alice');
    await page.locator('input[name=password]').fill('any password');
    await page.locator('button[type=submit]').click();
    await page.waitForLoadState();
    assert.equal(await page.locator('h1').textContent(), 'Allow access?');
    const redirect = nextRedirectTo(page, REDIRECT_URI);
    await page.locator('button[name=decision][value=approve]').click();
    const callback = await redirect;
    const tokens = await client.authorizationCodeGrant(request.config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { resource: NOTES_RESOURCE });
    const { sub, email, email_verified: emailVerified, name } = tokens.claims()!;
    assert.deepEqual({ email, emailVerified, name }, { email: 'alice@acme.test', emailVerified: true, name: 'Alice Example' }, 'profile claims come from the company');
    assert.notEqual(sub, local.id);
    const user = (await server.users.list()).find((candidate) => candidate.id === sub)!;
    assert.deepEqual(user.roles, ['admin']);
    assert.equal(user.email, 'alice@acme.test');
    assert.equal(user.displayName, 'Alice Example');
    assert.equal(await server.users.authenticate(user.name, ''), undefined, 'a provisioned account has no password');

    // Groups are read again at every sign-in: leaving mcp-admins takes the role away, the account stays the same.
    idp.accounts.set('alice', { email: 'alice@acme.test', email_verified: true, name: 'Alice Example', groups: ['staff'] });
    const again = await openPage(t);
    await signInAtCompany(again, 'Acme', 'alice');
    assert.equal(await again.locator('h1').textContent(), 'Allow access?');
    assert.deepEqual((await server.users.findActiveById(sub))!.roles, []);
    assert.equal((await server.users.list()).filter((candidate) => candidate.email === 'alice@acme.test').length, 1);
  });

  it('refuses a company user without an account where the provider does not provision, and creates none', async (t) => {
    idp.accounts.set('bob', { email: 'bob@acme.test', email_verified: true, name: 'Bob' });
    const before = (await server.users.list()).length;
    const page = await openPage(t);
    const response = await signInAtCompany(page, 'Acme (invited only)', 'bob');
    assert.equal(response.status(), 403);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /no account here for your company identity/);
    assert.equal((await server.users.list()).length, before);
    assert.equal((await failureEvents('not_provisioned')).length, 1);
  });

  it('refuses an unverified email address and one outside the allowed domains, creating no account', async (t) => {
    idp.accounts.set('carol', { email: 'carol@acme.test', email_verified: false, name: 'Carol' });
    idp.accounts.set('dave', { email: 'dave@elsewhere.test', email_verified: true, name: 'Dave' });
    const before = (await server.users.list()).length;
    const page = await openPage(t);
    assert.equal((await signInAtCompany(page, 'Acme', 'carol')).status(), 403);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /email address is not verified/);
    const other = await openPage(t);
    assert.equal((await signInAtCompany(other, 'Acme', 'dave')).status(), 403);
    assert.match(await other.locator('[role=alert]').textContent() ?? '', /not in a domain allowed/);
    assert.equal((await server.users.list()).length, before);
    assert.equal((await failureEvents('email_unverified')).length, 1);
    assert.equal((await failureEvents('email_domain')).length, 1);
  });

  for (const [tamper, label] of [['wrong-audience', 'for another audience'], ['expired', 'expired'], ['foreign-signature', 'signed by another key']] as const) {
    it(`refuses an ID token ${label} and signs no one in`, async (t) => {
      idp.accounts.set('erin', { email: 'erin@acme.test', email_verified: true, name: 'Erin' });
      idp.tamper = tamper;
      t.after(() => { idp.tamper = undefined; });
      const before = (await server.users.list()).length;
      const page = await openPage(t);
      assert.equal((await signInAtCompany(page, 'Acme', 'erin')).status(), 403);
      assert.match(await page.locator('[role=alert]').textContent() ?? '', /could not be verified/);
      assert.equal((await server.users.list()).length, before);
    });
  }

  it('refuses a replayed callback, a replayed code and an unknown state, each on a page', async (t) => {
    idp.accounts.set('frank', { email: 'frank@acme.test', email_verified: true, name: 'Frank' });
    const page = await openPage(t);
    const callbackUrl = page.waitForRequest((request) => request.url().includes('/federation/callback'));
    await signInAtCompany(page, 'Acme', 'frank');
    const used = new URL((await callbackUrl).url());
    assert.equal(await page.locator('h1').textContent(), 'Allow access?');

    const replay = await page.goto(used.href);
    assert.equal(replay!.status(), 400);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /already used/);

    // A fresh sign-in whose callback carries the code already exchanged: the company provider refuses it.
    const second = await openPage(t);
    await second.goto((await authorization()).url.href);
    const upstreamRequest = second.waitForRequest((request) => request.url().startsWith(`${idp.issuer}/auth?`));
    await second.getByRole('button', { name: 'Sign in with Acme', exact: true }).click();
    const freshState = new URL((await upstreamRequest).url()).searchParams.get('state')!;
    const replayedCode = new URL(`${server.issuer}/federation/callback`);
    replayedCode.search = new URLSearchParams({ code: used.searchParams.get('code')!, state: freshState, iss: idp.issuer }).toString();
    const refused = second.waitForResponse((candidate) => candidate.url().includes('/federation-return'));
    await second.goto(replayedCode.href);
    assert.equal((await refused).status(), 403);
    assert.match(await second.locator('[role=alert]').textContent() ?? '', /refused to confirm/);

    const unknown = await page.goto(`${server.issuer}/federation/callback?state=made-up&code=whatever`);
    assert.equal(unknown!.status(), 400);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /not known here or has expired/);
    assert.equal((await failureEvents('state_used')).length, 1);
    assert.equal((await failureEvents('code_rejected')).length, 1);
    assert.equal((await failureEvents('state_unknown')).length, 1);
  });

  it('says so on a page when the company provider cannot be reached', async (t) => {
    const page = await openPage(t);
    await page.goto((await authorization()).url.href);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in with Down Corp' }).click(),
    ]);
    assert.equal(response.status(), 502);
    assert.match(await page.locator('[role=alert]').textContent() ?? '', /could not be reached/);
    assert.equal(await page.locator('a', { hasText: 'Back to the sign-in page' }).count(), 1);
    assert.equal((await failureEvents('upstream_unreachable')).length, 1);
  });
});
