import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { CONFIDENTIAL_CLIENT, NOTES_RESOURCE, OTHER_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';
import { walkAuthorization } from '../support/elevation.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const REDIRECT = 'http://127.0.0.1/callback';

interface Refusal {
  name: string;
  body: (refreshToken: string) => Record<string, string | string[]>;
  headers?: Record<string, string>;
  status: number;
  error: string;
}

/** Every way a refresh request with a live refresh token can be refused. */
const REFRESH_REFUSALS: Refusal[] = [
  { name: 'a registered resource the grant never had', body: (rt) => ({ refresh_token: rt, resource: OTHER_RESOURCE }), status: 400, error: 'invalid_target' },
  { name: 'an unregistered resource', body: (rt) => ({ refresh_token: rt, resource: 'https://unregistered.example.test/' }), status: 400, error: 'invalid_target' },
  { name: 'two resources', body: (rt) => ({ refresh_token: rt, resource: [NOTES_RESOURCE, OTHER_RESOURCE] }), status: 400, error: 'invalid_target' },
  { name: 'a wider scope than granted', body: (rt) => ({ refresh_token: rt, scope: 'notes:read notes:write' }), status: 400, error: 'invalid_scope' },
  { name: 'another client presenting it', body: (rt) => ({ refresh_token: rt, client_id: CONFIDENTIAL_CLIENT.client_id, client_secret: CONFIDENTIAL_CLIENT.client_secret }), status: 400, error: 'invalid_grant' },
  { name: 'an unknown client', body: (rt) => ({ refresh_token: rt, client_id: 'no-such-client' }), status: 401, error: 'invalid_client' },
  { name: 'a malformed DPoP proof', body: (rt) => ({ refresh_token: rt }), headers: { DPoP: 'not-a-proof' }, status: 400, error: 'invalid_dpop_proof' },
];

for (const engine of ['embedded', 'redis'] as const) {
  describe(`refused token requests change nothing (${engine} store)`, () => {
    let server: TestServer;
    let publicClient: client.Configuration;
    let user: Awaited<ReturnType<typeof addUser>>;
    const prefix = uniqueRedisPrefix('refusals');

    before(async () => {
      server = await startTestServer(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {});
      publicClient = await discover(server, PUBLIC_CLIENT.client_id);
      user = await addUser(server);
    });
    after(async () => {
      await server.destroy();
      if (engine === 'redis') await deleteKeysUnder(prefix);
    });

    async function postToken(fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) body.append(name, one);
      return fetch(new URL('/token', server.issuer), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    }

    const refresh = (refreshToken: string) => postToken({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT.client_id, refresh_token: refreshToken });

    it('keeps the refresh token and its grant after each refusal, so the retry with the right parameters succeeds', async (t) => {
      const { tokens } = await codeFlow(publicClient, server, user, { redirectUri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
      let refreshToken = tokens.refresh_token!;
      for (const refusal of REFRESH_REFUSALS) {
        await t.test(refusal.name, async () => {
          const refused = await postToken({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT.client_id, ...refusal.body(refreshToken) }, refusal.headers);
          assert.equal(refused.status, refusal.status);
          assert.equal((await refused.json() as { error: string }).error, refusal.error);

          const retry = await refresh(refreshToken);
          assert.equal(retry.status, 200, 'the retry with the right parameters succeeds');
          const renewed = await retry.json() as { access_token: string; refresh_token: string };
          assert.equal(decodeJwt(renewed.access_token).aud, NOTES_RESOURCE);
          refreshToken = renewed.refresh_token;
        });
      }
      assert.equal((await refresh(refreshToken)).status, 200, 'the grant is intact');
    });

    it('keeps a DPoP-bound refresh token after a proof from another key, or none', async () => {
      const { url, verifier, state } = await authorizationRequest(publicClient, { redirectUri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
      const callback = await userAgentFor(server).authorize(url, user);
      const key = await client.randomDPoPKeyPair();
      const bound = client.getDPoPHandle(publicClient, key);
      const tokens = await client.authorizationCodeGrant(publicClient, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: NOTES_RESOURCE }, { DPoP: bound });
      assert.equal(tokens.token_type.toLowerCase(), 'dpop');
      const otherKey = client.getDPoPHandle(publicClient, await client.randomDPoPKeyPair());
      await assert.rejects(client.refreshTokenGrant(publicClient, tokens.refresh_token!, undefined, { DPoP: otherKey }), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
      const unbound = await refresh(tokens.refresh_token!);
      assert.equal((await unbound.json() as { error: string }).error, 'invalid_grant');
      const retried = await client.refreshTokenGrant(publicClient, tokens.refresh_token!, undefined, { DPoP: bound });
      assert.ok(retried.access_token, 'the holder of the key still refreshes');
    });

    it('keeps the authorization code after refusing a resource the authorization never named', async () => {
      const { url, verifier } = await authorizationRequest(publicClient, { redirectUri: REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
      const callback = await userAgentFor(server).authorize(url, user);
      const exchange = (resource: string) => postToken({
        grant_type: 'authorization_code', client_id: PUBLIC_CLIENT.client_id, code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT, resource,
      });
      const refused = await exchange(OTHER_RESOURCE);
      assert.equal(refused.status, 400);
      assert.equal((await refused.json() as { error: string }).error, 'invalid_target');
      const retry = await exchange(NOTES_RESOURCE);
      assert.equal(retry.status, 200);
      const tokens = await retry.json() as { access_token: string; refresh_token: string };
      assert.equal(decodeJwt(tokens.access_token).aud, NOTES_RESOURCE);
      assert.equal((await refresh(tokens.refresh_token)).status, 200);
      const replay = await exchange(NOTES_RESOURCE);
      assert.equal((await replay.json() as { error: string }).error, 'invalid_grant', 'once exchanged, the code is spent');
    });
  });
}

describe('a token request refused after the elevation hook ran', () => {
  const ELEVATED = 'https://elevated.example.test/';
  let server: TestServer;
  let refuseNextCodeExchange = false;

  before(async () => {
    server = await startTestServer({}, undefined, [
      { uri: ELEVATED, name: 'Elevated ops', scopes: ['ops:read', 'ops:admin'], default: false,
        elevation: [{ scopes: ['ops:admin'], maxDurationSeconds: 900, reasonRequired: true, approval: 'none', breakGlass: false, approvalTimeoutSeconds: 900 }] },
    ]);
    // Stands for any refusal that comes once the grant has run (oidc-provider's own come earlier today).
    server.provider.on('grant.success', (ctx) => {
      if (!refuseNextCodeExchange) return;
      refuseNextCodeExchange = false;
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'refused after the grant ran' };
    });
  });
  after(async () => server?.destroy());

  it('puts the code and the grant back exactly as they were, elevated scope included, so the retry gets the elevated token', async () => {
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const user = await addUser(server);
    const agent = userAgentFor(server);
    const everyday = await authorizationRequest(config, { redirectUri: REDIRECT, scope: 'ops:read', resource: ELEVATED });
    await client.authorizationCodeGrant(config, await agent.authorize(everyday.url, user), { pkceCodeVerifier: everyday.verifier, expectedState: everyday.state }, { resource: ELEVATED });

    const { url, verifier } = await authorizationRequest(config, { redirectUri: REDIRECT, scope: 'ops:read ops:admin', resource: ELEVATED });
    const end = await walkAuthorization(agent, url, user, { reason: 'restore the backup after the incident', minutes: 10 });
    assert.equal(end.kind, 'left');
    const exchange = () => fetch(new URL('/token', server.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', client_id: PUBLIC_CLIENT.client_id, code: end.kind === 'left' ? end.url.searchParams.get('code')! : '',
        code_verifier: verifier, redirect_uri: REDIRECT, resource: ELEVATED,
      }),
    });

    refuseNextCodeExchange = true;
    const refused = await exchange();
    assert.equal(refused.status, 400);
    const retry = await exchange();
    assert.equal(retry.status, 200, await retry.clone().text());
    const claims = decodeJwt((await retry.json() as { access_token: string }).access_token);
    assert.equal(claims.scope, 'ops:read ops:admin', 'the code kept its elevated scope, and the grant still covers it');
    assert.ok(claims.elevation, 'the token carries its elevation');
  });
});
