import type Koa from 'koa';
import type { Logger } from 'pino';

/**
 * Koa reports a response it could not finish (the client hung up, sent bytes that are not HTTP)
 * as an app `error` and, without a listener, prints the stack. These are the client's doing and
 * were already answered or are gone: one plain log line, no stack.
 */
export function logUnfinishedResponses(app: Koa, log: Logger): void {
  app.on('error', (error: Error & { code?: string }) => {
    log.info({ reason: error.message, errno: error.code }, 'response not completed');
  });
}
