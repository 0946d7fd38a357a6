import { isPrimaryReply, replyError, type PrimaryOperation, type PrimaryRequest } from './primary-requests.ts';
import { StoreUnavailableError } from './store.ts';

/** How long a worker waits for the primary's answer before the store counts as unavailable. */
export const PRIMARY_TIMEOUT_MS = 5_000;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A worker's calls to the primary's store over a message channel (node:cluster IPC in
 * production). `send` hands a request to the channel and reports a failure to send through its
 * callback; the channel hands every message it receives to `receive`, and calls `close` when it
 * is gone. Calls that cannot be answered fail with StoreUnavailableError, never hang.
 */
export class PrimaryClient {
  readonly #send: (request: PrimaryRequest, failed: (error: Error | null) => void) => void;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  constructor(send: (request: PrimaryRequest, failed: (error: Error | null) => void) => void, timeoutMs = PRIMARY_TIMEOUT_MS) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
  }

  call(operation: PrimaryOperation, key: string, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(unreachable('the channel to the primary is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(id, unreachable(`no answer from the primary within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#send({ portcullisStore: 'request', id, operation, key, args }, (error) => {
          if (error) this.#settle(id, unreachable(`cannot reach the primary: ${error.message}`));
        });
      } catch (error) {
        this.#settle(id, unreachable(`cannot reach the primary: ${(error as Error).message}`));
      }
    });
  }

  /** A message from the channel; anything that is not an answer to this client is ignored. */
  receive(message: unknown): void {
    if (!isPrimaryReply(message)) return;
    if ('error' in message) this.#settle(message.id, replyError(message.error));
    else this.#settle(message.id, undefined, message.result);
  }

  /** The channel is gone: every call waiting and every later one fails. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) this.#settle(id, unreachable('the channel to the primary closed'));
  }

  #settle(id: number, error: Error | undefined, result?: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(result);
  }
}

function unreachable(what: string): StoreUnavailableError {
  return new StoreUnavailableError(`embedded store unavailable (cluster primary): ${what}`);
}
