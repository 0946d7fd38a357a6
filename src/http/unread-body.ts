import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Middleware } from 'koa';

/** How much of a refused body is read and discarded before the connection closes. */
const DRAIN_BYTES = 8 * 1024 * 1024;
const DRAIN_MS = 2_000;

/**
 * Koa middleware, outermost: a response going out before its request body was read in full (a
 * refused upload, a form of the wrong type) says `Connection: close`, and the rest of the body is
 * read and discarded first, within bounds. The client then sees the answer instead of a reset,
 * and never sends its next request on a connection whose unread bytes would be parsed as one.
 */
export function closeOnUnreadBody(): Middleware {
  return async (ctx, next) => {
    await next();
    await settleUnreadBody(ctx);
  };
}

/** The same, for a handler that answers by itself. */
export async function settleUnreadBody(ctx: Context): Promise<void> {
  await settleUnreadRequest(ctx.req, ctx.res);
}

/** The same on node:http, for handlers outside Koa: call it before writing the answer. */
export async function settleUnreadRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.complete || response.headersSent) return;
  response.setHeader('Connection', 'close');
  await discard(request);
}

/** Resolves when the body has ended, the request closed, or the bounds ran out; the stream keeps flowing into nothing. */
function discard(request: IncomingMessage): Promise<void> {
  if (request.readableEnded || request.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const stop = () => {
      clearTimeout(timer);
      request.off('data', count).off('end', stop).off('close', stop).off('error', stop);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_BYTES) stop();
    };
    const timer = setTimeout(stop, DRAIN_MS);
    request.on('data', count).on('end', stop).on('close', stop).on('error', stop);
    request.resume();
  });
}
