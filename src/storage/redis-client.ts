import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** One Redis server or sentinel: "10.0.0.5:26379" or "[::1]:6379" as the settings give it. */
export type RedisNodeAddress = string;

/** Redis behind Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME). */
export interface SentinelTarget {
  sentinels: RedisNodeAddress[];
  /** The primary's name in the sentinels' configuration. */
  name: string;
  username?: string | undefined;
  password?: string | undefined;
  sentinelPassword?: string | undefined;
}

/** Redis Cluster (REDIS_CLUSTER_NODES): any of its nodes; the client learns the rest. */
export interface ClusterTarget {
  nodes: RedisNodeAddress[];
  username?: string | undefined;
  password?: string | undefined;
}

/** Exactly one of the three ways to reach Redis. */
export interface RedisTarget {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS (REDIS_URL). */
  url?: string | undefined;
  sentinel?: SentinelTarget | undefined;
  cluster?: ClusterTarget | undefined;
}

export type RedisClient = Redis | Cluster;

export interface CreatedClient {
  client: RedisClient;
  /** Where it points, without credentials, for messages and logs. */
  where: string;
  /** A Cluster runs a script only on keys of one hash slot. */
  cluster: boolean;
}

const MAX_RECONNECT_DELAY_MS = 2_000;
const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS);

/**
 * A client that fails closed: no offline queue, no resend of a command whose reply was lost, and
 * reconnection in the background. Behind Sentinel it asks the sentinels for the primary on every
 * reconnect, so after a failover it finds the promoted replica by itself.
 */
export function createRedisClient(target: RedisTarget, timeoutMs: number): CreatedClient {
  const given = [target.url, target.sentinel, target.cluster].filter((way) => way !== undefined);
  if (given.length !== 1) throw new TypeError('a Redis store needs exactly one of url, sentinel or cluster');
  const perConnection = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  } satisfies RedisOptions;
  if (target.sentinel) {
    const { sentinels, name, username, password, sentinelPassword } = target.sentinel;
    const client = new Redis({
      ...perConnection,
      enableOfflineQueue: false,
      retryStrategy: reconnectDelay,
      sentinels: sentinels.map(toHostPort),
      name,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
      sentinelRetryStrategy: reconnectDelay,
      // A primary demoted by a planned failover keeps the connection but refuses writes: reconnect,
      // which asks the sentinels for the new primary. (A primary that dies closes it anyway.)
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
    return { client, where: `REDIS_SENTINELS=${sentinels.join(',')} (${name})`, cluster: false };
  }
  if (target.cluster) {
    const { nodes, username, password } = target.cluster;
    const client = new Cluster(nodes.map(toHostPort), {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      slotsRefreshTimeout: timeoutMs,
      redisOptions: { ...perConnection, ...(username ? { username } : {}), ...(password ? { password } : {}) },
    });
    return { client, where: `REDIS_CLUSTER_NODES=${nodes.join(',')}`, cluster: true };
  }
  const client = new Redis(target.url!, { ...perConnection, enableOfflineQueue: false, retryStrategy: reconnectDelay });
  return { client, where: describeUrl(target.url!), cluster: false };
}

function toHostPort(address: RedisNodeAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}

/** REDIS_URL without credentials. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `REDIS_URL=${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'REDIS_URL';
  }
}
