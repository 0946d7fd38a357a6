export { StoreUnavailableError } from './store.ts';
export type { Counter, IncrementOptions, PutOptions, Store, StoredRecord } from './store.ts';
export { openEmbeddedStore } from './embedded.ts';
export type { EmbeddedStore, EmbeddedStoreOptions } from './embedded.ts';
export { openRedisStore } from './redis.ts';
export type { RedisStore, RedisStoreOptions } from './redis.ts';
export type { ClusterTarget, RedisTarget, SentinelTarget } from './redis-client.ts';
export { openStore, usesRedis, DEFAULT_REDIS_PREFIX, type OpenStoreOptions } from './open.ts';
