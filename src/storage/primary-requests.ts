import { StoreUnavailableError, type Store } from './store.ts';

/**
 * The messages between cluster workers and the primary that owns their counters (see
 * primary-counted-store.ts): a worker asks, the primary runs the call on its own store and answers.
 */
export type PrimaryOperation = 'increment' | 'get' | 'put' | 'putIfAbsent' | 'consume' | 'delete';

export interface PrimaryRequest {
  portcullisStore: 'request';
  id: number;
  operation: PrimaryOperation;
  key: string;
  /** The call's arguments after the key. */
  args: unknown[];
}

export type PrimaryReply = { portcullisStore: 'reply'; id: number } & (
  | { result?: unknown }
  | { error: { kind: ErrorKind; message: string } }
);

type ErrorKind = 'unavailable' | 'type' | 'range' | 'other';

const OPERATIONS = new Set<string>(['increment', 'get', 'put', 'putIfAbsent', 'consume', 'delete']);

export function isPrimaryRequest(message: unknown): message is PrimaryRequest {
  const request = message as Partial<PrimaryRequest> | null;
  return typeof request === 'object' && request !== null && request.portcullisStore === 'request'
    && typeof request.id === 'number' && typeof request.key === 'string' && Array.isArray(request.args)
    && OPERATIONS.has(request.operation as string);
}

export function isPrimaryReply(message: unknown): message is PrimaryReply {
  const reply = message as Partial<PrimaryReply> | null;
  return typeof reply === 'object' && reply !== null && reply.portcullisStore === 'reply' && typeof reply.id === 'number';
}

/** Runs a worker's call on the primary's store; failures travel back as their kind and message. */
export async function answerRequest(store: Store, request: PrimaryRequest): Promise<PrimaryReply> {
  const { id, operation, key, args } = request;
  try {
    const call = store[operation] as (key: string, ...rest: unknown[]) => Promise<unknown>;
    return { portcullisStore: 'reply', id, result: await call.call(store, key, ...args) };
  } catch (error) {
    return { portcullisStore: 'reply', id, error: { kind: kindOf(error), message: (error as Error)?.message ?? String(error) } };
  }
}

/** The worker's side of a failed call: the same class the primary's store threw. */
export function replyError(error: { kind: ErrorKind; message: string }): Error {
  switch (error.kind) {
    case 'unavailable': return new StoreUnavailableError(error.message);
    case 'type': return new TypeError(error.message);
    case 'range': return new RangeError(error.message);
    default: return new Error(error.message);
  }
}

function kindOf(error: unknown): ErrorKind {
  if (error instanceof StoreUnavailableError) return 'unavailable';
  if (error instanceof TypeError) return 'type';
  if (error instanceof RangeError) return 'range';
  return 'other';
}
