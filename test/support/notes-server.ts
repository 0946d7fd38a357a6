import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { demoNotesResource, type ResourceConfig } from '../../src/config/index.ts';
import { startNotesServer, type NotesServerOptions, type RunningNotesServer } from '../../examples/notes-mcp/server.ts';
import { startTestServer, type TestServer } from './authorization-server.ts';
import { freePort } from './ports.ts';

export interface NotesStack {
  authorizationServer: TestServer;
  notes: RunningNotesServer;
  /** The notes server's resource identifier, http://localhost:<port>/mcp. */
  resource: string;
  close(): Promise<void>;
}

/**
 * A Portcullis (with extra settings in `env`) and the demo notes MCP server on loopback, trusting
 * each other; `notesOptions` adds settings of the notes server (idempotency, audit, log), and
 * `elevation` replaces the resource's elevated scopes (the demo's notes:admin policy by default).
 */
export async function startNotesStack(
  env: Record<string, string> = {}, notesOptions: Pick<NotesServerOptions, 'idempotency' | 'log' | 'audit' | 'clockToleranceSeconds' | 'elevation'> = {},
  resourceOptions: Pick<ResourceConfig, 'accessTokenTtlSeconds' | 'elevation'> = {},
): Promise<NotesStack> {
  const port = await freePort();
  const resource = `http://localhost:${port}/mcp`;
  const authorizationServer = await startTestServer(env, undefined, [{ ...demoNotesResource(resource), ...resourceOptions }]);
  const notes = await startNotesServer({ port, issuer: authorizationServer.issuer, resource, dataDir: authorizationServer.dirs.dataDir, ...notesOptions });
  return {
    authorizationServer,
    notes,
    resource,
    async close() {
      await notes.close();
      await authorizationServer.destroy();
    },
  };
}

/** The official MCP SDK client, connected over Streamable HTTP with a bearer token. */
export async function connectMcpClient(resource: string, accessToken: string): Promise<Client> {
  const client = new Client({ name: 'portcullis-test', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(resource), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
  });
  await client.connect(transport);
  return client;
}
