import { openEmbeddedStore } from './embedded.ts';
import type { Store } from './store.ts';

export { StoreUnavailableError } from './store.ts';
export type { Counter, IncrementOptions, PutOptions, Store, StoredRecord } from './store.ts';
export { openEmbeddedStore } from './embedded.ts';
export type { EmbeddedStore, EmbeddedStoreOptions } from './embedded.ts';

export interface OpenStoreOptions {
  /** Directory of the embedded engine's database file (DATA_DIR). */
  dataDir: string;
  /** When set, state lives in Redis instead (REDIS_URL). */
  redisUrl?: string;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.redisUrl) {
    throw new Error('REDIS_URL is set but the redis store engine is not available yet; it will be added in a later change');
  }
  return openEmbeddedStore({ dataDir: options.dataDir });
}
