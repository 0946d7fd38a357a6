import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StoreUnavailableError } from '../storage/store.ts';
import { IDEMPOTENCY_KEY_META, IdempotencyKeyError, idempotencyKeyOf } from './idempotency-key.ts';
import { canonicalHash, IdempotencyRecords, type Claim, type IdempotencyOptions, type RefusalReason } from './idempotency.ts';
import { jsonRpcError, type JsonRpcId, type JsonRpcMessages, type ToolCall } from './json-rpc.ts';
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

/** What the MCP endpoint does with a request: serve it, serve it under a claim, or answer it with this message. */
export type IdempotencyDecision =
  | { kind: 'serve'; claim?: Claim }
  | { kind: 'answer'; message: Record<string, unknown>; replayed?: boolean };

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
    header: string | undefined, token: VerifiedToken, messages: JsonRpcMessages, policies: Map<string, ToolPolicy>, acceptsArguments: (tool: string, args: unknown) => boolean,
  ): Promise<IdempotencyDecision> {
    const isWrite = (call: ToolCall) => (policies.get(call.name)?.risk ?? 'read') !== 'read';
    if (messages.batch) {
      const keyed = Boolean(header) || this.#required || this.#deriveKeys || messages.toolCalls.some(keyInMeta);
      if (!keyed || !messages.toolCalls.some(isWrite)) return { kind: 'serve' };
      return this.#refuse(null, 'batch', 'write tools with idempotency keys take one tools/call per request, not a JSON-RPC batch');
    }
    const call = messages.toolCalls[0];
    if (!call || call.id === undefined || !isWrite(call)) return { kind: 'serve' };

    let key: string | undefined;
    try {
      key = idempotencyKeyOf(header, call.meta);
    } catch (error) {
      if (error instanceof IdempotencyKeyError) return this.#refuse(call.id, 'key_invalid', error.message);
      throw error;
    }
    if (key === undefined && this.#deriveKeys) key = `derived:${canonicalHash(call.arguments ?? {})}`;
    if (key === undefined) {
      if (!this.#required) return { kind: 'serve' };
      return this.#refuse(call.id, 'key_required', `${call.name} changes state: send an idempotency key in the Idempotency-Key header or in params._meta["idempotency-key"]`);
    }

    if (!acceptsArguments(call.name, call.arguments)) return { kind: 'serve' };
    const policy = policies.get(call.name)!;
    const scope = { issuer: token.issuer, subject: token.subject, clientId: token.clientId, tool: call.name, key };
    let admission;
    try {
      admission = await this.records.admit(scope, call.arguments, policy.timeoutMs);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      return this.#refuse(call.id, 'unavailable', `idempotency records are unavailable, so ${call.name} was not run; retry shortly`);
    }
    if (admission.kind === 'run') return { kind: 'serve', claim: admission.claim };
    const who = { tool: call.name, subject: token.subject, client: token.clientId };
    if (admission.kind === 'replay') {
      this.#log?.info({ event: 'idempotent_replay', ...who }, 'replayed the stored result of an idempotent tool call');
      await this.#audit.replayed(call.name, token, canonicalHash(call.arguments ?? {}));
      return { kind: 'answer', message: { jsonrpc: '2.0', id: call.id, result: markReplayed(admission.result) }, replayed: true };
    }
    this.#log?.info({ event: 'idempotency_refused', reason: admission.reason, ...who }, 'refused an idempotent tool call');
    return this.#refuse(call.id, admission.reason, REFUSAL_MESSAGES[admission.reason](call.name));
  }

  #refuse(id: JsonRpcId | null, reason: Refusal, message: string): IdempotencyDecision {
    const { code, status } = REFUSALS[reason];
    return { kind: 'answer', message: jsonRpcError(id, code, message, { reason, status }) };
  }
}

const REFUSAL_MESSAGES: Record<RefusalReason, (tool: string) => string> = {
  key_reused: (tool) => `this idempotency key was already used for ${tool} with different arguments; use a new key for a new request`,
  in_progress: (tool) => `a call of ${tool} with this idempotency key is still running; retry later`,
  outcome_unknown: (tool) => `a call of ${tool} with this idempotency key stopped before it finished, so whether it took effect is unknown; it is not run again with this key: check the state, then use a new key`,
};

function markReplayed(result: CallToolResult): CallToolResult {
  return { ...result, _meta: { ...result._meta, [REPLAYED_META]: true } };
}

function keyInMeta(call: ToolCall): boolean {
  return Boolean(call.meta && typeof call.meta === 'object' && IDEMPOTENCY_KEY_META in call.meta);
}
