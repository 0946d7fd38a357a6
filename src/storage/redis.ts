import type { Logger } from '../log/index.ts';
import { checkIncrement, storedRecord, toRow, unavailable as engineUnavailable } from './engine-helpers.ts';
import { createRedisClient, type RedisClient, type RedisTarget } from './redis-client.ts';
import { ReadBatch, type Read } from './redis-read-batch.ts';
import { NOT_COUNTER, scriptSource, SCRIPTS, type ScriptName } from './redis-scripts.ts';
import { StoreUnavailableError, type Counter, type IncrementOptions, type PutOptions, type Store, type StoredRecord } from './store.ts';

/**
 * The Redis engine (ioredis): what several instances share. It fails closed: while Redis cannot
 * be reached every call rejects at once with StoreUnavailableError (no offline queue, no resend
 * of a command whose reply was lost), and the client keeps reconnecting in the background, so
 * service resumes by itself when Redis is back. One server (url), Sentinel or Cluster.
 */
export interface RedisStoreOptions extends RedisTarget {
  /** Prefix of every key this store writes (REDIS_PREFIX). */
  prefix: string;
  /** A write resolves only once this many replicas have it (REDIS_WAIT_REPLICAS). Default 0. */
  waitReplicas?: number | undefined;
  /** How long opening waits for Redis, and a command for its reply. Default 5 s. */
  timeoutMs?: number;
  /** Where losing and regaining the connection is reported. */
  log?: Logger;
}

export interface RedisStore extends Store {
  readonly engine: 'redis';
}

export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { client: redis, where, cluster } = createRedisClient(options, timeoutMs);
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
  // KEYS[1] is the record or index a script is about: a Cluster sends the script to its slot.
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    redis.defineCommand(name, { numberOfKeys: 1, lua: scriptSource(name) });
  }
  const prefix = cluster ? hashTagged(options.prefix) : options.prefix;
  const store = new IoredisStore(redis, prefix, where, { replicas: options.waitReplicas ?? 0, timeoutMs: Math.ceil(timeoutMs / 2) });
  if (options.log) reportConnection(redis, where, options.log, () => store.closed);
  return store;
}

/**
 * In a Cluster every key of one store shares the slot of its prefix ("{portcullis:}r:..."): a
 * write updates a record and its indexes in one script, and a script reaches one slot only.
 */
export function hashTagged(prefix: string): string {
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** One warning when the connection drops and one line when it is back, not one per retry. */
function reportConnection(redis: RedisClient, where: string, log: Logger, closing: () => boolean): void {
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

const RECORD = 'r:';
const TAG = 't:';
/** Scripts that change state; storeFindByTag and storeReadMany only trim expired index entries. */
const WRITES = new Set<ScriptName>(['storePut', 'storeConsume', 'storeConsumeAndPut', 'storeDelete', 'storeDeleteByTag', 'storeIncrement']);
type FoundRow = [key: string, value: string, consumedAtMs: string, expiresAtMs: string, stamp: string];
type RecordFields = [value: string | null, consumedAtMs: string | null, expiresAtMs: string | null];

interface ReplicaWait {
  /** 0: a write is acknowledged once the primary has it. */
  replicas: number;
  timeoutMs: number;
}

class IoredisStore implements RedisStore {
  readonly engine = 'redis';
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #where: string;
  readonly #wait: ReplicaWait;
  readonly #reads = new ReadBatch((reads) => this.#sendReads(reads));
  #closed = false;

  constructor(redis: RedisClient, prefix: string, where: string, wait: ReplicaWait) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#where = where;
    this.#wait = wait;
  }

  async get<T = unknown>(key: string): Promise<StoredRecord<T> | undefined> {
    const [value, consumedAt, expiresAt] = (await this.#reads.read({ record: key })) as RecordFields;
    return value === null || value === undefined ? undefined : storedRecord<T>(value, toMs(consumedAt), toMs(expiresAt));
  }

  async put(key: string, value: unknown, options: PutOptions = {}): Promise<void> {
    await this.#write(key, value, options, false);
  }

  async putIfAbsent(key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    return this.#write(key, value, options, true);
  }

  async consume(key: string): Promise<boolean> {
    return (await this.#script('storeConsume', { key })) === 1;
  }

  async consumeAndPut(consumedKey: string, key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    const { json, ttlMs, tags } = scriptRow(value, options);
    return (await this.#script('storeConsumeAndPut', { key }, json, ttlMs, tags, consumedKey)) === 1;
  }

  async increment(key: string, options: IncrementOptions): Promise<Counter> {
    const { by, ttlMs } = checkIncrement(options);
    try {
      const [value, expiresAtMs] = (await this.#script('storeIncrement', { key }, by, ttlMs)) as [string, string];
      return { value: Number(value), expiresAtMs: toMs(expiresAtMs) ?? Number.MAX_SAFE_INTEGER };
    } catch (error) {
      if (isNotCounter(error)) throw new TypeError(`increment: the record at ${key} is not a counter`);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#script('storeDelete', { key });
  }

  async findByTag<T = unknown>(tag: string): Promise<Array<{ key: string } & StoredRecord<T>>> {
    const rows = (await this.#reads.read({ tag })) as FoundRow[];
    return rows
      .toSorted((a, b) => compareStamps(a[4], b[4]) || (a[0] < b[0] ? -1 : 1))
      .map(([key, value, consumedAt, expiresAt]) => ({ key, ...storedRecord<T>(value, toMs(consumedAt), toMs(expiresAt)) }));
  }

  async deleteByTag(tag: string): Promise<number> {
    return Number(await this.#script('storeDeleteByTag', { tag }));
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

  /** A lone read as its own command (a record's is a plain HMGET), reads issued together as one script. */
  async #sendReads(reads: Read[]): Promise<unknown[]> {
    if (reads.length === 1) {
      const [read] = reads as [Read];
      return ['record' in read
        ? await this.#use(() => this.#redis.hmget(this.#prefix + RECORD + read.record, 'v', 'c', 'e'))
        : await this.#script('storeFindByTag', { tag: read.tag })];
    }
    const [first] = reads as [Read, ...Read[]];
    const routeKey = 'record' in first ? this.#prefix + RECORD + first.record : this.#prefix + TAG + first.tag;
    const kinds = reads.map((read) => ('record' in read ? 'r' : 't')).join('');
    const subjects = reads.map((read) => ('record' in read ? read.record : read.tag));
    return (await this.#use(() => this.#run('storeReadMany', [routeKey, this.#prefix, kinds, ...subjects]))) as unknown[];
  }

  async #write(key: string, value: unknown, options: PutOptions, onlyIfAbsent: boolean): Promise<boolean> {
    const { json, ttlMs, tags } = scriptRow(value, options);
    const written = await this.#script('storePut', { key }, json, ttlMs, tags, onlyIfAbsent ? '1' : '0');
    return written === 1;
  }

  /**
   * Runs a script on the record or index it is about (KEYS[1]; the prefix and the key go in ARGV
   * too, since a script builds further key names from them). A write waits for the replicas
   * REDIS_WAIT_REPLICAS asks for, on the same connection, so WAIT counts exactly this write.
   */
  #script(name: ScriptName, about: { key: string } | { tag: string }, ...args: Array<string | number>): Promise<unknown> {
    const [routeKey, subject] = 'key' in about ? [this.#prefix + RECORD + about.key, about.key] : [this.#prefix + TAG + about.tag, about.tag];
    const scriptArgs = [routeKey, this.#prefix, subject, ...args];
    if (this.#wait.replicas === 0 || !WRITES.has(name)) return this.#use(() => this.#run(name, scriptArgs));
    return this.#use(async () => {
      const pipeline = this.#redis.pipeline() as unknown as Record<ScriptName, (...args: Array<string | number>) => void> & ReturnType<RedisClient['pipeline']>;
      pipeline[name](...scriptArgs);
      pipeline.wait(this.#wait.replicas, this.#wait.timeoutMs);
      const [[scriptError, result] = [], [waitError, acknowledged] = []] = (await pipeline.exec()) ?? [];
      if (scriptError || waitError) throw scriptError ?? waitError;
      if (Number(acknowledged) < this.#wait.replicas) {
        throw new Error(`only ${acknowledged} of ${this.#wait.replicas} replicas confirmed the write within ${this.#wait.timeoutMs} ms`);
      }
      return result;
    });
  }

  #run(name: ScriptName, args: Array<string | number>): Promise<unknown> {
    return (this.#redis as unknown as Record<ScriptName, ScriptCall>)[name].apply(this.#redis, args);
  }

  /**
   * Runs a Redis call, turning every failure except a script's caller error into StoreUnavailableError.
   * Reads waiting to be sent together go first, so Redis gets commands in the order they were issued.
   */
  async #use<R>(call: () => Promise<R>): Promise<R> {
    this.#reads.flush();
    if (this.#closed) throw unavailable(this.#where, 'the store is closed');
    try {
      return await call();
    } catch (error) {
      if (isNotCounter(error)) throw error;
      throw unavailable(this.#where, 'command failed', error);
    }
  }
}

/** A record as the write scripts take it: JSON text, TTL in whole ms (0: none), tags as a JSON list. */
function scriptRow(value: unknown, options: PutOptions): { json: string; ttlMs: number; tags: string } {
  const row = toRow(value, options);
  return { json: row.value, ttlMs: row.ttlMs === null ? 0 : Math.max(1, Math.ceil(row.ttlMs)), tags: JSON.stringify(row.tags) };
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

function unavailable(where: string, what: string, cause?: unknown): StoreUnavailableError {
  return engineUnavailable('redis', where, what, cause);
}
