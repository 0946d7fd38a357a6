import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';
import { registerClient } from '../../src/authorization-server/index.ts';

describe('the embedded store across a restart', () => {
  it('keeps users, registered clients, grants and refresh tokens', async () => {
    const first = await startTestServer();
    try {
      const user = await addUser(first);
      const registered = await registerClient(first.store, { name: 'Persistent', redirectUris: ['http://127.0.0.1/cb'], confidential: false });
      const config = await discover(first, PUBLIC_CLIENT.client_id);
      const { tokens } = await codeFlow(config, first, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
      await first.stop();

      const second = await first.restart();
      try {
        const again = await discover(second, PUBLIC_CLIENT.client_id);
        const refreshed = await client.refreshTokenGrant(again, tokens.refresh_token!);
        assert.ok(refreshed.access_token, 'the refresh token and its grant survived');
        const registeredConfig = await discover(second, registered.client_id);
        const flow = await codeFlow(registeredConfig, second, user, { redirectUri: 'http://127.0.0.1/cb', scope: 'notes:read', resource: NOTES_RESOURCE });
        assert.ok(flow.tokens.access_token, 'the user and the registered client survived');
      } finally {
        await second.stop();
      }
    } finally {
      await first.destroy();
    }
  });
});
