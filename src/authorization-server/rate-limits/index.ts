import type { Context } from 'koa';
import { valueOf, type Live } from '../../settings/index.ts';
import type { Counter, Store } from '../../storage/index.ts';

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/**
 * A named limit on the Store; `hit` counts one request against a key. Each key has a fixed
 * window that starts with its first hit, counted by the Store's atomic increment, so every
 * instance on one store (Redis) shares each limit and windows run on the store's clock. A live
 * limit is read at each request: counters already running keep their window, and a changed
 * limit counts against them at once.
 */
export class Limit {
  readonly name: string;
  readonly #store: Store;
  readonly #limit: Live<RateLimit>;
  readonly #onRefused: ((limit: string) => void) | undefined;
  readonly #keyPrefix: string;

  constructor(store: Store, name: string, limit: Live<RateLimit>, onRefused?: (limit: string) => void) {
    this.name = name;
    this.#store = store;
    this.#limit = limit;
    this.#onRefused = onRefused;
    this.#keyPrefix = `ratelimit:${name}:`;
  }

  /** Undefined while under the limit, else the seconds until the window resets. */
  async hit(key: string): Promise<number | undefined> {
    const { max, windowSeconds } = valueOf(this.#limit);
    const counter = await this.#store.increment(this.#keyPrefix + key, { ttlSeconds: windowSeconds, batched: true });
    return counter.value > max ? this.#refused(counter) : undefined;
  }

  /** Seconds until the window resets when the key has used up its points, without counting a hit. */
  async exhaustedFor(key: string): Promise<number | undefined> {
    const { max } = valueOf(this.#limit);
    const record = await this.#store.get<number>(this.#keyPrefix + key);
    if (!record || typeof record.value !== 'number' || record.value < max) return undefined;
    return this.#refused({ value: record.value, expiresAtMs: (record.expiresAt ?? 0) * 1000 });
  }

  #refused(counter: Counter): number {
    this.#onRefused?.(this.name);
    return Math.max(1, Math.ceil((counter.expiresAtMs - Date.now()) / 1000));
  }
}

/** 429 with Retry-After and an OAuth-style JSON error body. */
export function tooManyRequests(ctx: Context, retryAfterSeconds: number, description: string): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'temporarily_unavailable', error_description: description };
}
