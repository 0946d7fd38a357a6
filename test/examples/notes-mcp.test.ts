import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PUBLIC_CLIENT } from '../support/authorization-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';
import { connectMcpClient, startNotesStack, type NotesStack } from '../support/notes-server.ts';

describe('the demo notes MCP server with tokens from Portcullis', () => {
  let stack: NotesStack;
  let alice: Awaited<ReturnType<typeof addUser>>;
  let bob: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    stack = await startNotesStack();
    alice = await addUser(stack.authorizationServer, 'alice');
    bob = await addUser(stack.authorizationServer, 'bob');
  });
  after(() => stack.close());

  async function tokenFor(user: { username: string; password: string }, scope: string): Promise<string> {
    const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, stack.authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope, resource: stack.resource });
    return tokens.access_token;
  }

  async function callMcp(token: string | undefined, body: unknown): Promise<Response> {
    return fetch(stack.resource, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  }

  it('publishes RFC 9728 metadata naming Portcullis, at both well-known forms', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const metadata = await (await fetch(new URL(path, stack.resource))).json() as Record<string, unknown>;
      assert.equal(metadata.resource, stack.resource);
      assert.deepEqual(metadata.authorization_servers, [stack.authorizationServer.issuer]);
      assert.deepEqual(metadata.scopes_supported, ['notes:read', 'notes:write', 'notes:admin']);
      assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    }
  });

  it('answers a request without a token with 401 and a challenge pointing at the metadata', async () => {
    const response = await callMcp(undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, new RegExp(`resource_metadata="${new URL('/.well-known/oauth-protected-resource/mcp', stack.resource)}"`));
    assert.match(challenge, /scope="notes:read notes:write"/, 'a first sign-in is asked for every everyday scope, not the privileged notes:admin');
    assert.doesNotMatch(challenge, /error=/);
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
  });

  it('lets the official MCP SDK client list and call the tools with a read-write token', async () => {
    const client = await connectMcpClient(stack.resource, await tokenFor(alice, 'notes:read notes:write'));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['create_note', 'list_notes'], 'tools the token cannot use are hidden');
      const created = await client.callTool({ name: 'create_note', arguments: { text: 'buy milk' } });
      assert.notEqual(created.isError, true);
      const listed = await client.callTool({ name: 'list_notes', arguments: {} });
      assert.match(JSON.stringify(listed.content), /buy milk/);
    } finally {
      await client.close();
    }
  });

  it('keeps each user\'s notes to themselves', async () => {
    const client = await connectMcpClient(stack.resource, await tokenFor(bob, 'notes:read notes:write'));
    try {
      await client.callTool({ name: 'create_note', arguments: { text: 'bob only' } });
      const listed = JSON.stringify((await client.callTool({ name: 'list_notes', arguments: {} })).content);
      assert.match(listed, /bob only/);
      assert.doesNotMatch(listed, /buy milk/);
    } finally {
      await client.close();
    }
  });

  it('answers a read-only token calling create_note with 403 insufficient_scope naming the write scope', async () => {
    const readOnly = await tokenFor(alice, 'notes:read');
    const client = await connectMcpClient(stack.resource, readOnly);
    try {
      await assert.rejects(client.callTool({ name: 'create_note', arguments: { text: 'nope' } }), /403|insufficient_scope/);
    } finally {
      await client.close();
    }
    const response = await callMcp(readOnly, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'create_note', arguments: { text: 'nope' } } });
    assert.equal(response.status, 403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="notes:read notes:write"/, 'all scopes needed, including the one already granted');
    assert.match(challenge, /resource_metadata="/);
  });

  it('answers delete_all_notes without an elevation with the step-up 403 naming every scope the call needs', async () => {
    const everyday = await tokenFor(alice, 'notes:read notes:write');
    const response = await callMcp(everyday, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'delete_all_notes', arguments: {} } });
    assert.equal(response.status, 403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="notes:read notes:write notes:admin"/);
    assert.match(challenge, /resource_metadata="/);
  });

  it('refuses a token issued for another resource (no token passthrough)', async () => {
    const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, stack.authorizationServer, alice, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: 'http://localhost:3001/mcp' });
    const response = await callMcp(tokens.access_token, { jsonrpc: '2.0', id: 4, method: 'tools/list' });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});
