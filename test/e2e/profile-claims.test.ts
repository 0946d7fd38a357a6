import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

describe('profile claims in the ID token', () => {
  let server: TestServer;
  let config: client.Configuration;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer();
    config = await discover(server, PUBLIC_CLIENT.client_id);
    user = await addUser(server);
    await server.users.updateProfile(user.username, { email: 'pat@example.test', emailVerified: true, displayName: 'Pat Example' });
  });
  after(() => server.destroy());

  async function idTokenClaims(scope: string) {
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope, resource: NOTES_RESOURCE, extra: { prompt: 'consent' } });
    return tokens.claims()!;
  }

  it('releases email, email_verified and name when the client asked for the email and profile scopes', async () => {
    const claims = await idTokenClaims('openid email profile notes:read');
    assert.equal(claims.sub, user.id);
    assert.equal(claims.email, 'pat@example.test');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, 'Pat Example');
    assert.equal(claims.preferred_username, user.username);
  });

  it('keeps the email address out when only profile was asked for, and both out for openid alone', async () => {
    const profileOnly = await idTokenClaims('openid profile notes:read');
    assert.equal(profileOnly.name, 'Pat Example');
    assert.equal(profileOnly.email, undefined);
    const bare = await idTokenClaims('openid notes:read');
    assert.equal(bare.sub, user.id);
    assert.equal(bare.email, undefined);
    assert.equal(bare.name, undefined);
  });

  it('announces the email scope and claims in discovery', async () => {
    const metadata = config.serverMetadata();
    assert.ok(metadata.scopes_supported?.includes('email'));
    assert.ok(metadata.claims_supported?.includes('email_verified'));
  });
});
