import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserDirectory } from '../../src/authorization-server/accounts/users.ts';
import { openRedisStore } from '../../src/storage/index.ts';
import { NOTES_RESOURCE, PUBLIC_CLIENT, TEST_PASSWORD } from '../support/authorization-server.ts';
import { authorizationRequest, client } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { sharedDeploymentEnv, startProject, type RunningProject } from '../support/processes.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';
import { UserAgent } from '../support/user-agent.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';
const FLOW = { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE };

/** openid-client aimed at one instance: the shared issuer's metadata with that instance's token endpoint. */
function configurationAt(discovered: client.Configuration, instanceUrl: string): client.Configuration {
  const { supportsPKCE: _helper, ...metadata } = discovered.serverMetadata();
  const config = new client.Configuration({ ...metadata, token_endpoint: `${instanceUrl}/token` }, PUBLIC_CLIENT.client_id, undefined, client.None());
  client.allowInsecureRequests(config);
  return config;
}

async function assertInvalidGrant(refresh: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(refresh, (error: unknown) => {
    assert.ok(error instanceof client.ResponseBodyError, `${message}: ${error}`);
    assert.equal(error.error, 'invalid_grant', message);
    return true;
  });
}

describe('two instances sharing Redis', () => {
  const prefix = uniqueRedisPrefix('test:multi');
  const instances: RunningProject[] = [];
  let root: string;
  let urlA: string;
  let urlB: string;
  const user = { username: `multi-${process.pid}`, password: TEST_PASSWORD };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-multi-'));
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify({
      clients: [PUBLIC_CLIENT],
      resources: [{ uri: NOTES_RESOURCE, name: 'Notes', scopes: ['notes:read'] }],
    }));
    const [portA, portB] = [await freePort(), await freePort()];
    urlA = `http://localhost:${portA}`;
    urlB = `http://localhost:${portB}`;
    const shared = {
      ...sharedDeploymentEnv({ issuer: urlA, redisUrl: TEST_REDIS_URL, prefix, configFile, root }),
    };
    // Each instance has its own data and keys directories: everything they share is in Redis.
    for (const [name, port] of [['a', portA], ['b', portB]] as const) {
      instances.push(await startProject({ ...shared, PORT: String(port), DATA_DIR: join(root, name, 'data'), KEYS_DIR: join(root, name, 'keys') }));
    }
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix });
    await new UserDirectory(store).add(user.username, user.password);
    await store.close();
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await rm(root, { recursive: true, force: true });
    await deleteKeysUnder(prefix);
  });

  it('behave as one server: sign in at A, redeem at B, rotate at A, and a reused refresh token at B revokes the grant everywhere', async () => {
    const discovered = await client.discovery(new URL(urlA), PUBLIC_CLIENT.client_id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const [atA, atB] = [configurationAt(discovered, urlA), configurationAt(discovered, urlB)];

    const { url, verifier, state } = await authorizationRequest(atA, FLOW);
    const callback = await new UserAgent(urlA).authorize(url, user);
    const first = await client.authorizationCodeGrant(atB, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: NOTES_RESOURCE });
    assert.ok(first.access_token && first.refresh_token, 'B redeemed the code A issued');

    const rotated = await client.refreshTokenGrant(atA, first.refresh_token);
    assert.ok(rotated.refresh_token && rotated.refresh_token !== first.refresh_token, 'A rotated the refresh token B issued');

    await assertInvalidGrant(client.refreshTokenGrant(atB, first.refresh_token), 'B refuses the rotated-out refresh token');
    await assertInvalidGrant(client.refreshTokenGrant(atA, rotated.refresh_token), 'the whole grant is revoked, at A too');
  });
});
