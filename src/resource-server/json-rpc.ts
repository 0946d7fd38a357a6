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

export interface ToolCall {
  /** The JSON-RPC request id (absent on a notification). */
  id?: string | number;
  name: string;
  arguments: unknown;
}

/** Every `tools/call` request in a JSON-RPC message or batch. */
export function toolCalls(body: unknown): ToolCall[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap((message) => {
    if (!message || typeof message !== 'object') return [];
    const { method, params, id } = message as { method?: unknown; params?: { name?: unknown; arguments?: unknown }; id?: string | number };
    return method === 'tools/call' && typeof params?.name === 'string' ? [{ id, name: params.name, arguments: params.arguments }] : [];
  });
}

/** The tool names of every `tools/call` request in a JSON-RPC message or batch. */
export function calledTools(body: unknown): string[] {
  return toolCalls(body).map((call) => call.name);
}
