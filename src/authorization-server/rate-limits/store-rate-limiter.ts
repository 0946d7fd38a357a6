import { createRequire } from 'node:module';
import { RateLimiterRes, type RateLimiterStoreAbstract as StoreAbstract } from 'rate-limiter-flexible';
import type { Counter, Store } from '../../storage/index.ts';

// The package declares this base class for custom stores but its entry point does not export it.
const RateLimiterStoreAbstract = createRequire(import.meta.url)('rate-limiter-flexible/lib/RateLimiterStoreAbstract.js') as typeof StoreAbstract;

/**
 * rate-limiter-flexible on the Store seam: points are counted with the Store's atomic
 * fixed-window increment, so every instance on one store (Redis) shares each limit, and windows
 * run on the store's clock. Blocking and rewards are not used here, so they are not supported.
 */
export class StoreRateLimiter extends RateLimiterStoreAbstract {
  readonly #store: Store;

  constructor(store: Store, options: { keyPrefix: string; points: number; duration: number }) {
    super({ storeClient: store, keyPrefix: `ratelimit:${options.keyPrefix}`, points: options.points, duration: options.duration });
    this.#store = store;
  }

  async _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<Counter> {
    if (forceExpire || points < 1 || msDuration < 1) throw new RangeError('StoreRateLimiter counts consumed points only');
    return this.#store.increment(rlKey, { by: points, ttlSeconds: Math.ceil(msDuration / 1000) });
  }

  async _get(rlKey: string): Promise<Counter | null> {
    const record = await this.#store.get<number>(rlKey);
    if (!record || typeof record.value !== 'number') return null;
    return { value: record.value, expiresAtMs: (record.expiresAt ?? 0) * 1000 };
  }

  async _delete(rlKey: string): Promise<boolean> {
    await this.#store.delete(rlKey);
    return true;
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, counter: Counter): RateLimiterRes {
    const msBeforeNext = Math.max(0, counter.expiresAtMs - Date.now());
    return new RateLimiterRes(Math.max(this.points - counter.value, 0), msBeforeNext, counter.value, counter.value === changedPoints);
  }
}
