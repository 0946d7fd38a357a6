import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { InMemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';

const REDIRECT_URL = 'http://127.0.0.1:45875/callback';

describe('the MCP client 2.x, driven only by its transport, against the notes server', () => {
  let stack: NotesStack;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    // Access tokens live 3 s (2 to 3 s counted from whole-second iat, long enough for one retry
    // on a busy machine) and the notes server allows no clock leeway, so expiry is quick to reach.
    stack = await startNotesStack({}, { clockToleranceSeconds: 0 }, { accessTokenTtlSeconds: 3 });
    user = await addUser(stack.authorizationServer);
  });
  after(() => stack?.close());

  it('signs in with nothing preset, lists its tools, creates a note and refreshes when the access token expires', async () => {
    const browser = new UserAgent(stack.authorizationServer.issuer);
    const host = new InMemoryOAuthClient({ redirectUrl: REDIRECT_URL, clientName: 'SDK 2 host', signIn: (url) => browser.authorize(url, user) });
    // One in-memory host store serves both SDKs; SDK 2 types its records with an issuer stamp it adds itself.
    const oauth = host as unknown as OAuthClientProvider;

    const first = new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth });
    await assert.rejects(new Client({ name: 'sdk2-host', version: '0.0.0' }).connect(first), UnauthorizedError);
    const requested = host.authorizationUrl!.searchParams;
    assert.equal(requested.get('scope'), 'notes:read notes:write offline_access', 'SEP-2207: it asks for offline_access, which discovery offers');
    const consent = browser.pages.at(-1)!;
    assert.match(consent, /Create and change your notes/);
    assert.match(consent, /Stay connected when you are not using it/, 'offline_access is explained in plain words');

    // The callback with code and iss (RFC 9207), which SDK 2 checks against the authorization server's issuer.
    await first.finishAuth(host.callback!.searchParams);
    const tokens = host.tokens()!;
    assert.equal(tokens.scope, 'notes:read notes:write');
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

    const client = new Client({ name: 'sdk2-host', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth }));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_note', 'list_notes']);
      const created = await client.callTool({ name: 'create_note', arguments: { text: 'from SDK 2' } });
      assert.notEqual(created.isError, true);

      const pagesSeen = browser.pages.length;
      await sleep(3500);
      const listed = await client.callTool({ name: 'list_notes', arguments: {} });
      assert.deepEqual(listed.content, [{ type: 'text', text: '- from SDK 2' }]);
      const refreshed = host.tokens()!;
      assert.notEqual(refreshed.access_token, tokens.access_token, 'the expired access token was refreshed by the transport');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated');
      assert.equal(browser.pages.length, pagesSeen, 'no new sign-in or consent');
      assert.equal(decodeJwt(refreshed.access_token).scope, 'notes:read notes:write');
    } finally {
      await client.close();
    }
  });
});
