import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';
import { Redis } from 'ioredis';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const RULED_RESOURCE = 'https://ruled.example.test/mcp';
const REDIRECT_URI = 'http://127.0.0.1/callback';
const RULED = {
  uri: RULED_RESOURCE, name: 'Ruled Notes', scopes: ['ruled:read', 'ruled:admin'], default: false,
  scopeRoles: { 'ruled:admin': ['admin', 'approver'] }, rolesInToken: true,
};

/** An access token's claims, once its signature checks out against the server's JWKS for `audience`. */
async function claimsOf(server: TestServer, accessToken: string, audience: string): Promise<JWTPayload> {
  return (await jwtVerify(accessToken, createRemoteJWKSet(new URL('/jwks', server.issuer)), { audience })).payload;
}

const engines = [
  { name: 'embedded store', env: () => ({}) },
  { name: 'Redis store', env: (prefix: string) => ({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }) },
];

for (const engine of engines) {
  describe(`roles decide which scopes a user may grant (${engine.name})`, () => {
    const prefix = uniqueRedisPrefix('test:scope-roles');
    let server: TestServer;
    let config: client.Configuration;

    before(async () => {
      server = await startTestServer(engine.env(prefix), undefined, [RULED]);
      config = await discover(server, PUBLIC_CLIENT.client_id);
    });
    after(async () => {
      await server?.destroy();
      await deleteKeysUnder(prefix);
    });

    it('gives a user without the role only the scopes anyone may grant, and names no roles', async () => {
      const user = await addUser(server, 'plain');
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'ruled:read ruled:admin', resource: RULED_RESOURCE });
      const claims = await claimsOf(server, tokens.access_token, RULED_RESOURCE);
      assert.equal(claims.scope, 'ruled:read');
      assert.deepEqual(claims.roles, []);
    });

    it('gives a user with one of the listed roles the ruled scope, and puts the roles in the token', async () => {
      const user = await addUser(server, 'approver');
      await server.users.changeRoles(user.username, { add: ['approver'] });
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'ruled:read ruled:admin', resource: RULED_RESOURCE });
      const claims = await claimsOf(server, tokens.access_token, RULED_RESOURCE);
      assert.equal(claims.scope, 'ruled:read ruled:admin');
      assert.deepEqual(claims.roles, ['approver']);
    });

    it('leaves roles out of tokens for a resource that does not ask for them', async () => {
      const user = await addUser(server, 'admin');
      await server.users.changeRoles(user.username, { add: ['admin'] });
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
      assert.equal((await claimsOf(server, tokens.access_token, NOTES_RESOURCE)).roles, undefined);
    });

    it('sends the user back with access_denied and a description when nothing asked for may be granted', async () => {
      const user = await addUser(server, 'denied');
      const { url } = await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'ruled:admin', resource: RULED_RESOURCE });
      const callback = await userAgentFor(server).authorize(url, user);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.match(callback.searchParams.get('error_description') ?? '', /may not grant ruled:admin for Ruled Notes/);
      assert.equal(callback.searchParams.get('code'), null);
    });

    it('drops a ruled scope from refreshed tokens once the user loses the role', async () => {
      const user = await addUser(server, 'demoted');
      await server.users.changeRoles(user.username, { add: ['admin'] });
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'ruled:read ruled:admin', resource: RULED_RESOURCE });
      assert.equal((await claimsOf(server, tokens.access_token, RULED_RESOURCE)).scope, 'ruled:read ruled:admin');
      await server.users.changeRoles(user.username, { remove: ['admin'] });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: RULED_RESOURCE });
      const claims = await claimsOf(server, refreshed.access_token, RULED_RESOURCE);
      assert.equal(claims.scope, 'ruled:read');
      assert.deepEqual(claims.roles, []);
    });

    it('refuses to refresh with invalid_grant when the user may no longer grant any scope of the grant', async () => {
      const user = await addUser(server, 'revoked');
      await server.users.changeRoles(user.username, { add: ['admin'] });
      const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'ruled:admin', resource: RULED_RESOURCE });
      await server.users.changeRoles(user.username, { remove: ['admin'] });
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!, { resource: RULED_RESOURCE }), (error: unknown) => {
        assert.ok(error instanceof client.ResponseBodyError);
        assert.equal(error.error, 'invalid_grant');
        return true;
      });
    });
  });
}

describe('account lookups on Redis', () => {
  const prefix = uniqueRedisPrefix('test:scope-roles-lookups');
  let server: TestServer;
  let config: client.Configuration;
  const redis = new Redis(TEST_REDIS_URL);
  let monitor: Awaited<ReturnType<Redis['monitor']>> | undefined;

  before(async () => {
    server = await startTestServer({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }, undefined, [RULED]);
    config = await discover(server, PUBLIC_CLIENT.client_id);
  });
  after(async () => {
    monitor?.disconnect();
    redis.disconnect();
    await server?.destroy();
    await deleteKeysUnder(prefix);
  });

  it('reads the account once per refresh, though its scopes and its roles claim both need it', async () => {
    const user = await addUser(server, 'looked-up');
    await server.users.changeRoles(user.username, { add: ['admin'] });
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'ruled:read ruled:admin', resource: RULED_RESOURCE });
    monitor = await redis.monitor();
    const lookups: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const sent = source !== 'lua'; // not a command a script ran
      if (sent && args.some((arg) => arg.startsWith(prefix)) && args.some((arg) => arg.includes(`user-id:${user.id}`))) lookups.push(args[0]!);
    });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: RULED_RESOURCE });
    await redis.ping(); // answered after the refresh's commands, so MONITOR has passed them all on

    assert.deepEqual((await claimsOf(server, refreshed.access_token, RULED_RESOURCE)).roles, ['admin']);
    assert.equal(lookups.length, 1, `lookups of the account: ${lookups.join(', ')}`);
  });
});
