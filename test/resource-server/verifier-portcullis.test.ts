import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTokenVerifier, type TokenVerifier } from '../../src/resource-server/index.ts';
import { NOTES_RESOURCE, OTHER_RESOURCE, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { client, discover } from '../support/oauth-client.ts';
import { rejectsWith } from './support/assertions.ts';

describe('token verifier against a running Portcullis', () => {
  let server: TestServer;
  let service: client.Configuration;
  let verifier: TokenVerifier;

  async function accessToken(scope: string, resource: string): Promise<string> {
    return (await client.clientCredentialsGrant(service, { scope, resource })).access_token;
  }

  before(async () => {
    server = await startTestServer();
    service = await discover(server, SERVICE_CLIENT.client_id, client.ClientSecretBasic(SERVICE_CLIENT.client_secret));
    verifier = createTokenVerifier({ issuer: server.issuer, resource: NOTES_RESOURCE });
  });
  after(() => server.destroy());

  it('accepts a client-credentials token for its resource (typ at+jwt, RS256) with subject, client and scopes', async () => {
    const verified = await verifier.verify(await accessToken('notes:read', NOTES_RESOURCE), { requiredScopes: ['notes:read'] });
    assert.equal(verified.subject, SERVICE_CLIENT.client_id);
    assert.equal(verified.clientId, SERVICE_CLIENT.client_id);
    assert.deepEqual(verified.scopes, ['notes:read']);
    assert.deepEqual(verified.audience, [NOTES_RESOURCE]);
    assert.equal(verified.issuer, server.issuer);
    assert.ok(verified.expiresAt > Date.now() / 1000);
    assert.equal(typeof verified.jti, 'string');
  });

  it('refuses a token Portcullis issued for another resource', async () => {
    const token = await accessToken('api:read', OTHER_RESOURCE);
    await rejectsWith(verifier.verify(token), 'wrong_audience', token);
  });

  it('refuses a token lacking a required scope, naming it', async () => {
    const token = await accessToken('notes:read', NOTES_RESOURCE);
    const error = await rejectsWith(verifier.verify(token, { requiredScopes: ['notes:write'] }), 'insufficient_scope', token);
    assert.deepEqual(error.missingScopes, ['notes:write']);
    assert.deepEqual(error.requiredScopes, ['notes:write']);
    assert.match(error.message, /notes:write/);

    const both = await rejectsWith(verifier.verify(token, { requiredScopes: ['notes:read', 'notes:write'] }), 'insufficient_scope');
    assert.deepEqual(both.requiredScopes, ['notes:read', 'notes:write']);
    assert.deepEqual(both.missingScopes, ['notes:write']);
  });

  it('fails discovery when the configured issuer is spelled differently from Portcullis (127.0.0.1 vs localhost)', async () => {
    const other = createTokenVerifier({ issuer: server.issuer.replace('localhost', '127.0.0.1'), resource: NOTES_RESOURCE });
    await rejectsWith(other.verify(await accessToken('notes:read', NOTES_RESOURCE)), 'issuer_unreachable');
  });
});
