import type { ServerResponse } from 'node:http';
import type { Context, Middleware } from 'koa';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z, type ZodRawShape } from 'zod';
import { DISABLED_AUDIT, type AuditSink } from '../audit/index.ts';
import { toolAudit, type CallIds } from './tool-audit.ts';
import { elevationChallenge, insufficientScopeChallenge } from './challenge.ts';
import type { Claim, IdempotencyOptions } from './idempotency.ts';
import { IdempotentCalls, REPLAYED_HEADER, type ResourceServerLog } from './idempotent-calls.ts';
import { BodyError, calledTools, readJsonBody } from './json-rpc.ts';
import { settleUnreadBody } from '../http/unread-body.ts';
import { requireBearerToken } from './koa.ts';
import { elevationGate, type ElevationRule } from './elevation.ts';
import { decide, resolveToolPolicy, type ToolPolicy, type ToolPolicyInput } from './policy.ts';
import { ToolRunError, ToolRunner } from './tool-runner.ts';
import type { TokenVerifier } from './verifier.ts';
import type { VerifiedToken } from './verified-token.ts';

export interface ToolContext {
  /** The caller's verified access token: `subject` is the user, `clientId` the application. */
  token: VerifiedToken;
  /** Fires when the tool's time-out passes; long work should stop then. */
  signal: AbortSignal;
}

export interface ProtectedTool<Shape extends ZodRawShape = ZodRawShape> {
  name: string;
  title?: string;
  description: string;
  inputSchema?: Shape;
  policy: ToolPolicyInput;
  handler(args: Record<string, unknown>, context: ToolContext): Promise<CallToolResult>;
}

export interface McpEndpointOptions {
  /** Path of the Streamable HTTP endpoint, e.g. /mcp. */
  path: string;
  verifier: Pick<TokenVerifier, 'verify'>;
  /** This resource's RFC 9728 metadata URL, named in every challenge. */
  metadataUrl: string;
  server: { name: string; version: string };
  tools: ProtectedTool[];
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
  /** Where idempotent replays and refusals are logged. */
  log?: ResourceServerLog;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, Idempotency-Key';
const EXPOSED_HEADERS = `WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, ${REPLAYED_HEADER}`;

/**
 * An MCP Streamable HTTP endpoint (stateless) behind bearer-token authentication and per-tool
 * policy. A tools/call the token's scopes do not cover is refused at the HTTP layer with 403
 * insufficient_scope, so MCP clients can step up; a tool that needs a recent sign-in gets 401
 * insufficient_user_authentication (RFC 9470).
 */
export function mcpEndpoint(options: McpEndpointOptions): Middleware {
  const policies = new Map<string, ToolPolicy>(
    options.tools.map((tool) => [tool.name, resolveToolPolicy(tool.name, tool.policy, { scopePrefix: options.scopePrefix })]),
  );
  if (policies.size !== options.tools.length) throw new TypeError('every tool needs a distinct name');
  const runner = new ToolRunner();
  const audit = toolAudit(options.audit ?? DISABLED_AUDIT, options.onAuditError);
  const idempotentCalls = options.idempotency ? new IdempotentCalls(options.idempotency, audit, options.log) : undefined;
  const inputSchemas = new Map(options.tools.map((tool) => [tool.name, z.object(tool.inputSchema ?? {})]));
  const acceptsArguments = (tool: string, args: unknown) => inputSchemas.get(tool)?.safeParse(args ?? {}).success ?? false;
  const now = options.now ?? Date.now;
  const elevationMaxAgeSeconds = options.elevationMaxAgeSeconds ?? 300;
  // The first sign-in asks for every everyday (read and write) tool's scopes, so one consent covers
  // normal use: MCP SDK 1.x can never widen a grant it holds a refresh token for (it refreshes
  // instead of asking again). Privileged tools' scopes are left for their own step-up.
  const everydayScopes = [...new Set([...policies.values()].filter((policy) => policy.risk !== 'privileged').flatMap((policy) => policy.scopes))];
  const authenticate = requireBearerToken({ verifier: options.verifier, metadataUrl: options.metadataUrl, challengeScopes: everydayScopes });
  const elevation = options.elevation?.rule === 'elevation' ? elevationGate(options.elevation) : undefined;
  const decisionFor = (tool: string, token: VerifiedToken) => decide(policies.get(tool)!, {
    scopes: token.scopes, authTime: typeof token.claims.auth_time === 'number' ? token.claims.auth_time : undefined,
    acr: typeof token.claims.acr === 'string' ? token.claims.acr : undefined,
  }, { nowSeconds: Math.floor(now() / 1000), elevationMaxAgeSeconds, elevationChecked: elevation !== undefined });

  return async (ctx, next) => {
    if (ctx.path !== options.path) return next();
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '86400');
      ctx.status = 204;
      return;
    }
    await authenticate(ctx, async () => {
      const token = (ctx.state as { token: VerifiedToken }).token;
      let body: unknown;
      if (ctx.method === 'POST') {
        try {
          body = await readJsonBody(ctx.req);
        } catch (error) {
          if (!(error instanceof BodyError)) throw error;
          ctx.status = error.status;
          ctx.body = { jsonrpc: '2.0', error: { code: -32700, message: error.message }, id: null };
          await settleUnreadBody(ctx);
          return;
        }
        if (await refuseByPolicy(ctx, calledTools(body).filter((tool) => policies.has(tool)), token)) return;
      }
      const decision = ctx.method === 'POST' ? await idempotentCalls?.decide(ctx, token, body, policies, acceptsArguments) : undefined;
      if (decision?.kind === 'answered') return;
      const calls = await audit.requested(body, token, (tool) => policies.get(tool));
      if (!calls.ok) {
        if (decision?.claim) await idempotentCalls!.records.release(decision.claim);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = calls.errorResponse;
        return;
      }
      await serve(ctx, token, body, calls.ids, decision?.claim ? { claim: decision.claim, started: false } : undefined);
    });
  };

  /** Answers 403/401 when a called tool is out of the token's reach; true when it did. */
  async function refuseByPolicy(ctx: Context, tools: string[], token: VerifiedToken): Promise<boolean> {
    for (const tool of tools) {
      const policy = policies.get(tool)!;
      let decision = decisionFor(tool, token);
      if (decision.allowed && elevation && policy.requiresElevation) decision = await elevation.decide(tool, policy, token);
      if (decision.allowed) continue;
      await audit.denied(tool, token, decision);
      ctx.set('Cache-Control', 'no-store');
      if (decision.reason === 'insufficient_scope') {
        const needed = [...new Set([...token.scopes, ...decision.requiredScopes])];
        const description = decision.why ?? `${tool} needs ${decision.missingScopes.join(' ')}`;
        ctx.status = 403;
        ctx.set('WWW-Authenticate', insufficientScopeChallenge({ resourceMetadata: options.metadataUrl, scope: needed, description }));
        ctx.body = { error: 'insufficient_scope', error_description: description };
      } else {
        const acrValues = decision.reason === 'stronger_sign_in_required' ? decision.acrValues : undefined;
        const description = acrValues
          ? `${tool} needs a sign-in of kind ${acrValues.join(' or ')}${decision.maxAgeSeconds === undefined ? '' : ` within the last ${decision.maxAgeSeconds} seconds`}`
          : `${tool} needs a sign-in within the last ${decision.maxAgeSeconds} seconds`;
        ctx.status = 401;
        ctx.set('WWW-Authenticate', elevationChallenge({ resourceMetadata: options.metadataUrl, maxAgeSeconds: decision.maxAgeSeconds, acrValues, description }));
        ctx.body = { error: 'insufficient_user_authentication', error_description: description };
      }
      return true;
    }
    return false;
  }

  /**
   * Runs a tool under an idempotency claim: its first completed result (success or tool error) is
   * stored for retries. A tool that never started (busy) gives the claim back.
   */
  async function runClaimed(
    tool: ProtectedTool, policy: ToolPolicy, args: Record<string, unknown>, token: VerifiedToken, held: HeldClaim, executed: (outcome: string) => void,
  ): Promise<CallToolResult> {
    held.started = true;
    let result: CallToolResult;
    try {
      result = await runner.run(tool.name, policy, (signal) => tool.handler(args, { token, signal }));
      executed(result.isError ? 'tool_error' : 'ok');
    } catch (error) {
      executed(error instanceof ToolRunError ? 'refused_or_timed_out' : 'failed');
      if (error instanceof ToolRunError && error.reason === 'busy') {
        await idempotentCalls!.records.release(held.claim);
        return toolError(error.message);
      }
      result = toolError((error as Error).message);
    }
    try {
      await idempotentCalls!.records.complete(held.claim, result);
    } catch (error) {
      options.log?.warn({ tool: tool.name, err: { name: (error as Error).name, message: (error as Error).message } }, 'could not store an idempotent result; retries with its key will get outcome_unknown');
    }
    return result;
  }

  async function serve(ctx: Context, token: VerifiedToken, body: unknown, callIds: CallIds, held?: HeldClaim): Promise<void> {
    const server = new McpServer(options.server);
    for (const tool of options.tools) {
      const decision = decisionFor(tool.name, token);
      if (options.unauthorizedTools !== 'show' && !decision.allowed && decision.reason === 'insufficient_scope') continue;
      const policy = policies.get(tool.name)!;
      server.registerTool(tool.name, {
        ...(tool.title ? { title: tool.title } : {}),
        description: tool.description,
        ...(tool.inputSchema ? { inputSchema: tool.inputSchema } : {}),
        annotations: { readOnlyHint: policy.risk === 'read', destructiveHint: policy.risk === 'privileged' },
      }, (async (...params: unknown[]) => {
        // The SDK passes (args, extra) to tools with an input schema and (extra) to the others.
        const args = (tool.inputSchema ? params[0] : {}) as Record<string, unknown>;
        const extra = params.at(-1) as { requestId: string | number };
        const started = performance.now();
        // The outcome is recorded without holding the answer back; appends keep their order.
        const executed = (outcome: string) => void audit.executed(tool.name, token, callIds.get(extra.requestId), outcome, performance.now() - started);
        if (held?.claim.tool === tool.name) return runClaimed(tool, policy, args ?? {}, token, held, executed);
        try {
          const result = await runner.run(tool.name, policy, (signal) => tool.handler(args ?? {}, { token, signal }));
          executed(result.isError ? 'tool_error' : 'ok');
          return result;
        } catch (error) {
          executed(error instanceof ToolRunError ? 'refused_or_timed_out' : 'failed');
          if (error instanceof ToolRunError) return toolError(error.message);
          throw error;
        }
      }) as never);
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const response: ServerResponse = ctx.res;
    response.on('close', () => {
      void transport.close();
      void server.close();
      // The MCP server refused the call before the tool ran: a retry may run it.
      if (held && !held.started) void idempotentCalls!.records.release(held.claim).catch(() => {});
    });
    await server.connect(transport);
    ctx.respond = false;
    const request = Object.assign(ctx.req, {
      auth: { token: '', clientId: token.clientId ?? '', scopes: [...token.scopes], expiresAt: token.expiresAt, extra: { subject: token.subject } },
    });
    await transport.handleRequest(request, response, body);
  }
}

interface HeldClaim {
  claim: Claim;
  started: boolean;
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
