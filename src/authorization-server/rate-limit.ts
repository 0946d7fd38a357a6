import type { Context } from 'koa';
import type { Store } from '../storage/index.ts';

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/**
 * One hit against a fixed-window counter in the Store, shared by every instance on that store.
 * Returns undefined while under the limit, else the seconds until the window resets.
 * Registration uses it now; limits for /token and sign-in can use it the same way.
 */
export async function hitRateLimit(store: Store, key: string, limit: RateLimit): Promise<number | undefined> {
  const counter = await store.increment(`ratelimit:${key}`, { ttlSeconds: limit.windowSeconds });
  if (counter.value <= limit.max) return undefined;
  return Math.max(1, Math.ceil((counter.expiresAtMs - Date.now()) / 1000));
}

/** 429 with Retry-After and an OAuth-style JSON error body. */
export function tooManyRequests(ctx: Context, retryAfterSeconds: number, description: string): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'temporarily_unavailable', error_description: description };
}
