/** The Store seam for an MCP server's state (idempotency records, rate-limit counters, its own data). */
export { openStore, usesRedis, DEFAULT_REDIS_PREFIX, type OpenStoreOptions } from '../../storage/open.ts';
export { StoreUnavailableError, type Counter, type IncrementOptions, type PutOptions, type Store, type StoredRecord } from '../../storage/store.ts';
