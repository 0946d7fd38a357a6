import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, userAgentFor } from '../support/oauth-client.ts';
import { authorizeUrl, pkce, register } from '../support/registration.ts';
import type { UserAgent } from '../support/user-agent.ts';

const REDIRECT = 'http://127.0.0.1:40123/callback';

describe('RFC 9207: iss in every authorization response, errors included', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof addUser>>;
  let clientId: string;

  before(async () => {
    server = await startTestServer();
    user = await addUser(server);
    // Its `scope` limits it to openid, so asking for more is invalid_scope.
    const { body } = await register(server, { client_name: 'iss test', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope: 'openid' });
    clientId = body.client_id!;
  });
  after(() => server.destroy());

  function request(params: Record<string, string> = {}): URL {
    return authorizeUrl(server, { client_id: clientId, redirect_uri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE, code_challenge: pkce().challenge, state: 'st-9207', ...params });
  }

  /** Sends the request and returns where the server redirects the browser, without signing in. */
  async function redirectOf(agent: UserAgent, url: URL): Promise<URL> {
    const { response, url: landed } = await agent.follow(await agent.get(url));
    assert.ok(response.status >= 300 && response.status < 400, `a redirect back to the client, got ${response.status}`);
    return landed;
  }

  /** Checks the error response, in the query or (for a response type answered in the fragment) the fragment. */
  function assertErrorResponse(callback: URL, error: string, where: 'query' | 'fragment' = 'query'): void {
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT);
    const params = where === 'query' ? callback.searchParams : new URLSearchParams(callback.hash.slice(1));
    assert.equal(params.get('error'), error);
    assert.equal(params.get('iss'), server.issuer, `iss with ${error}`);
    assert.equal(params.get('state'), 'st-9207');
    assert.equal(params.get('code'), null);
  }

  it('on success', async () => {
    const callback = await userAgentFor(server).authorize(request(), user);
    assert.ok(callback.searchParams.get('code'));
    assert.equal(callback.searchParams.get('iss'), server.issuer);
  });

  it('with access_denied when the user denies', async () => {
    assertErrorResponse(await userAgentFor(server).authorize(request(), user, 'deny'), 'access_denied');
  });

  it('with login_required for prompt=none without a session', async () => {
    assertErrorResponse(await redirectOf(userAgentFor(server), request({ prompt: 'none' })), 'login_required');
  });

  it('with consent_required for prompt=none when a signed-in user has not consented to the scope', async () => {
    const agent = userAgentFor(server);
    await agent.authorize(request(), user);
    assertErrorResponse(await redirectOf(agent, request({ prompt: 'none', scope: 'notes:write' })), 'consent_required');
  });

  it('with invalid_scope for a scope outside the client\'s registered scope', async () => {
    assertErrorResponse(await redirectOf(userAgentFor(server), request({ scope: 'openid profile' })), 'invalid_scope');
  });

  it('with invalid_target for an unregistered resource', async () => {
    assertErrorResponse(await redirectOf(userAgentFor(server), request({ resource: 'https://unknown.example/' })), 'invalid_target');
  });

  it('with invalid_request when PKCE is missing', async () => {
    assertErrorResponse(await redirectOf(userAgentFor(server), request({ code_challenge: '' })), 'invalid_request');
  });

  it('with unsupported_response_type for an implicit request (in the fragment, where that response type answers)', async () => {
    assertErrorResponse(await redirectOf(userAgentFor(server), request({ response_type: 'token' })), 'unsupported_response_type', 'fragment');
  });
});
