import type { Context, Middleware } from 'koa';
import type { Logger } from '../log/index.ts';
import { StoreUnavailableError } from '../storage/index.ts';

/** RFC 9457 problem+json for our own endpoints. */
export function problem(ctx: Context, status: number, title: string, detail?: string, extra: Record<string, unknown> = {}): void {
  ctx.status = status;
  ctx.type = 'application/problem+json';
  ctx.body = { type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...extra };
}

/** Unexpected errors become a problem document; the stack goes to the log, never the response. */
export function problemBoundary(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        log.error({ err: { name: error.name, message: error.message }, path: ctx.path }, 'store unavailable');
        problem(ctx, 503, 'Service Unavailable', 'the store is unavailable; try again shortly');
        ctx.set('Retry-After', '5');
        return;
      }
      const status = (error as { status?: number }).status;
      if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
        problem(ctx, status, (error as Error).message);
        return;
      }
      log.error({ err: error, path: ctx.path }, 'unhandled error');
      problem(ctx, 500, 'Internal Server Error');
    }
  };
}
