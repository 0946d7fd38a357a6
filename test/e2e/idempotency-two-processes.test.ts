import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { REPLAYED_META } from '../../src/resource-server/entries/idempotency.ts';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { connectMcpClient } from '../support/notes-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { startProject, type RunningProject } from '../support/processes.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

describe('exactly once across two notes MCP processes sharing Redis', () => {
  const prefix = uniqueRedisPrefix('idempotency');
  let root: string;
  let authorizationServer: TestServer;
  let processes: RunningProject[] = [];
  let clients: Client[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-idempotency-'));
    const ports = [await freePort(), await freePort()];
    // Both processes serve one resource, as two instances behind a load balancer do.
    const resource = `http://localhost:${ports[0]}/mcp`;
    authorizationServer = await startTestServer({}, undefined, [{ uri: resource, name: 'Notes', scopes: ['notes:read', 'notes:write', 'notes:admin'], default: false }]);
    processes = await Promise.all(ports.map((port, index) => startProject({
      ISSUER: authorizationServer.issuer, DEMO_MCP_RESOURCE: resource, DEMO_MCP_PORT: String(port), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix,
      DATA_DIR: join(root, `data-${index}`), KEYS_DIR: join(root, `keys-${index}`), LOG_FORMAT: 'json',
    }, 'notes MCP server:', 'examples/notes-mcp/main.ts')));
    const user = await addUser(authorizationServer, 'twice');
    const config = await discover(authorizationServer, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read notes:write', resource });
    clients = await Promise.all(ports.map((port) => connectMcpClient(`http://127.0.0.1:${port}/mcp`, tokens.access_token)));
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(processes.map((running) => running.stop()));
    await authorizationServer.destroy();
    await deleteKeysUnder(prefix);
    await rm(root, { recursive: true, force: true });
  });

  it('creates one note for 100 concurrent calls with one key spread over both processes, and gives all the same result', async () => {
    const call = { name: 'create_note', arguments: { text: 'book the flight once' }, _meta: { 'idempotency-key': 'flight-LH400' } };
    const results = await Promise.all(Array.from({ length: 100 }, (_, index) => clients[index % 2]!.callTool(call)));
    const withoutMark = results.map(({ _meta, ...rest }) => rest);
    for (const result of withoutMark) assert.deepEqual(result, withoutMark[0]);
    assert.equal(results.filter((result) => (result._meta as Record<string, unknown> | undefined)?.[REPLAYED_META] === true).length, 99);
    for (const client of clients) {
      const listed = await client.callTool({ name: 'list_notes', arguments: {} });
      const texts = (listed.structuredContent as { notes: Array<{ text: string }> }).notes.map((note) => note.text);
      assert.deepEqual(texts, ['book the flight once'], 'both processes see the one note');
    }
  });
});
