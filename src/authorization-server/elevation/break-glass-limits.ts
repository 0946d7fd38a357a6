import { valueOf, type Live } from '../../settings/index.ts';
import type { Store } from '../../storage/index.ts';

export interface BreakGlassLimitSettings {
  perUserPerDay: number;
  perHour: number;
}

const DAY = 24 * 3600;
const HOUR = 3600;

/**
 * Break-glass budget on the server clock, counted in the Store so every instance shares it.
 * `tryTake` counts nothing when it refuses.
 */
export class BreakGlassLimits {
  readonly #store: Store;
  readonly #settings: Live<BreakGlassLimitSettings>;
  constructor(store: Store, settings: Live<BreakGlassLimitSettings>) {
    this.#store = store;
    this.#settings = settings;
  }

  /** Undefined when this user may break the glass now; otherwise which limit is reached. */
  async tryTake(userId: string): Promise<'user' | 'everyone' | undefined> {
    const userKey = `break-glass:user:${userId}`;
    const allKey = 'break-glass:all';
    const limits = valueOf(this.#settings);
    if (await this.#used(userKey) >= limits.perUserPerDay) return 'user';
    if (await this.#used(allKey) >= limits.perHour) return 'everyone';
    // Two racing requests may both pass the reads above; the counts after incrementing decide.
    const [user, all] = await Promise.all([
      this.#store.increment(userKey, { ttlSeconds: DAY }), this.#store.increment(allKey, { ttlSeconds: HOUR }),
    ]);
    if (user.value > limits.perUserPerDay) return 'user';
    if (all.value > limits.perHour) return 'everyone';
    return undefined;
  }

  async #used(key: string): Promise<number> {
    const record = await this.#store.get<number>(key);
    return typeof record?.value === 'number' ? record.value : 0;
  }
}
