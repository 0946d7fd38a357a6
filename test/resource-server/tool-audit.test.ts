import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { allEvents } from '../../src/audit/index.ts';
import type { AuditLog } from '../../src/resource-server/entries/audit.ts';
import { argumentsHash } from '../../src/resource-server/entries/mcp.ts';
import { testLog } from '../audit/support.ts';
import { PUBLIC_CLIENT } from '../support/authorization-server.ts';
import { connectMcpClient, startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';

describe('tool calls in the MCP server\'s audit log', () => {
  let stack: NotesStack;
  let audit: AuditLog;
  let auditDir: string;
  let token: string;
  let subject: string;

  before(async () => {
    // One record per segment, so that every append creates a file in the audit directory.
    const fixture = await testLog({ segmentMaxRecords: 1 });
    audit = await fixture.open();
    auditDir = fixture.dir;
    stack = await startNotesStack({}, { audit });
    const user = await addUser(stack.authorizationServer);
    subject = user.id;
    const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
    token = (await codeFlow(config, stack.authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read notes:write', resource: stack.resource })).tokens.access_token;
  });
  after(async () => {
    await stack.close();
    await audit.close();
  });

  it('records each call as requested (caller, tool, argument hash) and executed (outcome, duration), and refusals with their reason', async () => {
    const client = await connectMcpClient(stack.resource, token);
    try {
      await client.callTool({ name: 'create_note', arguments: { text: 'audited note' } });
    } finally {
      await client.close();
    }
    const denied = await fetch(stack.resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'delete_all_notes', arguments: {} } }),
    });
    assert.equal(denied.status, 403);

    const events = (await allEvents(auditDir)).map((record) => record.event);
    const requested = events.find((event) => event.type === 'tool.requested' && event.tool === 'create_note')!;
    assert.equal(requested.subject, subject);
    assert.equal(requested.client, PUBLIC_CLIENT.client_id);
    assert.equal(requested.args_sha256, argumentsHash({ text: 'audited note' }));
    assert.equal(JSON.stringify(events).includes('audited note'), false, 'arguments are kept only as a hash');
    const executed = events.find((event) => event.type === 'tool.executed' && event.call === requested.call)!;
    assert.equal(executed.outcome, 'ok');
    assert.equal(typeof executed.duration_ms, 'number');
    const refusal = events.find((event) => event.type === 'tool.denied')!;
    assert.equal(refusal.tool, 'delete_all_notes');
    assert.equal(refusal.reason, 'insufficient_scope');
  });

  it('does not run a write tool when its request cannot be made durable, and answers with a JSON-RPC error', async () => {
    await rename(auditDir, `${auditDir}.moved`);
    await writeFile(auditDir, '');
    const client = await connectMcpClient(stack.resource, token);
    try {
      await assert.rejects(client.callTool({ name: 'create_note', arguments: { text: 'must not exist' } }), (error: unknown) => {
        assert.ok(error instanceof McpError, String(error));
        assert.equal(error.code, -32603);
        assert.match(error.message, /audit log is unavailable/);
        return true;
      });
      // Read tools still run (their events are best effort).
      const listed = JSON.stringify((await client.callTool({ name: 'list_notes', arguments: {} })).content);
      assert.doesNotMatch(listed, /must not exist/);
      assert.match(listed, /audited note/);
    } finally {
      await client.close();
      await rm(auditDir);
      await rename(`${auditDir}.moved`, auditDir);
    }
  });
});
