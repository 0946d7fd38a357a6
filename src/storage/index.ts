import type { Logger } from '../log/index.ts';
import { openEmbeddedStore } from './embedded.ts';
import { openRedisStore } from './redis.ts';
import type { Store } from './store.ts';

export { StoreUnavailableError } from './store.ts';
export type { Counter, IncrementOptions, PutOptions, Store, StoredRecord } from './store.ts';
export { openEmbeddedStore } from './embedded.ts';
export type { EmbeddedStore, EmbeddedStoreOptions } from './embedded.ts';
export { openRedisStore } from './redis.ts';
export type { RedisStore, RedisStoreOptions } from './redis.ts';

export const DEFAULT_REDIS_PREFIX = 'portcullis:';

/** The configuration's store settings (a Config fits). */
export interface OpenStoreOptions {
  /** Directory of the embedded engine's database file (DATA_DIR). */
  dataDir: string;
  /** When set, state lives in Redis instead (REDIS_URL). */
  redisUrl?: string | undefined;
  /** Prefix of every Redis key (REDIS_PREFIX). */
  redisPrefix?: string | undefined;
}

/** Redis when REDIS_URL is set, otherwise the embedded engine in DATA_DIR. Never both, never memory. */
export async function openStore(options: OpenStoreOptions, log?: Logger): Promise<Store> {
  if (options.redisUrl) {
    return openRedisStore({ url: options.redisUrl, prefix: options.redisPrefix ?? DEFAULT_REDIS_PREFIX, ...(log ? { log } : {}) });
  }
  return openEmbeddedStore({ dataDir: options.dataDir });
}
