/**
 * The demo notes MCP server for the tool-call benchmark, in one of two shapes (BENCH_MODE):
 *   protected:   examples/notes-mcp as shipped: bearer token verification, tool policy, tool runner;
 *   unprotected: the same tools and notes store on the MCP SDK's stateless Streamable HTTP
 *                transport, with no authentication at all (every call acts for one fixed user).
 * Prints `listening <resource URL>` when ready.
 */
import { once } from 'node:events';
import Koa from 'koa';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { VerifiedToken } from '../../src/resource-server/index.ts';
import { openStore } from '../../src/resource-server/entries/storage.ts';
import { startNotesServer } from '../../examples/notes-mcp/server.ts';
import { NoteBook } from '../../examples/notes-mcp/notes.ts';
import { noteTools } from '../../examples/notes-mcp/tools.ts';

const port = Number(process.env.BENCH_PORT);
const resource = `http://localhost:${port}/mcp`;
const dataDir = process.env.BENCH_DATA_DIR!;

if (process.env.BENCH_MODE === 'protected') {
  const server = await startNotesServer({ port, host: '127.0.0.1', issuer: process.env.BENCH_ISSUER!, resource, dataDir });
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  const store = await openStore({ dataDir });
  const tools = noteTools(new NoteBook(store));
  const token = { subject: process.env.BENCH_SUBJECT!, clientId: 'bench', scopes: [], audience: [resource], issuer: 'none', expiresAt: 0, claims: {} } satisfies VerifiedToken;
  const app = new Koa();
  app.use(async (ctx) => {
    const mcp = new McpServer({ name: 'notes-mcp', version: '0.1.0' });
    for (const tool of tools) {
      mcp.registerTool(tool.name, { description: tool.description, ...(tool.inputSchema ? { inputSchema: tool.inputSchema } : {}) },
        (async (args: Record<string, unknown>) => tool.handler(args ?? {}, { token, signal: new AbortController().signal })) as never);
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    ctx.res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    ctx.respond = false;
    await transport.handleRequest(ctx.req, ctx.res);
  });
  const server = app.listen(port, '127.0.0.1');
  await once(server, 'listening');
  process.once('SIGTERM', () => server.close(() => void store.close().then(() => process.exit(0))));
}
process.stdout.write(`listening ${resource}\n`);
