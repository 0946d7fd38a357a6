import type Koa from 'koa';
import type { Logger } from 'pino';

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/**
 * Koa reports a response it could not finish as an app `error` and, without a listener, prints
 * the stack. Most are the client's doing (it hung up, or sent bytes that are not HTTP) and were
 * answered already or have nobody to answer: one plain line. Anything else is logged as an
 * error, still without the stack (logs carry no stack traces).
 */
export function logUnfinishedResponses(app: Koa, log: Logger): void {
  app.on('error', (error: Error & { code?: string; headerSent?: boolean }, ctx?: Koa.Context) => {
    const fields = { reason: error.message, errno: error.code, path: ctx?.path };
    if (error.headerSent || CLIENT_GONE.has(error.code ?? '') || error.code?.startsWith('HPE_')) log.info(fields, 'response not completed');
    else log.error(fields, 'request failed');
  });
}
