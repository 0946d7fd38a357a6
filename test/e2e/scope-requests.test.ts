import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { demoNotesResource } from '../../src/config/index.ts';
import { OTHER_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { authorizeUrl, pkce, redeemCode } from '../support/registration.ts';
import { UserAgent } from '../support/user-agent.ts';

const NOTES = 'https://notes.example.test/mcp';
const REDIRECT = 'http://127.0.0.1/callback';

describe('which scopes an authorization request and a refresh get', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer({}, undefined, [demoNotesResource(NOTES)]);
    user = await addUser(server);
  });
  after(() => server?.destroy());

  function request(params: Record<string, string>, challenge: string): URL {
    return authorizeUrl(server, { client_id: PUBLIC_CLIENT.client_id, redirect_uri: REDIRECT, code_challenge: challenge, state: 'st', ...params });
  }

  /** Signs in through our pages with `browser` and redeems the code. */
  async function signIn(browser: UserAgent, params: Record<string, string>) {
    const { verifier, challenge } = pkce();
    const callback = await browser.authorize(request(params, challenge), user);
    const code = callback.searchParams.get('code');
    assert.ok(code, `a code, got ${callback}`);
    const token = await redeemCode(server, { clientId: PUBLIC_CLIENT.client_id, code, verifier, redirectUri: REDIRECT, resource: params.resource ?? NOTES });
    assert.equal(token.status, 200);
    return token.body as { access_token: string; refresh_token?: string; scope: string };
  }

  async function refresh(refreshToken: string, scope?: string) {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT.client_id, ...(scope ? { scope } : {}) }),
    });
    return { status: response.status, body: await response.json() as Record<string, string> };
  }

  it('gives a request without scope the resource\'s default scopes, shown on the consent page', async () => {
    const browser = new UserAgent(server.issuer);
    const tokens = await signIn(browser, { resource: NOTES });
    assert.equal(tokens.scope, 'notes:read');
    const consent = browser.pages.at(-1)!;
    assert.match(consent, /See your notes/);
    assert.match(consent, new RegExp(`Signed in as <strong>${user.username}</strong>`));
  });

  it('answers a request without scope for a resource without defaults with invalid_scope before anyone signs in', async () => {
    const browser = new UserAgent(server.issuer);
    const { response, url } = await browser.follow(await browser.get(request({ resource: OTHER_RESOURCE }, pkce().challenge)));
    assert.equal(response.status, 303);
    assert.equal(`${url.origin}${url.pathname}`, REDIRECT, 'straight back to the client, no sign-in page');
    assert.equal(url.searchParams.get('error'), 'invalid_scope');
    assert.match(url.searchParams.get('error_description') ?? '', /no default scopes; ask for some of: api:read/);
    assert.equal(url.searchParams.get('iss'), server.issuer);
  });

  it('asks consent only for scopes a request adds to a grant, names the ones already allowed, and issues their union', async () => {
    const browser = new UserAgent(server.issuer);
    const first = await signIn(browser, { resource: NOTES, scope: 'notes:read' });
    assert.equal(first.scope, 'notes:read');
    const wider = await signIn(browser, { resource: NOTES, scope: 'notes:write' });
    assert.equal(wider.scope, 'notes:read notes:write', 'the new token keeps what was granted before');
    const consent = browser.pages.at(-1)!;
    assert.match(consent, /<li><span class="scope-description">Create and change your notes<\/span>/);
    assert.match(consent, /You already allowed it to: See your notes\./);
    assert.doesNotMatch(consent, /<li><span class="scope-description">See your notes/);
  });

  it('refuses a refresh that asks for more scope with invalid_scope and leaves the refresh token working', async () => {
    const tokens = await signIn(new UserAgent(server.issuer), { resource: NOTES, scope: 'notes:read' });
    assert.ok(tokens.refresh_token);
    const wider = await refresh(tokens.refresh_token, 'notes:read notes:write');
    assert.equal(wider.status, 400);
    assert.equal(wider.body.error, 'invalid_scope');
    const same = await refresh(tokens.refresh_token);
    assert.equal(same.status, 200, 'the refused refresh consumed nothing');
    assert.equal(same.body.scope, 'notes:read');
  });

  it('lists offline_access among the scopes discovery offers', async () => {
    const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json() as { scopes_supported: string[] };
    assert.ok(metadata.scopes_supported.includes('offline_access'));
  });
});
