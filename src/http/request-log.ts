import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Fields a handler can add to its request's log line (`ctx.state.logFields`). */
export type RequestLogFields = Record<string, string | number | boolean | undefined>;

/**
 * One JSON log line per request, when its response is finished: request id, method, path (never
 * the query string, which can carry codes), status, duration and what handlers added (client,
 * subject, event). The id comes from a well-formed `X-Request-Id` (a proxy's), else a new UUID,
 * and is sent back in the response.
 */
export function requestLogging(log: Logger, onFinished?: (line: { method: string; path: string; status: number; seconds: number }) => void): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = ACCEPTED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    // Read now: once the socket is gone (a client that hung up), koa can no longer tell.
    const ip = ctx.ip;
    const fields: RequestLogFields = {};
    ctx.state.logFields = fields;
    let logged = false;
    const done = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = aborted ? 499 : ctx.res.statusCode;
      const path = ctx.path;
      onFinished?.({ method: ctx.method, path, status, seconds });
      const level = status >= 500 ? 'error' : 'info';
      if (log.isLevelEnabled(level)) log[level]({ reqId: requestId, method: ctx.method, path, status, ms: Math.round(seconds * 1000), ip, ...fields }, 'request');
    };
    ctx.res.once('finish', () => done(false));
    ctx.res.once('close', () => done(!ctx.res.writableFinished));
    await next();
  };
}
