import type { Context } from 'koa';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { valueOf, type Live } from '../../settings/index.ts';
import type { Store } from '../../storage/index.ts';
import { StoreRateLimiter } from './store-rate-limiter.ts';

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/** A named limit on the Store; `hit` counts one request against a key. A live limit is read at each request. */
export class Limit {
  readonly name: string;
  readonly #store: Store;
  readonly #limit: Live<RateLimit>;
  readonly #onRefused: ((limit: string) => void) | undefined;
  #built: { max: number; windowSeconds: number; limiter: StoreRateLimiter } | undefined;

  constructor(store: Store, name: string, limit: Live<RateLimit>, onRefused?: (limit: string) => void) {
    this.name = name;
    this.#store = store;
    this.#limit = limit;
    this.#onRefused = onRefused;
  }

  /** Counters already running keep their window; a changed limit counts against them at once. */
  get #limiter(): StoreRateLimiter {
    const { max, windowSeconds } = valueOf(this.#limit);
    if (this.#built?.max !== max || this.#built.windowSeconds !== windowSeconds) {
      this.#built = { max, windowSeconds, limiter: new StoreRateLimiter(this.#store, { keyPrefix: this.name, points: max, duration: windowSeconds }) };
    }
    return this.#built.limiter;
  }

  /** Undefined while under the limit, else the seconds until the window resets. */
  async hit(key: string): Promise<number | undefined> {
    const limiter = this.#limiter;
    try {
      await limiter.consume(key);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.#onRefused?.(this.name);
      return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    }
  }

  /** Seconds until the window resets when the key has used up its points, without counting a hit. */
  async exhaustedFor(key: string): Promise<number | undefined> {
    const limiter = this.#limiter;
    const state = await limiter.get(key);
    if (!state || state.consumedPoints < limiter.points) return undefined;
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
