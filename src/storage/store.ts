/**
 * The Store seam: every piece of server state (oidc-provider models, users, clients, later
 * idempotency records and rate-limit counters) goes through this contract. Engines: embedded
 * (node:sqlite on local disk) and redis (ioredis).
 *
 * Values are JSON-serialisable. Keys are namespaced by the caller ("oidc:AccessToken:<id>").
 * Tags are secondary indexes ("grant:<grantId>", "uid:<uid>"): a record can carry several, a
 * tag can point at many records, and a tag never outlives the records it points at.
 */
export interface StoredRecord<T = unknown> {
  value: T;
  /** Epoch seconds at which `consume` succeeded, when it has. */
  consumedAt?: number;
  /** Epoch seconds after which the record no longer exists, when it has a TTL. */
  expiresAt?: number;
}

export interface PutOptions {
  /** Seconds from now until the record expires; omitted or 0 keeps it until deleted. */
  ttlSeconds?: number;
  /** Secondary index entries for this record; replaces any the record had before. */
  tags?: string[];
}

export interface IncrementOptions {
  /** Lifetime of a new counter, in seconds (> 0). */
  ttlSeconds: number;
  /** Amount to add (a positive whole number); default 1. */
  by?: number;
  /**
   * The count may wait in memory and be written with others in one batch (the embedded engine
   * in one process: every flush interval and on close), so a crash may lose the last interval's
   * counts. For rate limits; counters that must survive a crash (uses of a token) leave it out.
   */
  batched?: boolean;
}

export interface Counter {
  value: number;
  /** Epoch milliseconds at which the counter expires and counting starts again. */
  expiresAtMs: number;
}

export interface Store {
  /** Engine name, for logs and readiness output. */
  readonly engine: 'embedded' | 'redis';
  get<T = unknown>(key: string): Promise<StoredRecord<T> | undefined>;
  /** Creates or replaces the record (a replaced record loses its consumed mark). */
  put(key: string, value: unknown, options?: PutOptions): Promise<void>;
  /** Creates the record only if no live record has that key; true when this call created it. */
  putIfAbsent(key: string, value: unknown, options?: PutOptions): Promise<boolean>;
  /** Marks a live record consumed; true for exactly one caller, false if absent or already consumed. */
  consume(key: string): Promise<boolean>;
  /**
   * `consume(consumedKey)` and `put(key, value, options)` as one atomic write: true when both
   * happened; false, with nothing written, when `consumedKey` is absent or already consumed.
   * Refresh-token rotation uses it: one write per rotation, and no crash leaves the old token
   * spent without the new one stored, or the new one stored with the old one still usable.
   */
  consumeAndPut(consumedKey: string, key: string, value: unknown, options?: PutOptions): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Live records carrying the tag, oldest first. */
  findByTag<T = unknown>(tag: string): Promise<Array<{ key: string } & StoredRecord<T>>>;
  /**
   * Atomic fixed-window counter: adds `by` (default 1) to the number stored at `key`. When no live
   * record has the key, it starts one at `by` that expires `ttlSeconds` from now; later increments
   * keep that expiry. Rate-limit counters use it, so every instance on one store counts together.
   */
  increment(key: string, options: IncrementOptions): Promise<Counter>;
  /** Deletes every record carrying the tag; returns how many were deleted. */
  deleteByTag(tag: string): Promise<number>;
  /** Resolves when the engine can serve requests; rejects with StoreUnavailableError when not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The configured store cannot be reached; callers answer 503, never fall back to memory. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
