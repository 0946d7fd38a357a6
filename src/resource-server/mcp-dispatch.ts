import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { EndpointParts, Exchange, HeldClaim, Step } from './mcp-steps.ts';
import type { ToolPolicy } from './policy.ts';
import { toAuthInfo } from './sdk-auth.ts';
import type { ProtectedTool } from './tool.ts';
import { ToolRunError } from './tool-runner.ts';
import type { VerifiedToken } from './verified-token.ts';

const DEFAULT_SERVER = { name: 'mcp-server', version: '0.0.0' };

/**
 * Hands the request to a stateless MCP server (official SDK, Streamable HTTP) that lists the
 * tools the caller may use and runs them within their policy's limits.
 */
export function dispatchStep(parts: EndpointParts): Step {
  return async (exchange) => {
    const { request, response } = exchange;
    const token = exchange.token!;
    const server = new McpServer(parts.options.server ?? DEFAULT_SERVER);
    for (const tool of parts.options.tools) {
      const decision = parts.decisionFor(tool.name, token);
      if (parts.options.unauthorizedTools !== 'show' && !decision.allowed && decision.reason === 'insufficient_scope') continue;
      registerTool(server, tool, parts.policies.get(tool.name)!, (args, extra) => runTool(parts, exchange, tool, args, extra.requestId));
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void server.close();
      // The MCP server refused the call before the tool ran: a retry may run it.
      if (exchange.held && !exchange.held.started) void parts.idempotentCalls!.records.release(exchange.held.claim).catch(() => {});
    });
    await server.connect(transport);
    const authenticated = Object.assign(request, { auth: toAuthInfo(token) });
    await transport.handleRequest(authenticated, response, exchange.messages?.body);
    return false;
  };
}

type RunTool = (args: Record<string, unknown>, extra: { requestId: string | number }) => Promise<CallToolResult>;

function registerTool(server: McpServer, tool: ProtectedTool, policy: ToolPolicy, run: RunTool): void {
  const config = {
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    annotations: { readOnlyHint: policy.risk === 'read', destructiveHint: policy.risk === 'privileged' },
  };
  // The SDK passes (args, extra) to tools with an input schema and (extra) to the others.
  if (tool.inputSchema) server.registerTool(tool.name, { ...config, inputSchema: tool.inputSchema }, (args, extra) => run(args, extra));
  else server.registerTool(tool.name, config, (extra) => run({}, extra));
}

async function runTool(parts: EndpointParts, exchange: Exchange, tool: ProtectedTool, args: Record<string, unknown>, requestId: string | number): Promise<CallToolResult> {
  const token = exchange.token!;
  const policy = parts.policies.get(tool.name)!;
  const started = performance.now();
  // The outcome is recorded without holding the answer back; appends keep their order.
  const executed = (outcome: string) => void parts.audit.executed(tool.name, token, exchange.callIds.get(requestId), outcome, performance.now() - started);
  if (exchange.held?.claim.tool === tool.name) return runClaimed(parts, tool, policy, args, token, exchange.held, executed);
  try {
    const result = await parts.runner.run(tool.name, policy, (signal) => tool.handler(args, { token, signal }));
    executed(result.isError ? 'tool_error' : 'ok');
    return result;
  } catch (error) {
    executed(error instanceof ToolRunError ? 'refused_or_timed_out' : 'failed');
    if (error instanceof ToolRunError) return toolError(error.message);
    throw error;
  }
}

/**
 * Runs a tool under an idempotency claim: its first completed result (success or tool error) is
 * stored for retries. A tool that never started (busy) gives the claim back.
 */
async function runClaimed(
  parts: EndpointParts, tool: ProtectedTool, policy: ToolPolicy, args: Record<string, unknown>, token: VerifiedToken, held: HeldClaim, executed: (outcome: string) => void,
): Promise<CallToolResult> {
  const records = parts.idempotentCalls!.records;
  held.started = true;
  let result: CallToolResult;
  try {
    result = await parts.runner.run(tool.name, policy, (signal) => tool.handler(args, { token, signal }));
    executed(result.isError ? 'tool_error' : 'ok');
  } catch (error) {
    executed(error instanceof ToolRunError ? 'refused_or_timed_out' : 'failed');
    if (error instanceof ToolRunError && error.reason === 'busy') {
      await records.release(held.claim);
      return toolError(error.message);
    }
    result = toolError((error as Error).message);
  }
  try {
    await records.complete(held.claim, result);
  } catch (error) {
    parts.options.log?.warn({ tool: tool.name, err: { name: (error as Error).name, message: (error as Error).message } }, 'could not store an idempotent result; retries with its key will get outcome_unknown');
  }
  return result;
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
