import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { Logger } from '../log/index.ts';
import { StoreUnavailableError } from '../storage/index.ts';

export const UNAVAILABLE_DESCRIPTION = 'the service cannot reach its store; try again shortly';
export const RETRY_AFTER_SECONDS = '5';

/** A StoreUnavailableError itself, or a protocol error that wraps one. */
export function isStoreUnavailable(error: unknown): boolean {
  return error instanceof StoreUnavailableError || (error as { cause?: unknown } | null)?.cause instanceof StoreUnavailableError;
}

/**
 * Calls into the store on oidc-provider's behalf. oidc-provider turns any error it does not know
 * into a 500 `server_error`; an outage becomes its own `temporarily_unavailable` error with status
 * 503 instead, which it renders as OAuth JSON, as an error page, or as a redirect to the client.
 */
export async function forProvider<R>(log: Logger, call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    log.error({ err: { name: error.name, message: error.message } }, 'store unavailable');
    const unavailable = new errors.TemporarilyUnavailable(UNAVAILABLE_DESCRIPTION, { cause: error });
    // oidc-provider shows the error of an exposed error only; 5xx ones are not exposed by default.
    Object.assign(unavailable, { status: 503, statusCode: 503, expose: true });
    throw unavailable;
  }
}

/** Tells clients when to come back after oidc-provider answered an outage with 503. */
export const retryAfterOutage: Middleware = async (ctx, next) => {
  await next();
  if (ctx.status === 503) ctx.set('Retry-After', RETRY_AFTER_SECONDS);
};
