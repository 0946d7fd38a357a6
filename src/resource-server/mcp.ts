import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DISABLED_AUDIT, type AuditSink } from '../audit/events.ts';
import { elevationGate, type ElevationRule } from './elevation.ts';
import type { IdempotencyOptions } from './idempotency.ts';
import { IdempotentCalls, type ResourceServerLog } from './idempotent-calls.ts';
import { jsonRpcError } from './json-rpc.ts';
import { dispatchStep } from './mcp-dispatch.ts';
import { auditStep, authenticationStep, bodyStep, corsStep, idempotencyStep, policyStep, rateLimitStep, type EndpointParts, type Exchange, type Step } from './mcp-steps.ts';
import { decide, resolveToolPolicy, type ToolPolicy } from './policy.ts';
import { ToolRateLimiter, type ToolRateLimitOptions } from './rate-limit.ts';
import { sendJson } from './http-response.ts';
import { toolAudit } from './tool-audit.ts';
import type { ProtectedTool } from './tool.ts';
import { ToolRunner } from './tool-runner.ts';
import type { TokenVerifier } from './verifier.ts';
import type { VerifiedToken } from './verified-token.ts';

export type { ProtectedTool, ToolContext } from './tool.ts';

/** The settings every MCP endpoint shares, whatever serves it. */
export interface McpToolOptions {
  /** The server's name and version, as MCP clients see them. */
  server?: { name: string; version: string };
  /** The tools, each made with defineTool so its handler's arguments follow its input shape. */
  tools: readonly ProtectedTool[];
  /** Prefix of the default scopes: `notes` -> notes:read, notes:write, notes:admin. */
  scopePrefix: string;
  /** Tools the caller may not use are left out of tools/list ('hide', default) or listed anyway. */
  unauthorizedTools?: 'hide' | 'show';
  /** How recent a sign-in must be for tools that require elevation under `recent-sign-in`; default 300 s. */
  elevationMaxAgeSeconds?: number;
  /** How privileged tools are guarded: an active Portcullis elevation, or (default) a recent sign-in (RFC 9470). */
  elevation?: ElevationRule;
  /**
   * Where tool decisions are recorded. A write or privileged tool runs only after its
   * `tool.requested` event is durable; if the log cannot write, the call gets a JSON-RPC error.
   */
  audit?: AuditSink;
  /** Told about audit events that could not be written (read tools, outcomes, refusals). */
  onAuditError?: (error: Error) => void;
  /**
   * Write and privileged tools run at most once per idempotency key (Idempotency-Key header or
   * `params._meta["idempotency-key"]`), with records kept in this store. Without it keys are ignored.
   */
  idempotency?: IdempotencyOptions;
  /**
   * Count calls per user and tool in this store and refuse those over the tool's `rateLimit` tier.
   * Without it, a tool that declares a tier is a start-up error.
   */
  rateLimits?: ToolRateLimitOptions;
  /** Where idempotent replays, refusals and unexpected errors are logged. */
  log?: ResourceServerLog;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export interface McpEndpointOptions extends McpToolOptions {
  /** Path of the Streamable HTTP endpoint, e.g. /mcp. */
  path: string;
  verifier: Pick<TokenVerifier, 'verify'>;
  /** This resource's RFC 9728 metadata URL, named in every challenge. */
  metadataUrl: string;
}

/** Serves one MCP request (any method) on the endpoint's path; never throws. */
export type McpRequestHandler = (request: IncomingMessage & { body?: unknown }, response: ServerResponse) => Promise<void>;

/**
 * An MCP Streamable HTTP endpoint (stateless) behind bearer-token authentication and per-tool
 * policy, as a plain node:http handler; the adapters (node, express, koa) route to it. A
 * tools/call the token's scopes do not cover is refused at the HTTP layer with 403
 * insufficient_scope, so MCP clients can step up; a tool that needs a recent sign-in gets 401
 * insufficient_user_authentication (RFC 9470).
 *
 * @example
 * const handle = createMcpHandler({ path: '/mcp', verifier, metadataUrl, scopePrefix: 'notes', tools: [listNotes] });
 * http.createServer((req, res) => void handle(req, res)).listen(3001);
 */
export function createMcpHandler(options: McpEndpointOptions): McpRequestHandler {
  const parts = endpointParts(options);
  // The request pipeline, top to bottom: each step answers and stops, or passes the request on.
  const steps: ReadonlyArray<readonly [string, Step]> = [
    ['cors', corsStep],
    ['authentication', authenticationStep(parts)],
    ['body', bodyStep],
    ['policy', policyStep(parts)],
    ['rate limit', rateLimitStep(parts)],
    ['idempotency', idempotencyStep(parts)],
    ['audit', auditStep(parts)],
    ['dispatch', dispatchStep(parts)],
  ];
  return async (request, response) => {
    const exchange: Exchange = { request, response, callIds: new Map() };
    let step = 'start';
    try {
      for (const [name, run] of steps) {
        step = name;
        if (!(await run(exchange))) return;
      }
    } catch (error) {
      options.log?.warn({ step, err: { name: (error as Error).name, message: (error as Error).message } }, 'the MCP endpoint failed a request');
      if (exchange.held && !exchange.held.started) await parts.idempotentCalls?.records.release(exchange.held.claim).catch(() => {});
      if (!response.headersSent) sendJson(response, 500, jsonRpcError(null, -32603, 'internal error'));
      else response.end();
    }
  };
}

function endpointParts(options: McpEndpointOptions): EndpointParts {
  const rateLimited = options.rateLimits !== undefined;
  const policies = new Map<string, ToolPolicy>(
    options.tools.map((tool) => [tool.name, resolveToolPolicy(tool.name, tool.policy, { scopePrefix: options.scopePrefix, rateLimited })]),
  );
  if (policies.size !== options.tools.length) throw new TypeError('every tool needs a distinct name');
  const audit = toolAudit(options.audit ?? DISABLED_AUDIT, options.onAuditError);
  const now = options.now ?? Date.now;
  const elevationMaxAgeSeconds = options.elevationMaxAgeSeconds ?? 300;
  const elevation = options.elevation?.rule === 'elevation' ? elevationGate(options.elevation) : undefined;
  const inputSchemas = new Map(options.tools.map((tool) => [tool.name, z.object(tool.inputSchema ?? {})]));
  return {
    options,
    policies,
    acceptsArguments: (tool, args) => inputSchemas.get(tool)?.safeParse(args ?? {}).success ?? false,
    tools: new Map(options.tools.map((tool) => [tool.name, tool])),
    audit,
    runner: new ToolRunner(),
    idempotentCalls: options.idempotency ? new IdempotentCalls(options.idempotency, audit, options.log) : undefined,
    rateLimiter: options.rateLimits ? new ToolRateLimiter(options.rateLimits, now) : undefined,
    decisionFor: (tool: string, token: VerifiedToken) => decide(policies.get(tool)!, {
      scopes: token.scopes, authTime: typeof token.claims.auth_time === 'number' ? token.claims.auth_time : undefined,
      acr: typeof token.claims.acr === 'string' ? token.claims.acr : undefined,
    }, { nowSeconds: Math.floor(now() / 1000), elevationMaxAgeSeconds, elevationChecked: elevation !== undefined }),
    elevation,
  };
}
