import type { IncomingMessage } from 'node:http';
import { BodyError, readBody } from '../http/body.ts';

export { BodyError };

const LIMIT_BYTES = 4 * 1024 * 1024;

/** Reads a JSON request body (at most 4 MiB); undefined for an empty body. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request, LIMIT_BYTES);
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BodyError(400, 'the request body is not valid JSON');
  }
}

export type JsonRpcId = string | number;

export interface ToolCall {
  /** The JSON-RPC request id (absent on a notification). */
  id?: JsonRpcId;
  name: string;
  arguments: unknown;
  /** `params._meta`, where a call may carry its idempotency key. */
  meta: unknown;
}

/** What the MCP endpoint needs to know of a POSTed JSON-RPC message or batch, read once. */
export interface JsonRpcMessages {
  /** The body as the client sent it, handed on to the MCP transport. */
  body: unknown;
  batch: boolean;
  /** Every `tools/call` request, in order. */
  toolCalls: ToolCall[];
}

/** The one reading of a JSON-RPC body the endpoint's steps share. */
export function parseJsonRpc(body: unknown): JsonRpcMessages {
  const batch = Array.isArray(body);
  const messages: unknown[] = batch ? body : [body];
  const toolCalls = messages.flatMap((message): ToolCall[] => {
    if (!message || typeof message !== 'object') return [];
    const { method, params, id } = message as { method?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: unknown }; id?: unknown };
    if (method !== 'tools/call' || typeof params?.name !== 'string') return [];
    const call: ToolCall = { name: params.name, arguments: params.arguments, meta: params._meta };
    if (typeof id === 'string' || typeof id === 'number') call.id = id;
    return [call];
  });
  return { body, batch, toolCalls };
}

/** A JSON-RPC error response. */
export function jsonRpcError(id: JsonRpcId | null | undefined, code: number, message: string, data?: Record<string, unknown>): Record<string, unknown> {
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message, ...(data ? { data } : {}) } };
}
