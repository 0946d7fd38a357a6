import type { Context, Middleware } from 'koa';
import type { Logger } from '../log/index.ts';
import { StoreUnavailableError } from '../storage/index.ts';
import { renderErrorPage } from './interactions/views.ts';
import { isStoreUnavailable, RETRY_AFTER_SECONDS, UNAVAILABLE_DESCRIPTION } from './store-unavailable.ts';

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
      if (isStoreUnavailable(error)) {
        if (error instanceof StoreUnavailableError) log.error({ err: { name: error.name, message: error.message }, path: ctx.path }, 'store unavailable');
        temporarilyUnavailable(ctx);
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

/** 503 while the store is down: an error page for browsers, OAuth's `temporarily_unavailable` JSON otherwise. */
export function temporarilyUnavailable(ctx: Context): void {
  ctx.status = 503;
  ctx.set('Retry-After', RETRY_AFTER_SECONDS);
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    ctx.body = renderErrorPage('temporarily_unavailable', UNAVAILABLE_DESCRIPTION);
  } else {
    ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_DESCRIPTION };
  }
}
