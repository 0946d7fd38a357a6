import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { settleUnreadRequest } from '../http/unread-body.ts';
import { StoreUnavailableError } from '../storage/store.ts';
import { authenticateRequest } from './authenticate.ts';
import { extractBearerToken } from './authorization-header.ts';
import { elevationChallenge, insufficientScopeChallenge } from './challenge.ts';
import { sendJson, sendRefusal } from './http-response.ts';
import type { elevationGate } from './elevation.ts';
import type { Claim } from './idempotency.ts';
import { REPLAYED_HEADER, type IdempotentCalls } from './idempotent-calls.ts';
import { BodyError, jsonRpcError, parseJsonRpc, readJsonBody, type JsonRpcMessages } from './json-rpc.ts';
import type { McpEndpointOptions } from './mcp.ts';
import type { PolicyDecision, ToolPolicy } from './policy.ts';
import type { ToolRateLimiter } from './rate-limit.ts';
import type { CallIds, ToolAudit } from './tool-audit.ts';
import type { ProtectedTool } from './tool.ts';
import type { ToolRunner } from './tool-runner.ts';
import type { VerifiedToken } from './verified-token.ts';

/** What the steps share for the life of the endpoint. */
export interface EndpointParts {
  options: McpEndpointOptions;
  policies: Map<string, ToolPolicy>;
  tools: Map<string, ProtectedTool>;
  audit: ToolAudit;
  runner: ToolRunner;
  idempotentCalls: IdempotentCalls | undefined;
  rateLimiter: ToolRateLimiter | undefined;
  /** Whether the tool's input shape accepts these arguments (a call it refuses never runs). */
  acceptsArguments(tool: string, args: unknown): boolean;
  decisionFor(tool: string, token: VerifiedToken): PolicyDecision;
  /** Checks a privileged call's Portcullis elevation live, when the endpoint's rule says so. */
  elevation: ReturnType<typeof elevationGate> | undefined;
}

/** A write call's idempotency claim; `started` once its tool began. */
export interface HeldClaim {
  claim: Claim;
  started: boolean;
}

/** One request on its way through the steps; each step fills in what the later ones need. */
export interface Exchange {
  request: IncomingMessage & { body?: unknown };
  response: ServerResponse;
  token?: VerifiedToken;
  /** The POSTed JSON-RPC message(s); absent for GET and DELETE. */
  messages?: JsonRpcMessages;
  held?: HeldClaim;
  callIds: CallIds;
}

/** A step answers the request and returns false, or returns true to pass it on. */
export type Step = (exchange: Exchange) => Promise<boolean> | boolean;

const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, Idempotency-Key';
const EXPOSED_HEADERS = `WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, ${REPLAYED_HEADER}`;
/** JSON-RPC server error used for rate limits; `data.status` 429 says which. */
const RATE_LIMITED = -32000;

/** Any origin may call (tokens, not cookies, authenticate); preflights are answered here. */
export const corsStep: Step = ({ request, response }) => {
  response.setHeader('Access-Control-Allow-Origin', '*');
  response.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  if (request.method !== 'OPTIONS') return true;
  response.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '86400',
  });
  response.end();
  return false;
};

/** A valid bearer token for this resource. */
export function authenticationStep(parts: EndpointParts): Step {
  // The first sign-in asks for every everyday (read and write) tool's scopes, so one consent covers
  // normal use: MCP SDK 1.x can never widen a grant it holds a refresh token for (it refreshes
  // instead of asking again). Privileged tools' scopes are left for their own step-up.
  const everydayScopes = [...new Set([...parts.policies.values()].filter((policy) => policy.risk !== 'privileged').flatMap((policy) => policy.scopes))];
  const settings = { verifier: parts.options.verifier, metadataUrl: parts.options.metadataUrl, challengeScopes: everydayScopes };
  return async (exchange) => {
    const result = await authenticateRequest(exchange.request, settings);
    if (!result.ok) {
      sendRefusal(exchange.response, result.refusal);
      return false;
    }
    exchange.token = result.token;
    return true;
  };
}

/** The JSON-RPC body of a POST, read once (or taken from a framework that parsed it already). */
export const bodyStep: Step = async (exchange) => {
  if (exchange.request.method !== 'POST') return true;
  let body: unknown;
  try {
    body = exchange.request.body !== undefined ? exchange.request.body : await readJsonBody(exchange.request);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    await settleUnreadRequest(exchange.request, exchange.response);
    sendJson(exchange.response, error.status, jsonRpcError(null, -32700, error.message));
    return false;
  }
  exchange.messages = parseJsonRpc(body);
  return true;
};

/** Answers 403 (missing scope) or 401 (sign-in too old) when a called tool is out of the token's reach. */
export function policyStep(parts: EndpointParts): Step {
  const { metadataUrl } = parts.options;
  return async ({ request, response, token, messages }) => {
    for (const { name: tool } of messages?.toolCalls ?? []) {
      const policy = parts.policies.get(tool);
      if (!policy) continue;
      let decision = parts.decisionFor(tool, token!);
      if (decision.allowed && parts.elevation && policy.requiresElevation) decision = await parts.elevation.decide(tool, policy, token!);
      if (decision.allowed) continue;
      await parts.audit.denied(tool, token!, decision);
      if (decision.reason === 'insufficient_scope') {
        if (parts.elevation && policy.requiresElevation) {
          await parts.elevation.askForStepUp(extractBearerToken({ authorization: request.headers.authorization }), token!, decision.requiredScopes);
        }
        const needed = [...new Set([...token!.scopes, ...decision.requiredScopes])];
        const description = decision.why ?? `${tool} needs ${decision.missingScopes.join(' ')}`;
        sendRefusal(response, {
          status: 403, headers: { 'www-authenticate': insufficientScopeChallenge({ resourceMetadata: metadataUrl, scope: needed, description }) },
          body: { error: 'insufficient_scope', error_description: description },
        });
      } else {
        const acrValues = decision.reason === 'stronger_sign_in_required' ? decision.acrValues : undefined;
        const description = acrValues
          ? `${tool} needs a sign-in of kind ${acrValues.join(' or ')}${decision.maxAgeSeconds === undefined ? '' : ` within the last ${decision.maxAgeSeconds} seconds`}`
          : `${tool} needs a sign-in within the last ${decision.maxAgeSeconds} seconds`;
        sendRefusal(response, {
          status: 401, headers: { 'www-authenticate': elevationChallenge({ resourceMetadata: metadataUrl, maxAgeSeconds: decision.maxAgeSeconds, acrValues, description }) },
          body: { error: 'insufficient_user_authentication', error_description: description },
        });
      }
      return false;
    }
    return true;
  };
}

/** Counts each call per user and tool; one over its tier's limit answers a JSON-RPC error with Retry-After. */
export function rateLimitStep(parts: EndpointParts): Step {
  const limiter = parts.rateLimiter;
  if (!limiter) return () => true;
  return async ({ response, token, messages }) => {
    const caller = createHash('sha256').update(`${token!.issuer}\n${token!.subject}`).digest('base64url');
    for (const call of messages?.toolCalls ?? []) {
      const policy = parts.policies.get(call.name);
      if (!policy) continue;
      let retryAfterSeconds: number | undefined;
      try {
        retryAfterSeconds = await limiter.hit(policy.rateLimit, caller, call.name);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        // Fail closed: a call that cannot be counted does not run.
        sendJson(response, 200, jsonRpcError(call.id, RATE_LIMITED, `rate-limit counters are unavailable, so ${call.name} was not run; retry shortly`, { reason: 'unavailable', status: 503 }));
        return false;
      }
      if (retryAfterSeconds === undefined) continue;
      const error = jsonRpcError(call.id, RATE_LIMITED, `too many calls of ${call.name}; retry in ${retryAfterSeconds} s`, { reason: 'rate_limited', status: 429, retryAfterSeconds });
      sendJson(response, 200, messages!.batch ? [error] : error, { 'retry-after': String(retryAfterSeconds) });
      return false;
    }
    return true;
  };
}

/** Replays or refuses keyed write calls; a call that may run holds a claim on its key. */
export function idempotencyStep(parts: EndpointParts): Step {
  const calls = parts.idempotentCalls;
  if (!calls) return () => true;
  return async (exchange) => {
    if (!exchange.messages) return true;
    const header = exchange.request.headers['idempotency-key'];
    const decision = await calls.decide(typeof header === 'string' && header !== '' ? header : undefined, exchange.token!, exchange.messages, parts.policies, parts.acceptsArguments);
    if (decision.kind === 'serve') {
      if (decision.claim) exchange.held = { claim: decision.claim, started: false };
      return true;
    }
    sendJson(exchange.response, 200, decision.message, decision.replayed ? { [REPLAYED_HEADER]: 'true' } : {});
    return false;
  };
}

/** Records every call before it runs; write and privileged calls run only once that is durable. */
export function auditStep(parts: EndpointParts): Step {
  return async (exchange) => {
    if (!exchange.messages) return true;
    const calls = await parts.audit.requested(exchange.messages, exchange.token!, (tool) => parts.policies.get(tool));
    if (calls.ok) {
      exchange.callIds = calls.ids;
      return true;
    }
    if (exchange.held) await parts.idempotentCalls!.records.release(exchange.held.claim);
    sendJson(exchange.response, 200, calls.errorResponse);
    return false;
  };
}
