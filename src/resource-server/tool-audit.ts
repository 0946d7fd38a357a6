import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditSink } from '../audit/events.ts';
import { canonicalHash } from './idempotency.ts';
import { jsonRpcError, type JsonRpcMessages } from './json-rpc.ts';
import { elevationClaim } from './elevation.ts';
import type { PolicyDecision, ToolPolicy } from './policy.ts';
import type { VerifiedToken } from './verified-token.ts';

/** JSON-RPC id -> the call id that ties a call's `tool.requested` to its `tool.executed`. */
export type CallIds = Map<string | number, string>;

export interface ToolAudit {
  /** Records every tools/call in the message; write and privileged calls must be durable or none runs. */
  requested(messages: JsonRpcMessages, token: VerifiedToken, policyOf: (tool: string) => ToolPolicy | undefined): Promise<{ ok: true; ids: CallIds } | { ok: false; errorResponse: unknown }>;
  denied(tool: string, token: VerifiedToken, decision: Exclude<PolicyDecision, { allowed: true }>): Promise<void>;
  executed(tool: string, token: VerifiedToken, call: string | undefined, outcome: string, durationMs: number): Promise<void>;
  /** A retry answered with the stored result of an idempotent call; the tool did not run again. */
  replayed(tool: string, token: VerifiedToken, argsSha256: string): Promise<void>;
}

/** JSON-RPC "internal error": the server could not record the call, so it did not run it. */
const AUDIT_UNAVAILABLE = -32603;

/** The audit events of the MCP endpoint. Callers are named by token subject and client; arguments only by hash. */
export function toolAudit(sink: AuditSink, onError: ((error: Error) => void) | undefined): ToolAudit {
  const bestEffort = async (event: AuditEvent) => {
    try {
      await sink.append(event);
    } catch (error) {
      onError?.(error as Error);
    }
  };
  const caller = (token: VerifiedToken) => ({ subject: token.subject, client: token.clientId });

  return {
    async requested(messages, token, policyOf) {
      const ids: CallIds = new Map();
      const durable: Array<Promise<unknown>> = [];
      const failedIds: Array<string | number | null> = [];
      for (const call of messages.toolCalls) {
        const policy = policyOf(call.name);
        if (!policy) continue;
        const id = randomUUID();
        if (call.id !== undefined) ids.set(call.id, id);
        const elevation = policy.requiresElevation ? elevationFields(token) : {};
        const events: AuditEvent[] = [{ type: 'tool.requested', ...caller(token), tool: call.name, call: id, risk: policy.risk, args_sha256: argumentsHash(call.arguments), ...elevation }];
        if (policy.requiresElevation) events.push({ type: 'tool.elevation_used', ...caller(token), tool: call.name, call: id, auth_time: token.claims.auth_time, ...elevation });
        for (const event of events) {
          // A read tool does not wait for its record; appends keep their order, so it still precedes the outcome.
          if (policy.risk === 'read') void bestEffort(event);
          else durable.push(sink.append(event).catch((error: unknown) => { onError?.(error as Error); failedIds.push(call.id ?? null); }));
        }
      }
      await Promise.all(durable);
      if (failedIds.length === 0) return { ok: true, ids };
      const errors = [...new Set(failedIds)].map((id) => jsonRpcError(id, AUDIT_UNAVAILABLE, 'the audit log is unavailable, so the tool did not run; try again shortly'));
      return { ok: false, errorResponse: messages.batch ? errors : errors[0] };
    },
    denied: (tool, token, decision) => bestEffort({
      type: 'tool.denied', ...caller(token), tool, reason: decision.reason,
      ...(decision.reason === 'insufficient_scope' ? { missing_scopes: decision.missingScopes, ...(decision.why ? { why: decision.why } : {}) } : { max_age: decision.maxAgeSeconds }),
      ...(decision.reason === 'stronger_sign_in_required' ? { acr_values: decision.acrValues } : {}),
    }),
    replayed: (tool, token, argsSha256) => bestEffort({ type: 'tool.idempotent_replay', ...caller(token), tool, args_sha256: argsSha256 }),
    executed: (tool, token, call, outcome, durationMs) => bestEffort({
      type: 'tool.executed', ...caller(token), tool, call, outcome, duration_ms: Math.round(durationMs * 1000) / 1000,
    }),
  };
}

/** Which elevation a privileged call used, and why it was granted. */
function elevationFields(token: VerifiedToken): Record<string, unknown> {
  const claim = elevationClaim(token);
  return claim ? { elevation: claim.id, elevation_reason: claim.reason, ...(claim.approver ? { elevation_approver: claim.approver } : {}) } : {};
}

/**
 * SHA-256 (hex) of the canonical JSON of a call's arguments.
 *
 * @example
 * argumentsHash({ text: 'hello' }) === argumentsHash({ text: 'hello' }); // true, whatever the key order
 */
export function argumentsHash(args: unknown): string {
  return canonicalHash(args ?? {});
}
