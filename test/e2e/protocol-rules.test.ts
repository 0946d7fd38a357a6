import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { CONFIDENTIAL_CLIENT, NOTES_RESOURCE, OTHER_RESOURCE, PUBLIC_CLIENT, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';
import { rawExchange, rawRequest } from '../support/raw-http.ts';

const REDIRECT = 'http://127.0.0.1/callback';

describe('protocol rules of the authorization server', () => {
  let server: TestServer;
  let publicClient: client.Configuration;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer();
    publicClient = await discover(server, PUBLIC_CLIENT.client_id);
    user = await addUser(server);
  });
  after(() => server.destroy());

  function authorizeUrl(params: Record<string, string>): URL {
    const url = new URL('/authorize', server.issuer);
    const defaults = { client_id: PUBLIC_CLIENT.client_id, response_type: 'code', redirect_uri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE, state: 'st' };
    for (const [key, value] of Object.entries({ ...defaults, ...params })) if (value !== '') url.searchParams.set(key, value);
    return url;
  }

  async function authorizationError(params: Record<string, string>): Promise<URL> {
    return userAgentFor(server).authorize(authorizeUrl(params), user);
  }

  async function postToken(body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL('/token', server.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body),
    });
  }

  describe('discovery', () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      it(`${path} advertises S256 only, RFC 9207 iss, and code-only response types`, async () => {
        const response = await fetch(new URL(path, server.issuer), { headers: { origin: 'https://browser.example' } });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('access-control-allow-origin'), 'https://browser.example');
        const metadata = await response.json() as Record<string, unknown>;
        assert.equal(metadata.issuer, server.issuer);
        assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
        assert.equal(metadata.authorization_response_iss_parameter_supported, true);
        assert.deepEqual(metadata.response_types_supported, ['code']);
        assert.ok(!(metadata.grant_types_supported as string[]).includes('implicit'));
        assert.ok(!(metadata.grant_types_supported as string[]).includes('password'));
        assert.equal(metadata.jwks_uri, `${server.issuer}/jwks`);
      });
    }

    it('publishes endpoints under the issuer whatever Host or X-Forwarded-Host the request names', async () => {
      const port = Number(new URL(server.url).port);
      const hostHeaders: Record<string, string>[] = [{ Host: 'evil.example' }, { Host: '[::1' }, { Host: 'a b' }, { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' }];
      for (const headers of hostHeaders) {
        const exchange = await rawExchange(port, [rawRequest('GET', '/.well-known/openid-configuration', { ...headers, Connection: 'close' })]);
        assert.deepEqual(exchange.statuses, [200], JSON.stringify(headers));
        const metadata = JSON.parse(exchange.received.slice(exchange.received.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
        for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint']) {
          assert.ok(String(metadata[endpoint]).startsWith(`${server.issuer}/`), `${endpoint}: ${metadata[endpoint]}`);
        }
      }
    });

    it('publishes only public RS256 signing keys at /jwks', async () => {
      const { keys } = await (await fetch(new URL('/jwks', server.issuer))).json() as { keys: Array<Record<string, unknown>> };
      assert.equal(keys.length, 1);
      assert.equal(keys[0]!.kid, server.keys.signingKid);
      assert.equal(keys[0]!.alg, 'RS256');
      assert.equal(keys[0]!.use, 'sig');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(keys[0]![member], undefined);
    });
  });

  describe('PKCE', () => {
    it('rejects an authorization request without code_challenge with invalid_request', async () => {
      const callback = await authorizationError({ code_challenge: '' });
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(callback.searchParams.get('iss'), server.issuer);
    });

    it('rejects code_challenge_method=plain with invalid_request', async () => {
      const callback = await authorizationError({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
    });

    it('requires PKCE from confidential clients too', async () => {
      const callback = await authorizationError({ client_id: CONFIDENTIAL_CLIENT.client_id, redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0], code_challenge: '' });
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
    });

    it('refuses the code for a wrong code_verifier', async () => {
      const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
      const callback = await userAgentFor(server).authorize(authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }), user);
      await assert.rejects(
        client.authorizationCodeGrant(publicClient, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: 'st' }),
        (error: client.ResponseBodyError) => error.error === 'invalid_grant',
      );
    });
  });

  describe('redirect URIs', () => {
    it('refuses an unregistered redirect URI without redirecting to it', async () => {
      const url = authorizeUrl({ redirect_uri: 'https://evil.example/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
      assert.match(await response.text(), /redirect_uri/);
    });

    it('accepts a loopback redirect URI on any port (RFC 8252 §7.3)', async () => {
      const { callback } = await codeFlow(publicClient, server, user, { redirectUri: 'http://127.0.0.1:49152/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
      assert.equal(callback.origin, 'http://127.0.0.1:49152');
    });

    it('compares a loopback redirect URI as a string apart from its port (no dot-segment, case or percent-decoding)', async () => {
      for (const redirectUri of ['http://127.0.0.1:8765/x/../callback', 'http://127.0.0.1:8765/%63allback', 'http://127.0.0.1:8765/callback/', 'http://user@127.0.0.1:8765/callback']) {
        const url = authorizeUrl({ redirect_uri: redirectUri, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
        const response = await fetch(url, { redirect: 'manual' });
        assert.equal(response.status, 400, redirectUri);
        assert.equal(response.headers.get('location'), null, redirectUri);
      }
    });

    it('still requires the loopback path to match exactly', async () => {
      const url = authorizeUrl({ redirect_uri: 'http://127.0.0.1:49152/other', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 400);
    });
  });

  describe('authorization codes', () => {
    it('refuses a code that was already exchanged', async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = authorizeUrl({ code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const callback = await userAgentFor(server).authorize(url, user);
      const code = callback.searchParams.get('code')!;
      const exchange = () => postToken({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: PUBLIC_CLIENT.client_id });
      const first = await exchange();
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('cache-control'), 'no-store');
      const replay = await exchange();
      assert.equal(replay.status, 400);
      assert.equal((await replay.json() as { error: string }).error, 'invalid_grant');
    });
  });

  describe('resources and audiences', () => {
    it('answers invalid_target for an unregistered resource', async () => {
      const callback = await authorizationError({ resource: 'https://unknown.example/mcp', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      assert.equal(callback.searchParams.get('error'), 'invalid_target');
    });

    it('grants a scope only in tokens for the resource that defines it', async () => {
      const { tokens } = await codeFlow(publicClient, server, user, { redirectUri: REDIRECT, scope: 'notes:read api:read', resource: OTHER_RESOURCE });
      const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL('/jwks', server.issuer)), { audience: OTHER_RESOURCE });
      assert.equal(payload.scope, 'api:read');
    });
  });

  describe('client credentials', () => {
    it('issues a resource-bound JWT to a service client', async () => {
      const service = await discover(server, SERVICE_CLIENT.client_id, client.ClientSecretBasic(SERVICE_CLIENT.client_secret));
      const tokens = await client.clientCredentialsGrant(service, { scope: 'notes:read', resource: NOTES_RESOURCE });
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL('/jwks', server.issuer)), {
        issuer: server.issuer, audience: NOTES_RESOURCE, typ: 'at+jwt',
      });
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(payload.client_id, SERVICE_CLIENT.client_id);
      assert.equal(payload.scope, 'notes:read');
    });

    it('answers unauthorized_client to a confidential or public client not allowed the grant type', async () => {
      const confidential = await postToken({ grant_type: 'client_credentials', scope: 'notes:read', client_id: CONFIDENTIAL_CLIENT.client_id, client_secret: CONFIDENTIAL_CLIENT.client_secret });
      const publicOne = await postToken({ grant_type: 'client_credentials', scope: 'notes:read', client_id: PUBLIC_CLIENT.client_id });
      const service = await postToken({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}` });
      for (const response of [confidential, publicOne, service]) {
        assert.equal(response.status, 400);
        assert.equal((await response.json() as { error: string }).error, 'unauthorized_client');
      }
    });

    it('refuses a resource the service client asked for that is not registered', async () => {
      const service = await discover(server, SERVICE_CLIENT.client_id, client.ClientSecretBasic(SERVICE_CLIENT.client_secret));
      await assert.rejects(
        client.clientCredentialsGrant(service, { scope: 'notes:read', resource: 'https://unknown.example/' }),
        (error: client.ResponseBodyError) => error.error === 'invalid_target',
      );
    });
  });

  describe('a ChatGPT Action style confidential client', () => {
    for (const [method, auth] of [['client_secret_post', client.ClientSecretPost], ['client_secret_basic', client.ClientSecretBasic]] as const) {
      it(`authenticates with ${method}`, async () => {
        const config = await discover(server, CONFIDENTIAL_CLIENT.client_id, auth(CONFIDENTIAL_CLIENT.client_secret));
        const { tokens } = await codeFlow(config, server, user, { redirectUri: CONFIDENTIAL_CLIENT.redirect_uris[1], scope: 'notes:read', resource: NOTES_RESOURCE });
        assert.ok(tokens.access_token);
        assert.ok(tokens.refresh_token, 'plain OAuth clients get refresh tokens without offline_access');
      });
    }

    it('is refused with a wrong secret', async () => {
      const response = await postToken({ grant_type: 'refresh_token', refresh_token: 'x', client_id: CONFIDENTIAL_CLIENT.client_id, client_secret: 'wrong' });
      assert.equal(response.status, 401);
      assert.equal((await response.json() as { error: string }).error, 'invalid_client');
    });
  });

  describe('revocation and introspection', () => {
    it('lets a confidential client introspect and revoke its refresh token', async () => {
      const config = await discover(server, CONFIDENTIAL_CLIENT.client_id, client.ClientSecretBasic(CONFIDENTIAL_CLIENT.client_secret));
      const { tokens } = await codeFlow(config, server, user, { redirectUri: CONFIDENTIAL_CLIENT.redirect_uris[0], scope: 'notes:read', resource: NOTES_RESOURCE });
      const active = await client.tokenIntrospection(config, tokens.refresh_token!);
      assert.equal(active.active, true);
      assert.equal(active.client_id, CONFIDENTIAL_CLIENT.client_id);
      await client.tokenRevocation(config, tokens.refresh_token!);
      assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, false);
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    });

    it('tells a public client nothing, even about its own token', async () => {
      const { tokens } = await codeFlow(publicClient, server, user, { redirectUri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
      const response = await fetch(new URL('/introspect', server.issuer), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.refresh_token!, client_id: PUBLIC_CLIENT.client_id }),
      });
      assert.deepEqual(await response.json(), { active: false });
    });
  });

  describe('browser clients and headers', () => {
    it('answers a CORS preflight on the token endpoint', async () => {
      const response = await fetch(new URL('/token', server.issuer), {
        method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:6274', 'access-control-request-method': 'POST' },
      });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), 'http://127.0.0.1:6274');
      assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
    });

    it('exposes WWW-Authenticate to browser clients of the userinfo endpoint', async () => {
      const response = await fetch(new URL('/userinfo', server.issuer), { headers: { origin: 'http://127.0.0.1:6274' } });
      assert.equal(response.status, 401);
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/i);
    });

    it('does not answer CORS on the interaction pages', async () => {
      const response = await fetch(new URL('/interaction/some-uid', server.issuer), { headers: { origin: 'https://evil.example' } });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    });

    it('sends security headers everywhere and no HSTS over plain http', async () => {
      const response = await fetch(new URL('/jwks', server.issuer));
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(response.headers.get('strict-transport-security'), null);
    });
  });

  describe('health', () => {
    it('reports liveness at /healthz and readiness with the store engine at /readyz', async () => {
      assert.deepEqual(await (await fetch(new URL('/healthz', server.issuer))).json(), { status: 'ok' });
      assert.deepEqual(await (await fetch(new URL('/readyz', server.issuer))).json(), { status: 'ready', store: 'embedded' });
    });
  });
});
