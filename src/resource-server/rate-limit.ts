import type { Store } from '../storage/store.ts';
import type { RateLimitTier } from './policy.ts';

export interface RateLimitWindow {
  /** Calls allowed per caller and tool within one window. */
  limit: number;
  windowSeconds: number;
}

export interface ToolRateLimitOptions {
  /** Where the counters live; every instance on one store counts together. */
  store: Store;
  /** Override the tiers' windows; defaults: standard 120 calls a minute, strict 20 calls a minute. */
  tiers?: Partial<Record<Exclude<RateLimitTier, 'none'>, RateLimitWindow>>;
}

export const DEFAULT_RATE_LIMIT_TIERS: Record<Exclude<RateLimitTier, 'none'>, RateLimitWindow> = {
  standard: { limit: 120, windowSeconds: 60 },
  strict: { limit: 20, windowSeconds: 60 },
};

/** Fixed-window counters per caller and tool on the Store: `retryAfterSeconds` when over the limit. */
export class ToolRateLimiter {
  readonly #store: Store;
  readonly #tiers: Record<Exclude<RateLimitTier, 'none'>, RateLimitWindow>;
  readonly #now: () => number;

  constructor(options: ToolRateLimitOptions, now: () => number = Date.now) {
    this.#store = options.store;
    this.#tiers = { ...DEFAULT_RATE_LIMIT_TIERS, ...options.tiers };
    for (const [tier, window] of Object.entries(this.#tiers)) {
      if (!Number.isInteger(window.limit) || window.limit < 1 || !Number.isInteger(window.windowSeconds) || window.windowSeconds < 1) {
        throw new TypeError(`rate limit tier ${tier} needs a positive whole limit and windowSeconds`);
      }
    }
    this.#now = now;
  }

  /** Counts one call; undefined when it may run, else how many seconds until it may. */
  async hit(tier: RateLimitTier, caller: string, tool: string): Promise<number | undefined> {
    if (tier === 'none') return undefined;
    const { limit, windowSeconds } = this.#tiers[tier];
    const counter = await this.#store.increment(`mcp-rate:${tier}:${tool}:${caller}`, { ttlSeconds: windowSeconds });
    if (counter.value <= limit) return undefined;
    return Math.max(1, Math.ceil((counter.expiresAtMs - this.#now()) / 1000));
  }
}
