import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { OTHER_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';

const OPS = 'https://ops.example.test/';
const REDIRECT = 'http://127.0.0.1/callback';

describe('a resource server asking for a step-up makes the next refresh start a new authorization', () => {
  let server: TestServer;
  let config: client.Configuration;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer({}, undefined, [
      { uri: OPS, name: 'Ops', scopes: ['ops:read', 'ops:admin'], default: false,
        elevation: [{ scopes: ['ops:admin'], maxDurationSeconds: 900, reasonRequired: true, approval: 'none', breakGlass: false, approvalTimeoutSeconds: 900 }] },
    ]);
    config = await discover(server, PUBLIC_CLIENT.client_id);
    user = await addUser(server);
  });
  after(async () => server?.destroy());

  const signIn = async (resource = OPS, scope = 'ops:read') => (await codeFlow(config, server, user, { redirectUri: REDIRECT, scope, resource })).tokens;

  function askForStepUp(accessToken: string | undefined, body: string | undefined = 'scope=ops:read ops:admin', contentType = 'application/x-www-form-urlencoded'): Promise<Response> {
    return fetch(new URL('/elevations/step-up', server.issuer), {
      method: 'POST', body,
      headers: { 'content-type': contentType, ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    });
  }

  async function refresh(refreshToken: string): Promise<{ status: number; body: Record<string, string> }> {
    const response = await fetch(new URL('/token', server.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT.client_id, refresh_token: refreshToken }),
    });
    return { status: response.status, body: await response.json() as Record<string, string> };
  }

  it('answers the next refresh with invalid_grant once, keeping the refresh token and its grant', async () => {
    const tokens = await signIn();
    assert.equal(typeof decodeJwt(tokens.access_token).grant_ref, 'string', 'tokens for a resource with elevated scopes name their grant (as a hash)');
    assert.equal((await askForStepUp(tokens.access_token)).status, 204);

    const refused = await refresh(tokens.refresh_token!);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description!, /step-up required/);

    const again = await refresh(tokens.refresh_token!);
    assert.equal(again.status, 200, 'the refused refresh consumed nothing, and it is refused only once');
    assert.equal(decodeJwt(again.body.access_token!).scope, 'ops:read');
    assert.equal((await refresh(again.body.refresh_token!)).status, 200, 'the grant is intact');
  });

  it('lets the refresh token of a new authorization of the same grant through: the user has been asked', async () => {
    const agent = userAgentFor(server);
    const authorize = async () => {
      const { url, verifier, state } = await authorizationRequest(config, { redirectUri: REDIRECT, scope: 'ops:read', resource: OPS });
      return client.authorizationCodeGrant(config, await agent.authorize(url, user), { pkceCodeVerifier: verifier, expectedState: state }, { resource: OPS });
    };
    const first = await authorize();
    assert.equal((await askForStepUp(first.access_token)).status, 204);
    const second = await authorize();
    assert.equal(decodeJwt(second.access_token).grant_ref, decodeJwt(first.access_token).grant_ref, 'the same grant');
    assert.equal((await refresh(second.refresh_token!)).status, 200);
  });

  it('refuses reports without a token it issued, for resources without elevated scopes, or naming none, and then changes nothing', async () => {
    const tokens = await signIn();
    const other = await signIn(OTHER_RESOURCE, 'api:read');
    assert.equal(decodeJwt(other.access_token).grant_ref, undefined);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...decodeJwt(tokens.access_token) }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'forged' }).sign(privateKey);

    const refusals: Array<[string, Response, number]> = [
      ['no token', await askForStepUp(undefined), 401],
      ['a token signed by someone else', await askForStepUp(forged), 401],
      ['a token for a resource without elevated scopes', await askForStepUp(other.access_token), 400],
      ['no elevated scope named', await askForStepUp(tokens.access_token, 'scope=ops:read'), 400],
      ['a body that is no form', await askForStepUp(tokens.access_token, '{"scope":"ops:admin"}', 'application/json'), 415],
    ];
    for (const [name, response, status] of refusals) {
      assert.equal(response.status, status, name);
      assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
      const body = await response.text();
      assert.doesNotMatch(body, /eyJ|\bat [^ ]+\(/, `${name}: no token or stack trace in the answer`);
    }
    assert.equal((await refresh(tokens.refresh_token!)).status, 200, 'no refused report touched the grant');
  });
});
