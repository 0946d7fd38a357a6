import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { authorizeUrl, pkce, register, signInByHand } from '../support/registration.ts';

interface Shape {
  client: string;
  registered: string[];
  /** The redirect URI of the authorization request (a loopback one may use another port). */
  used: string;
  confidential?: boolean;
}

// The redirect URIs real MCP and ChatGPT clients register, as they send them.
const SHAPES: Shape[] = [
  { client: 'Claude Code (localhost, another port at sign-in)', registered: ['http://localhost:53682/callback'], used: 'http://localhost:61022/callback' },
  { client: 'VS Code (127.0.0.1:33418 and vscode.dev)', registered: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'], used: 'http://127.0.0.1:33418/' },
  { client: 'VS Code (vscode.dev)', registered: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'], used: 'https://vscode.dev/redirect' },
  { client: 'a native app on IPv6 loopback', registered: ['http://[::1]/callback'], used: 'http://[::1]:50123/callback' },
  { client: 'Claude (claude.ai)', registered: ['https://claude.ai/api/mcp/auth_callback'], used: 'https://claude.ai/api/mcp/auth_callback', confidential: true },
  { client: 'ChatGPT connector', registered: ['https://chatgpt.com/connector/oauth/dL3kq9ZxT2'], used: 'https://chatgpt.com/connector/oauth/dL3kq9ZxT2', confidential: true },
  { client: 'ChatGPT connector platform', registered: ['https://chatgpt.com/connector_platform_oauth_redirect'], used: 'https://chatgpt.com/connector_platform_oauth_redirect' },
  { client: 'ChatGPT Action (chat.openai.com)', registered: ['https://chat.openai.com/aip/g-4f8Qz1/oauth/callback', 'https://chatgpt.com/aip/g-4f8Qz1/oauth/callback'], used: 'https://chat.openai.com/aip/g-4f8Qz1/oauth/callback', confidential: true },
  { client: 'ChatGPT Action (chatgpt.com)', registered: ['https://chat.openai.com/aip/g-4f8Qz1/oauth/callback', 'https://chatgpt.com/aip/g-4f8Qz1/oauth/callback'], used: 'https://chatgpt.com/aip/g-4f8Qz1/oauth/callback', confidential: true },
  { client: 'Cursor', registered: ['cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback'], used: 'cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback' },
  { client: 'a vscode:// extension callback', registered: ['vscode://publisher.mcp-extension/oauth/callback'], used: 'vscode://publisher.mcp-extension/oauth/callback' },
];

/** The redirect target without its query: what the browser is sent to. */
function endpointOf(url: URL): string {
  return url.href.slice(0, url.href.length - url.search.length);
}

describe('redirect URIs of real clients, through registration, sign-in and the token request', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof addUser>>;
  before(async () => {
    server = await startTestServer();
    user = await addUser(server);
  });
  after(() => server.destroy());

  for (const shape of SHAPES) {
    it(`${shape.client}: ${shape.used}`, async () => {
      const registration = await register(server, {
        client_name: shape.client,
        redirect_uris: shape.registered,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: shape.confidential ? 'client_secret_post' : 'none',
      });
      assert.equal(registration.status, 201, JSON.stringify(registration.body));
      const clientId = registration.body.client_id!;

      const { callback, token } = await signInByHand(server, user, { clientId, redirectUri: shape.used, secret: registration.body.client_secret });
      assert.equal(endpointOf(callback), shape.used, 'the browser goes back to exactly that URI');
      assert.equal(callback.searchParams.get('state'), 'st-1');
      assert.equal(callback.searchParams.get('iss'), server.issuer);
      assert.ok(callback.searchParams.get('code'), callback.href);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.ok(token.body.access_token);
    });
  }

  it('still refuses a redirect URI that differs from the registered https one', async () => {
    const { body } = await register(server, { client_name: 'ChatGPT', redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'], token_endpoint_auth_method: 'none' });
    const { challenge } = pkce();
    for (const other of ['https://chatgpt.com/connector_platform_oauth_redirect/x', 'https://evil.example/connector_platform_oauth_redirect', 'http://chatgpt.com/connector_platform_oauth_redirect']) {
      const response = await fetch(authorizeUrl(server, { client_id: body.client_id!, redirect_uri: other, scope: 'notes:read', code_challenge: challenge }), { redirect: 'manual' });
      assert.equal(response.status, 400, other);
      assert.equal(response.headers.get('location'), null, `${other}: no redirect to an unregistered URI`);
    }
  });
});
