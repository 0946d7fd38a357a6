import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared test Redis (REDIS_URL, default redis://127.0.0.1:6379); never flushed, only our own keys are removed. */
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `${label}:${randomUUID()}:`;
}

/** Every key under the prefix, found with SCAN (never KEYS). */
export async function keysUnder(prefix: string, url = TEST_REDIS_URL): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

/** Deletes the keys under the prefix, and only those. */
export async function deleteKeysUnder(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const keys = await keysUnder(prefix, url);
  if (keys.length === 0) return;
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Everything stored under the prefix, as text: key names, hash fields and values, set members. */
export async function dumpUnder(prefix: string, url = TEST_REDIS_URL): Promise<string> {
  const keys = await keysUnder(prefix, url);
  const redis = new Redis(url, { lazyConnect: true });
  try {
    await redis.connect();
    const parts: string[] = [];
    for (const key of keys) {
      const type = await redis.type(key);
      const content = type === 'hash' ? await redis.hgetall(key) : type === 'zset' ? await redis.zrange(key, '0', '-1') : await redis.get(key);
      parts.push(key, JSON.stringify(content));
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}
