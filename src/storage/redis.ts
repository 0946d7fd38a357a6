import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log/index.ts';
import { checkIncrement, storedRecord, toRow, unavailable as engineUnavailable } from './engine-helpers.ts';
import { NOT_COUNTER, scriptSource, SCRIPTS, type ScriptName } from './redis-scripts.ts';
import { StoreUnavailableError, type Counter, type IncrementOptions, type PutOptions, type Store, type StoredRecord } from './store.ts';

/**
 * The Redis engine (ioredis): what several instances share. It fails closed: while Redis cannot
 * be reached every call rejects at once with StoreUnavailableError (no offline queue, no resend
 * of a command whose reply was lost), and the client keeps reconnecting in the background, so
 * service resumes by itself when Redis is back.
 */
export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS (REDIS_URL). */
  url: string;
  /** Prefix of every key this store writes (REDIS_PREFIX). */
  prefix: string;
  /** How long opening waits for Redis, and a command for its reply. Default 5 s. */
  timeoutMs?: number;
  /** Where losing and regaining the connection is reported. */
  log?: Logger;
}

export interface RedisStore extends Store {
  readonly engine: 'redis';
}

const MAX_RECONNECT_DELAY_MS = 2_000;

export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const where = describeUrl(options.url);
  const redis = new Redis(options.url, clientOptions(timeoutMs));
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error; // reported through the failing calls; without a listener ioredis prints it
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(lastError ?? new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    // The socket's own error (refused, certificate not trusted) says more than "Connection is closed".
    throw unavailable(where, 'cannot connect', lastError ?? error);
  } finally {
    clearTimeout(timer);
  }
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    redis.defineCommand(name, { numberOfKeys: 0, lua: scriptSource(name) });
  }
  const store = new IoredisStore(redis, options.prefix, where);
  if (options.log) reportConnection(redis, where, options.log, () => store.closed);
  return store;
}

function clientOptions(timeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS),
  };
}

/** One warning when the connection drops and one line when it is back, not one per retry. */
function reportConnection(redis: Redis, where: string, log: Logger, closing: () => boolean): void {
  let connected = true;
  redis.on('close', () => {
    if (!connected || closing()) return;
    connected = false;
    log.warn({ store: 'redis', where }, 'lost the connection to Redis; answering 503 until it is back');
  });
  redis.on('ready', () => {
    if (connected) return;
    connected = true;
    log.info({ store: 'redis', where }, 'connected to Redis again');
  });
}

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
type FoundRow = [key: string, value: string, consumedAtMs: string, expiresAtMs: string, stamp: string];

class IoredisStore implements RedisStore {
  readonly engine = 'redis';
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #where: string;
  #closed = false;

  constructor(redis: Redis, prefix: string, where: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#where = where;
  }

  async get<T = unknown>(key: string): Promise<StoredRecord<T> | undefined> {
    const [value, consumedAt, expiresAt] = await this.#use(() => this.#redis.hmget(`${this.#prefix}r:${key}`, 'v', 'c', 'e'));
    return value === null || value === undefined ? undefined : storedRecord<T>(value, toMs(consumedAt), toMs(expiresAt));
  }

  async put(key: string, value: unknown, options: PutOptions = {}): Promise<void> {
    await this.#write(key, value, options, false);
  }

  async putIfAbsent(key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    return this.#write(key, value, options, true);
  }

  async consume(key: string): Promise<boolean> {
    return (await this.#script('storeConsume', key)) === 1;
  }

  async increment(key: string, options: IncrementOptions): Promise<Counter> {
    const { by, ttlMs } = checkIncrement(options);
    try {
      const [value, expiresAtMs] = (await this.#script('storeIncrement', key, by, ttlMs)) as [string, string];
      return { value: Number(value), expiresAtMs: toMs(expiresAtMs) ?? Number.MAX_SAFE_INTEGER };
    } catch (error) {
      if (isNotCounter(error)) throw new TypeError(`increment: the record at ${key} is not a counter`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#script('storeDelete', key);
  }

  async findByTag<T = unknown>(tag: string): Promise<Array<{ key: string } & StoredRecord<T>>> {
    const rows = (await this.#script('storeFindByTag', tag)) as FoundRow[];
    return rows
      .toSorted((a, b) => compareStamps(a[4], b[4]) || (a[0] < b[0] ? -1 : 1))
      .map(([key, value, consumedAt, expiresAt]) => ({ key, ...storedRecord<T>(value, toMs(consumedAt), toMs(expiresAt)) }));
  }

  async deleteByTag(tag: string): Promise<number> {
    return Number(await this.#script('storeDeleteByTag', tag));
  }

  async ping(): Promise<void> {
    await this.#use(() => this.#redis.ping());
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A live connection ends once Redis has answered QUIT; a broken one just stops reconnecting.
    const ended = this.#redis.status === 'ready' ? new Promise((resolve) => this.#redis.once('end', resolve)) : undefined;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
    if (ended && this.#redis.status !== 'end') await ended;
  }

  async #write(key: string, value: unknown, options: PutOptions, onlyIfAbsent: boolean): Promise<boolean> {
    const row = toRow(value, options);
    const ttlMs = row.ttlMs === null ? 0 : Math.max(1, Math.ceil(row.ttlMs));
    const written = await this.#script('storePut', key, row.value, ttlMs, JSON.stringify(row.tags), onlyIfAbsent ? '1' : '0');
    return written === 1;
  }

  #script(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    const call = (this.#redis as unknown as Record<ScriptName, ScriptCall>)[name];
    return this.#use(() => call.call(this.#redis, this.#prefix, ...args));
  }

  /** Runs a Redis call, turning every failure except a script's caller error into StoreUnavailableError. */
  async #use<R>(call: () => Promise<R>): Promise<R> {
    if (this.#closed) throw unavailable(this.#where, 'the store is closed');
    try {
      return await call();
    } catch (error) {
      if (isNotCounter(error)) throw error;
      throw unavailable(this.#where, 'command failed', error);
    }
  }
}

function isNotCounter(error: unknown): boolean {
  return (error as Error | null)?.message?.split(' ').includes(NOT_COUNTER) ?? false;
}

function toMs(text: string | null | undefined): number | null {
  return text ? Number(text) : null;
}

/** Creation stamps are whole microseconds as decimal text; equal lengths compare as strings. */
function compareStamps(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** REDIS_URL without credentials, for messages and logs. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `REDIS_URL=${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'REDIS_URL';
  }
}

function unavailable(where: string, what: string, cause?: unknown): StoreUnavailableError {
  return engineUnavailable('redis', where, what, cause);
}
