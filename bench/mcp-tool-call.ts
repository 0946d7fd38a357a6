/**
 * (3) One MCP tool call (tools/call list_notes over Streamable HTTP, JSON response) on the demo
 * notes server as shipped, behind the resource-server module (token verification, tool policy,
 * tool runner), against the same tools and store with no protection at all. The client reuses one
 * access token, as MCP clients do, so after the first call the verifier answers from its cache.
 * Run alone: ./node_modules/.bin/node bench/mcp-tool-call.ts [seconds-per-round]
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import { startChild, type RunningChild } from './support/child.ts';
import { createInMemoryIssuer } from './support/in-memory-issuer.ts';
import { compareLoad, type LoadMeasurement, type LoadRequest } from './support/load.ts';
import { printLoad } from './token-endpoint.ts';

export interface McpToolCallBenchOptions {
  rounds?: number;
  seconds?: number;
  connections?: number;
  print?: boolean;
}

export interface McpToolCallBenchResult {
  protected: LoadMeasurement;
  unprotected: LoadMeasurement;
  /** Protected / unprotected, in tool calls per second. */
  protectedVsUnprotected: number;
}

const SUBJECT = 'bench-user';

export async function runMcpToolCallBench(options: McpToolCallBenchOptions = {}): Promise<McpToolCallBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-mcp-'));
  const children: RunningChild[] = [];
  // The issuer's discovery document and JWKS, served from this process (fetched once per server).
  const documents = createServer();
  documents.listen(0, '127.0.0.1');
  await once(documents, 'listening');
  const idp = await createInMemoryIssuer(`http://127.0.0.1:${(documents.address() as AddressInfo).port}`);
  documents.on('request', (request, response) => {
    void idp.fetch(`${idp.issuer}${request.url}`).then(async (answer) => {
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    });
  });
  try {
    const start = async (mode: 'protected' | 'unprotected') => {
      const child = await startChild('bench/support/notes-servers.ts', {
        BENCH_MODE: mode, BENCH_PORT: String(await freePort()), BENCH_ISSUER: idp.issuer, BENCH_DATA_DIR: join(root, mode), BENCH_SUBJECT: SUBJECT,
      });
      children.push(child);
      return child.url;
    };
    const resources = { protected: await start('protected'), unprotected: await start('unprotected') };
    const requestFor = async (resource: string, call: object): Promise<LoadRequest> => {
      const now = Math.floor(Date.now() / 1000);
      const token = await idp.sign({ iss: idp.issuer, aud: resource, sub: SUBJECT, client_id: 'bench-client', scope: 'notes:read notes:write', iat: now, exp: now + 3600, jti: `bench-${resource}` });
      return {
        url: resource.replace('localhost', '127.0.0.1'),
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: call }),
      };
    };
    const requests: Record<string, LoadRequest> = {};
    for (const [mode, resource] of Object.entries(resources)) {
      // The same three notes on each side, written through the tools themselves.
      for (const text of ['first', 'second', 'third']) await callTool(await requestFor(resource, { name: 'create_note', arguments: { text: `${text} note` } }));
      requests[mode] = await requestFor(resource, { name: 'list_notes', arguments: {} });
      const listed = await callTool(requests[mode]);
      if (!listed.includes('third note')) throw new Error(`${resource}: list_notes did not list the notes: ${listed}`);
    }

    const compared = await compareLoad(requests.protected!, requests.unprotected!, {
      rounds: options.rounds ?? 4, seconds: options.seconds ?? 5, connections: options.connections ?? 8,
    });
    const result: McpToolCallBenchResult = { protected: compared.a, unprotected: compared.b, protectedVsUnprotected: compared.ratio };
    if (options.print ?? true) {
      console.log(`(3) MCP tools/call list_notes, Streamable HTTP (stateless, JSON), ${Math.round(compared.a.seconds + compared.b.seconds)} s of load`);
      printLoad('protected (resource-server module)', result.protected);
      printLoad('unprotected (same tools, no auth)', result.unprotected);
      console.log(`    protected / unprotected = ${result.protectedVsUnprotected.toFixed(2)}`);
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    documents.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** One call by hand; returns the result's text, or throws on any HTTP or tool error. */
async function callTool(request: LoadRequest): Promise<string> {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body ?? null });
  const text = await response.text();
  const body = (() => { try { return JSON.parse(text) as { result?: { isError?: boolean; content?: { text?: string }[] } }; } catch { return {}; } })();
  if (!response.ok || !body.result || body.result.isError) throw new Error(`${request.url}: ${response.status} ${text.slice(0, 300)}`);
  return body.result.content?.map((part) => part.text ?? '').join('\n') ?? '';
}

if (import.meta.main) {
  const [seconds] = process.argv.slice(2).map(Number);
  await runMcpToolCallBench({ seconds: seconds || undefined });
}
