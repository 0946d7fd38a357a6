import type { Logger } from '../log/index.ts';
import type { PrimaryClient } from './primary-client.ts';
import type { Store } from './store.ts';

export const DEFAULT_REDIS_PREFIX = 'portcullis:';

/** The configuration's store settings (a Config fits). */
export interface OpenStoreOptions {
  /** Directory of the embedded engine's database file (DATA_DIR). */
  dataDir: string;
  /** When set, state lives in Redis instead (REDIS_URL). */
  redisUrl?: string | undefined;
  /** Or Redis behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME) or a Cluster (REDIS_CLUSTER_NODES). */
  redisSentinels?: string[] | undefined;
  redisSentinelName?: string | undefined;
  redisClusterNodes?: string[] | undefined;
  /** Credentials for Sentinel and Cluster (REDIS_USERNAME, REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD). */
  redisUsername?: string | undefined;
  redisPassword?: string | undefined;
  redisSentinelPassword?: string | undefined;
  /** Replicas each write must reach before it is acknowledged (REDIS_WAIT_REPLICAS). */
  redisWaitReplicas?: number | undefined;
  /** Prefix of every Redis key (REDIS_PREFIX). */
  redisPrefix?: string | undefined;
  /** In a cluster worker on the embedded engine: the primary, which counts for every worker (see PrimaryCountedStore). */
  primary?: PrimaryClient | undefined;
}

/** True when the settings keep state in Redis (one server, Sentinel or Cluster). */
export function usesRedis(options: OpenStoreOptions): boolean {
  return Boolean(options.redisUrl || options.redisSentinels?.length || options.redisClusterNodes?.length);
}

/**
 * Redis when one of its settings is given, otherwise the embedded engine in DATA_DIR. Never both,
 * never memory. Each engine is loaded only when chosen: the embedded one needs node:sqlite
 * (Node 22.5+), Redis needs ioredis.
 *
 * @example
 * const store = await openStore({ dataDir: './data', redisUrl: process.env.REDIS_URL });
 */
export async function openStore(options: OpenStoreOptions, log?: Logger): Promise<Store> {
  if (usesRedis(options)) {
    const { openRedisStore } = await import('./redis.ts');
    const credentials = { username: options.redisUsername, password: options.redisPassword };
    return openRedisStore({
      ...(options.redisUrl ? { url: options.redisUrl } : {}),
      ...(options.redisSentinels?.length ? {
        sentinel: { sentinels: options.redisSentinels, name: options.redisSentinelName ?? 'mymaster', sentinelPassword: options.redisSentinelPassword, ...credentials },
      } : {}),
      ...(options.redisClusterNodes?.length ? { cluster: { nodes: options.redisClusterNodes, ...credentials } } : {}),
      prefix: options.redisPrefix ?? DEFAULT_REDIS_PREFIX,
      waitReplicas: options.redisWaitReplicas,
      ...(log ? { log } : {}),
    });
  }
  const { openEmbeddedStore } = await import('./embedded.ts');
  const store = await openEmbeddedStore({ dataDir: options.dataDir });
  if (!options.primary) return store;
  const { PrimaryCountedStore } = await import('./primary-counted-store.ts');
  return new PrimaryCountedStore(store, options.primary);
}
