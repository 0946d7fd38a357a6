import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { InMemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';

const REDIRECT_URL = 'http://127.0.0.1:45874/callback';

describe('the MCP SDK 1.x client, driven only by its transport, against the notes server', () => {
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
    const oauth = new InMemoryOAuthClient({ redirectUrl: REDIRECT_URL, clientName: 'SDK 1 host', signIn: (url) => browser.authorize(url, user) });

    // The host connects; the transport meets the 401, registers, and sends the user to sign in.
    const first = new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth });
    await assert.rejects(new Client({ name: 'sdk1-host', version: '0.0.0' }).connect(first), UnauthorizedError);
    assert.equal(oauth.authorizationUrl?.searchParams.get('scope'), 'notes:read notes:write', 'the first challenge names every everyday scope');
    const consent = browser.pages.at(-1)!;
    assert.match(consent, /Create and change your notes/, 'the consent page explains notes:write in the resource\'s words');
    assert.doesNotMatch(consent, /notes:admin/);

    // The host's callback hands the code to the transport, then connects again.
    await first.finishAuth(oauth.callback!.searchParams.get('code')!);
    const tokens = oauth.tokens()!;
    assert.equal(tokens.scope, 'notes:read notes:write', 'the token response carries scope');
    assert.ok(tokens.refresh_token, 'an MCP client without openid gets a refresh token');

    const client = new Client({ name: 'sdk1-host', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth }));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_note', 'list_notes']);
      const created = await client.callTool({ name: 'create_note', arguments: { text: 'from SDK 1' } });
      assert.notEqual(created.isError, true);

      const pagesSeen = browser.pages.length;
      await sleep(3500);
      const listed = await client.callTool({ name: 'list_notes', arguments: {} });
      assert.deepEqual(listed.content, [{ type: 'text', text: '- from SDK 1' }]);
      const refreshed = oauth.tokens()!;
      assert.notEqual(refreshed.access_token, tokens.access_token, 'the expired access token was refreshed by the transport');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated');
      assert.equal(browser.pages.length, pagesSeen, 'no new sign-in or consent');
      assert.equal(decodeJwt(refreshed.access_token).scope, 'notes:read notes:write');
    } finally {
      await client.close();
    }
  });
});
