import type { PrimaryClient } from './primary-client.ts';
import type { Counter, IncrementOptions, PutOptions, Store, StoredRecord } from './store.ts';

/**
 * Keys whose counts the primary may hold in memory between writes (rate limits), so every call
 * on them goes to the primary, not only the increments.
 */
export const PRIMARY_KEY_PREFIXES = ['ratelimit:'] as const;

/**
 * A cluster worker's embedded store: every `increment` (and every call on a key under
 * `PRIMARY_KEY_PREFIXES`) is answered by the primary's store, the one process that writes
 * counters. Workers then never wait for each other's SQLite write lock to count a request, and a
 * limit holds across workers because one process counts it. The rest stays on the worker's own
 * connection to the same file.
 */
export class PrimaryCountedStore implements Store {
  readonly engine = 'embedded';
  readonly #local: Store;
  readonly #primary: PrimaryClient;

  constructor(local: Store, primary: PrimaryClient) {
    this.#local = local;
    this.#primary = primary;
  }

  increment(key: string, options: IncrementOptions): Promise<Counter> {
    // The primary may hold a count in memory only for keys whose every call it answers; other
    // keys are read on the worker's own connection, so their counts are written at once.
    const sent = options.batched && !ownedByPrimary(key) ? { ...options, batched: false } : options;
    return this.#primary.call('increment', key, [sent]) as Promise<Counter>;
  }

  get<T = unknown>(key: string): Promise<StoredRecord<T> | undefined> {
    return ownedByPrimary(key) ? this.#primary.call('get', key, []) as Promise<StoredRecord<T> | undefined> : this.#local.get<T>(key);
  }

  async put(key: string, value: unknown, options?: PutOptions): Promise<void> {
    if (ownedByPrimary(key)) await this.#primary.call('put', key, options ? [value, options] : [value]);
    else await this.#local.put(key, value, options);
  }

  putIfAbsent(key: string, value: unknown, options?: PutOptions): Promise<boolean> {
    return ownedByPrimary(key) ? this.#primary.call('putIfAbsent', key, options ? [value, options] : [value]) as Promise<boolean> : this.#local.putIfAbsent(key, value, options);
  }

  consume(key: string): Promise<boolean> {
    return ownedByPrimary(key) ? this.#primary.call('consume', key, []) as Promise<boolean> : this.#local.consume(key);
  }

  async consumeAndPut(consumedKey: string, key: string, value: unknown, options?: PutOptions): Promise<boolean> {
    if (ownedByPrimary(consumedKey) || ownedByPrimary(key)) throw new TypeError('consumeAndPut: rate-limit records are never rotated');
    return this.#local.consumeAndPut(consumedKey, key, value, options);
  }

  async delete(key: string): Promise<void> {
    if (ownedByPrimary(key)) await this.#primary.call('delete', key, []);
    else await this.#local.delete(key);
  }

  findByTag<T = unknown>(tag: string): Promise<Array<{ key: string } & StoredRecord<T>>> {
    return this.#local.findByTag<T>(tag);
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#local.deleteByTag(tag);
  }

  ping(): Promise<void> {
    return this.#local.ping();
  }

  close(): Promise<void> {
    return this.#local.close();
  }
}

function ownedByPrimary(key: string): boolean {
  return PRIMARY_KEY_PREFIXES.some((prefix) => key.startsWith(prefix));
}
