import type { Context } from 'koa';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Store } from '../../storage/index.ts';
import { StoreRateLimiter } from './store-rate-limiter.ts';

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/** A named limit on the Store; `hit` counts one request against a key. */
export class Limit {
  readonly name: string;
  readonly #limiter: StoreRateLimiter;
  readonly #onRefused: ((limit: string) => void) | undefined;

  constructor(store: Store, name: string, limit: RateLimit, onRefused?: (limit: string) => void) {
    this.name = name;
    this.#onRefused = onRefused;
    this.#limiter = new StoreRateLimiter(store, { keyPrefix: name, points: limit.max, duration: limit.windowSeconds });
  }

  /** Undefined while under the limit, else the seconds until the window resets. */
  async hit(key: string): Promise<number | undefined> {
    try {
      await this.#limiter.consume(key);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.#onRefused?.(this.name);
      return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    }
  }

  /** Seconds until the window resets when the key has used up its points, without counting a hit. */
  async exhaustedFor(key: string): Promise<number | undefined> {
    const state = await this.#limiter.get(key);
    if (!state || state.consumedPoints < this.#limiter.points) return undefined;
    this.#onRefused?.(this.name);
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

}

/** 429 with Retry-After and an OAuth-style JSON error body. */
export function tooManyRequests(ctx: Context, retryAfterSeconds: number, description: string): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'temporarily_unavailable', error_description: description };
}
