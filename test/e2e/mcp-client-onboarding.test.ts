import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { modelKey } from '../../src/authorization-server/adapter.ts';
import { InMemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { makeTestCertificates, startHttpsFixture, type HttpsFixture, type TestCertificates } from '../support/tls.ts';
import { UserAgent } from '../support/user-agent.ts';

const REDIRECT_URL = 'http://127.0.0.1:45873/callback';
const METADATA_PATH = '/oauth/mcp-client.json';

describe('the official MCP SDK client onboarding against Portcullis and the notes MCP server', () => {
  let certificates: TestCertificates;
  let fixture: HttpsFixture;
  let stack: NotesStack;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    certificates = makeTestCertificates();
    // The client's metadata document is served over https on loopback by the test, under a
    // throwaway CA that only this authorization server trusts.
    fixture = await startHttpsFixture(certificates);
    stack = await startNotesStack({ OUTBOUND_ALLOW_LOOPBACK: 'true', OUTBOUND_CA_FILE: certificates.caFile });
    user = await addUser(stack.authorizationServer);
  });
  after(async () => {
    await stack?.close();
    await fixture?.close();
    certificates?.remove();
  });

  const runs = [
    { onboarding: 'dynamic client registration', metadataDocument: false },
    { onboarding: 'a client ID metadata document', metadataDocument: true },
  ];

  for (const { onboarding, metadataDocument } of runs) {
    it(`discovers, signs in with ${onboarding}, gets a token for the resource and calls a tool`, async () => {
      const { issuer } = stack.authorizationServer;
      const clientMetadataUrl = `${fixture.origin}${METADATA_PATH}`;
      if (metadataDocument) {
        fixture.json(METADATA_PATH, {
          client_id: clientMetadataUrl,
          client_name: 'SDK test client',
          redirect_uris: [REDIRECT_URL],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }, { 'cache-control': 'max-age=300' });
      }
      const oauth = new InMemoryOAuthClient({
        redirectUrl: REDIRECT_URL, clientName: 'SDK test client', ...(metadataDocument ? { clientMetadataUrl } : {}),
      });

      // 1. The SDK meets a 401, follows RFC 9728 to Portcullis, gets a client_id, and asks to redirect.
      const firstAttempt = new Client({ name: 'onboarding-test', version: '0.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth });
      await assert.rejects(firstAttempt.connect(transport), UnauthorizedError);
      const authorizationUrl = oauth.authorizationUrl;
      assert.ok(authorizationUrl, 'the SDK asked to send the user to the authorization endpoint');
      assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${issuer}/authorize`);
      assert.equal(authorizationUrl.searchParams.get('resource'), stack.resource);
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');

      const clientId = oauth.clientInformation()?.client_id;
      assert.ok(clientId);
      if (metadataDocument) {
        assert.equal(clientId, clientMetadataUrl, 'the metadata document URL is the client_id');
      } else {
        const stored = await stack.authorizationServer.store.get<Record<string, unknown>>(modelKey('Client', clientId));
        assert.equal(stored?.value.portcullis_registration, 'dynamic', 'registered at /reg and kept in the store');
        assert.equal(stored?.value.token_endpoint_auth_method, 'none');
      }

      // 2. The user signs in and approves on our pages; the redirect carries code, state and iss.
      const callback = await new UserAgent(issuer).authorize(authorizationUrl, user);
      assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URL);
      assert.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207');
      assert.equal(callback.searchParams.get('state'), oauth.lastState);
      const code = callback.searchParams.get('code');
      assert.ok(code);
      if (metadataDocument) assert.ok(fixture.requests.includes(`GET ${METADATA_PATH}`), 'Portcullis fetched the document');

      // 3. The SDK redeems the code with PKCE and the resource indicator.
      await transport.finishAuth(code);
      const tokens = oauth.tokens();
      assert.ok(tokens?.access_token);
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.aud, stack.resource, 'the token is bound to the MCP server');
      assert.equal(claims.client_id, clientId);
      assert.match(String(claims.scope), /\bnotes:read\b/);
      assert.ok(tokens.refresh_token, 'MCP clients get a refresh token without offline_access');

      // 4. With the token, the SDK client calls a tool.
      const client = new Client({ name: 'onboarding-test', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth }));
      try {
        const result = await client.callTool({ name: 'list_notes', arguments: {} });
        assert.notEqual(result.isError, true);
        assert.deepEqual(result.content, [{ type: 'text', text: 'You have no notes yet.' }]);
      } finally {
        await client.close();
      }
    });
  }
});
