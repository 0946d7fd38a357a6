import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';
import { startOwnCluster, type OwnCluster } from '../support/redis-topologies.ts';

describe('Portcullis on a Redis Cluster', () => {
  let cluster: OwnCluster;
  let server: TestServer;

  before(async () => {
    cluster = await startOwnCluster(3);
    server = await startTestServer({ REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_PREFIX: 'cluster-e2e:' });
  });

  after(async () => {
    await server?.destroy();
    await cluster?.stop();
  });

  it('signs a user in, rotates the refresh token, and revokes the grant when an old one is reused', async () => {
    const user = await addUser(server);
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, server, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(config, rotated.refresh_token!), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant',
      'reuse revoked the whole grant, across its indexes');
  });
});
