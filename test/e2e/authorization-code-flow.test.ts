import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';

describe('authorization code flow with PKCE, driven by openid-client', () => {
  let server: TestServer;
  let config: client.Configuration;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer();
    config = await discover(server, PUBLIC_CLIENT.client_id);
    user = await addUser(server);
  });
  after(() => server.destroy());

  it('issues an RS256 at+jwt access token whose audience is exactly the requested resource', async () => {
    const { tokens, callback } = await codeFlow(config, server, user, {
      redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read notes:write offline_access', resource: NOTES_RESOURCE, extra: { prompt: 'consent' },
    });
    assert.equal(callback.searchParams.get('iss'), server.issuer, 'RFC 9207 iss in the authorization response');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const header = decodeProtectedHeader(tokens.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, server.keys.signingKid);

    const jwks = createRemoteJWKSet(new URL('/jwks', server.issuer));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: server.issuer, audience: NOTES_RESOURCE, typ: 'at+jwt', algorithms: ['RS256'],
    });
    assert.equal(payload.aud, NOTES_RESOURCE);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.client_id, PUBLIC_CLIENT.client_id);
    assert.deepEqual(String(payload.scope).split(' ').sort(), ['notes:read', 'notes:write']);
    assert.ok(payload.jti && payload.iat && payload.exp);
    assert.ok(tokens.refresh_token, 'offline_access yields a refresh token');
  });

  it('rotates the refresh token on every use and revokes the grant when a rotated one is reused', async () => {
    const { tokens } = await codeFlow(config, server, user, {
      redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read offline_access', resource: NOTES_RESOURCE,
    });
    const first = tokens.refresh_token!;
    const refreshed = await client.refreshTokenGrant(config, first, { resource: NOTES_RESOURCE });
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, first, 'a new refresh token replaces the used one');
    assert.ok(refreshed.access_token);

    await assert.rejects(client.refreshTokenGrant(config, first), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    await assert.rejects(
      client.refreshTokenGrant(config, refreshed.refresh_token!),
      (error: client.ResponseBodyError) => error.error === 'invalid_grant',
      'reuse of a rotated token revoked the whole grant, so its successor is dead too',
    );
  });

  it('honours the resource named at the authorization request when the token request names none', async () => {
    const { url, verifier, state } = await authorizationRequest(config, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
    const callback = await userAgentFor(server).authorize(url, user);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL('/jwks', server.issuer)), { audience: NOTES_RESOURCE });
    assert.equal(payload.aud, NOTES_RESOURCE);
  });

  it('sends the user back with access_denied when they press Deny', async () => {
    const { url } = await authorizationRequest(config, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:admin', resource: NOTES_RESOURCE });
    const callback = await userAgentFor(server).authorize(url, user, 'deny');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('iss'), server.issuer);
    assert.equal(callback.searchParams.get('code'), null);
  });
});
