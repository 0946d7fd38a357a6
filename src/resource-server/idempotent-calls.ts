import type { Context } from 'koa';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StoreUnavailableError } from '../storage/index.ts';
import { IDEMPOTENCY_KEY_META, IdempotencyKeyError, idempotencyKeyOf } from './idempotency-key.ts';
import { canonicalHash, IdempotencyRecords, type Claim, type IdempotencyOptions, type RefusalReason } from './idempotency.ts';
import type { ToolPolicy } from './policy.ts';
import type { ToolAudit } from './tool-audit.ts';
import type { VerifiedToken } from './verified-token.ts';

/** Marks a replayed result in `_meta`; the HTTP response also says `Idempotent-Replayed: true`. */
export const REPLAYED_META = 'io.portcullis/idempotent-replayed';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

export interface ResourceServerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * The refusals a keyed write call can get, as JSON-RPC errors. `data.reason` is stable for
 * clients to act on; `data.status` is the HTTP status the Idempotency-Key draft gives the case.
 */
type Refusal = RefusalReason | 'key_invalid' | 'key_required' | 'batch' | 'unavailable';
const REFUSALS: Record<Refusal, { code: number; status: number }> = {
  key_invalid: { code: -32602, status: 400 },
  key_required: { code: -32602, status: 400 },
  batch: { code: -32600, status: 400 },
  key_reused: { code: -32602, status: 422 },
  in_progress: { code: -32000, status: 409 },
  outcome_unknown: { code: -32000, status: 409 },
  unavailable: { code: -32000, status: 503 },
};

interface ToolCallRequest {
  id: string | number;
  name: string;
  args: unknown;
  meta: unknown;
}

/** What the MCP endpoint does with a request: serve it, serve it under a claim, or nothing more (answered). */
export type IdempotencyDecision = { kind: 'serve'; claim?: Claim } | { kind: 'answered' };

/**
 * Applies idempotency keys to `tools/call` requests of write and privileged tools before the MCP
 * server sees them: refusals and replays are answered here; a claimed call is served and its
 * result stored by the tool wrapper (see mcp.ts).
 */
export class IdempotentCalls {
  readonly records: IdempotencyRecords;
  readonly #required: boolean;
  readonly #deriveKeys: boolean;
  readonly #audit: ToolAudit;
  readonly #log: ResourceServerLog | undefined;

  constructor(options: IdempotencyOptions, audit: ToolAudit, log?: ResourceServerLog) {
    this.records = new IdempotencyRecords(options);
    this.#audit = audit;
    this.#required = options.required ?? false;
    this.#deriveKeys = options.deriveKeys ?? false;
    this.#log = log;
  }

  /**
   * `acceptsArguments` is the tool's input check: a call it refuses never runs, so it is served
   * without a claim and the MCP server answers the error.
   */
  async decide(
    ctx: Context, token: VerifiedToken, body: unknown, policies: Map<string, ToolPolicy>, acceptsArguments: (tool: string, args: unknown) => boolean,
  ): Promise<IdempotencyDecision> {
    const header = ctx.get('Idempotency-Key') || undefined;
    const isWrite = (message: unknown) => {
      const call = toolCall(message);
      return call !== undefined && (policies.get(call.name)?.risk ?? 'read') !== 'read';
    };
    if (Array.isArray(body)) {
      const keyed = Boolean(header) || this.#required || this.#deriveKeys || body.some(keyInMeta);
      if (!keyed || !body.some(isWrite)) return { kind: 'serve' };
      return this.#refuse(ctx, null, 'batch', 'write tools with idempotency keys take one tools/call per request, not a JSON-RPC batch');
    }
    const call = toolCall(body);
    if (!call || !isWrite(body)) return { kind: 'serve' };

    let key: string | undefined;
    try {
      key = idempotencyKeyOf(header, call.meta);
    } catch (error) {
      if (error instanceof IdempotencyKeyError) return this.#refuse(ctx, call.id, 'key_invalid', error.message);
      throw error;
    }
    if (key === undefined && this.#deriveKeys) key = `derived:${canonicalHash(call.args ?? {})}`;
    if (key === undefined) {
      if (!this.#required) return { kind: 'serve' };
      return this.#refuse(ctx, call.id, 'key_required', `${call.name} changes state: send an idempotency key in the Idempotency-Key header or in params._meta["idempotency-key"]`);
    }

    if (!acceptsArguments(call.name, call.args)) return { kind: 'serve' };
    const policy = policies.get(call.name)!;
    const scope = { issuer: token.issuer, subject: token.subject, clientId: token.clientId, tool: call.name, key };
    let admission;
    try {
      admission = await this.records.admit(scope, call.args, policy.timeoutMs);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      return this.#refuse(ctx, call.id, 'unavailable', `idempotency records are unavailable, so ${call.name} was not run; retry shortly`);
    }
    if (admission.kind === 'run') return { kind: 'serve', claim: admission.claim };
    const who = { tool: call.name, subject: token.subject, client: token.clientId };
    if (admission.kind === 'replay') {
      this.#log?.info({ event: 'idempotent_replay', ...who }, 'replayed the stored result of an idempotent tool call');
      await this.#audit.replayed(call.name, token, canonicalHash(call.args ?? {}));
      ctx.set(REPLAYED_HEADER, 'true');
      respond(ctx, { jsonrpc: '2.0', id: call.id, result: markReplayed(admission.result) });
      return { kind: 'answered' };
    }
    this.#log?.info({ event: 'idempotency_refused', reason: admission.reason, ...who }, 'refused an idempotent tool call');
    return this.#refuse(ctx, call.id, admission.reason, REFUSAL_MESSAGES[admission.reason](call.name));
  }

  #refuse(ctx: Context, id: string | number | null, reason: Refusal, message: string): IdempotencyDecision {
    const { code, status } = REFUSALS[reason];
    respond(ctx, { jsonrpc: '2.0', id, error: { code, message, data: { reason, status } } });
    return { kind: 'answered' };
  }
}

const REFUSAL_MESSAGES: Record<RefusalReason, (tool: string) => string> = {
  key_reused: (tool) => `this idempotency key was already used for ${tool} with different arguments; use a new key for a new request`,
  in_progress: (tool) => `a call of ${tool} with this idempotency key is still running; retry later`,
  outcome_unknown: (tool) => `a call of ${tool} with this idempotency key stopped before it finished, so whether it took effect is unknown; it is not run again with this key: check the state, then use a new key`,
};

function respond(ctx: Context, message: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = message;
}

function markReplayed(result: CallToolResult): CallToolResult {
  return { ...result, _meta: { ...result._meta, [REPLAYED_META]: true } };
}

function toolCall(message: unknown): ToolCallRequest | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const { method, params, id } = message as { method?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: unknown }; id?: unknown };
  if (method !== 'tools/call' || typeof params?.name !== 'string') return undefined;
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  return { id, name: params.name, args: params.arguments, meta: params._meta };
}

function keyInMeta(message: unknown): boolean {
  const meta = toolCall(message)?.meta;
  return Boolean(meta && typeof meta === 'object' && IDEMPOTENCY_KEY_META in meta);
}
