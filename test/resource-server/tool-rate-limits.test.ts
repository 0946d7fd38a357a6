import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { defineTool } from '../../src/resource-server/entries/mcp.ts';
import { mcpRequestListener } from '../../src/resource-server/node.ts';
import { connectMcpClient } from '../support/notes-server.ts';
import { embeddedStoreForSuite } from '../support/temp-store.ts';
import { startFixtureIssuer, type FixtureIssuer } from './support/fixture-issuer.ts';

describe('rate-limit tiers of an MCP endpoint, counted per user and tool in the Store', () => {
  const held = embeddedStoreForSuite();
  let idp: FixtureIssuer;
  let http: Server;
  let resource: string;
  const runs: string[] = [];

  before(async () => {
    idp = await startFixtureIssuer();
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    resource = `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`;
    const tools = [
      defineTool({
        name: 'save', description: 'Saves a line.', inputSchema: { line: z.string() }, policy: { risk: 'write' },
        handler: async ({ line }, { token }) => {
          runs.push(`${token.subject}:${line}`);
          return { content: [{ type: 'text', text: 'saved' }] };
        },
      }),
      defineTool({ name: 'peek', description: 'Reads.', policy: { risk: 'read', rateLimit: 'none' }, handler: async () => ({ content: [] }) }),
    ];
    http.on('request', mcpRequestListener({
      issuer: idp.issuer, resource, verifierOptions: { requireTyp: false }, scopePrefix: 'notes', tools,
      rateLimits: { store: held.store, tiers: { strict: { limit: 2, windowSeconds: 60 } } },
    }));
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await idp.close();
  });

  const tokenFor = (subject: string) => idp.sign({ iss: idp.issuer, aud: resource, sub: subject, scope: 'notes:read notes:write', exp: Math.floor(Date.now() / 1000) + 600 });

  it('refuses the call past the tier\'s limit with a JSON-RPC error that says when to retry, without running the tool', async () => {
    const client = await connectMcpClient(resource, await tokenFor('ada'));
    try {
      await client.callTool({ name: 'save', arguments: { line: 'one' } });
      await client.callTool({ name: 'save', arguments: { line: 'two' } });
      const refused = await client.callTool({ name: 'save', arguments: { line: 'three' } }).then(() => undefined, (error: unknown) => error);
      assert.ok(refused instanceof McpError, 'the third call in the window is refused');
      assert.equal(refused.code, -32000);
      const data = refused.data as { reason: string; status: number; retryAfterSeconds: number };
      assert.equal(data.reason, 'rate_limited');
      assert.equal(data.status, 429);
      assert.ok(data.retryAfterSeconds >= 1 && data.retryAfterSeconds <= 60, `retry in ${data.retryAfterSeconds} s`);
      assert.deepEqual(runs.filter((run) => run.startsWith('ada:')), ['ada:one', 'ada:two']);
      await client.callTool({ name: 'peek', arguments: {} });
    } finally {
      await client.close();
    }
  });

  it('answers with a Retry-After header on the wire', async () => {
    const response = await fetch(resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor('ada')}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'save', arguments: { line: 'four' } } }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('retry-after') ?? '', /^\d+$/);
    assert.deepEqual(((await response.json()) as { id: number; error: { data: { reason: string } } }).error.data.reason, 'rate_limited');
  });

  it('counts each user on their own', async () => {
    const client = await connectMcpClient(resource, await tokenFor('grace'));
    try {
      const result = await client.callTool({ name: 'save', arguments: { line: 'one' } });
      assert.notEqual(result.isError, true);
      assert.ok(runs.includes('grace:one'));
    } finally {
      await client.close();
    }
  });
});
