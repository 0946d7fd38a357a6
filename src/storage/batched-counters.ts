import type { Counter } from './store.ts';

/** A counter's window as this process knows it: `base` is what the database held, `pending` what it has not been told yet. */
interface Window {
  base: number;
  pending: number;
  expiresAtMs: number;
}

/** A count still to be written: add `by` to the live counter at `key`, or start one at `by` expiring at `expiresAtMs`. */
export interface PendingCount {
  key: string;
  by: number;
  expiresAtMs: number;
}

export interface CounterDatabase {
  /** The live counter at `key` (undefined: none); throws TypeError when a live record there is no counter. */
  read(key: string): Counter | undefined;
  /** Adds every pending count in one commit; returns each key's counter as the database now holds it (absent: dropped). */
  write(counts: PendingCount[]): Map<string, Counter>;
}

/**
 * Fixed-window counters counted in this process's memory and written to the database in one
 * commit every `flushMs` (and on `flush`), so a request that counts does no database write.
 * Writes add the pending amounts to what is stored, so counts another process added meanwhile
 * are kept, and the window a counter has in the database wins.
 */
export class BatchedCounters {
  readonly #database: CounterDatabase;
  readonly #flushMs: number;
  readonly #windows = new Map<string, Window>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(database: CounterDatabase, flushMs: number) {
    this.#database = database;
    this.#flushMs = flushMs;
  }

  increment(key: string, by: number, ttlMs: number): Counter {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.expiresAtMs <= now) {
      const stored = this.#database.read(key);
      window = { base: stored?.value ?? 0, pending: 0, expiresAtMs: stored?.expiresAtMs ?? now + ttlMs };
      this.#windows.set(key, window);
    }
    window.pending += by;
    this.#dirty.add(key);
    this.#timer ??= setTimeout(() => this.#flushOnTimer(), this.#flushMs).unref();
    return { value: window.base + window.pending, expiresAtMs: window.expiresAtMs };
  }

  /** The live counter at `key` when this process holds it, counts not yet written included. */
  peek(key: string): Counter | undefined {
    const window = this.#windows.get(key);
    if (!window || window.expiresAtMs <= Date.now()) return undefined;
    return { value: window.base + window.pending, expiresAtMs: window.expiresAtMs };
  }

  /** The record at `key` was replaced or deleted: its pending counts go with it. */
  forget(key: string): void {
    this.#windows.delete(key);
    this.#dirty.delete(key);
  }

  /** Writes every pending count now; on failure they stay pending for the next flush. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    const counts: PendingCount[] = [];
    for (const key of this.#dirty) {
      const window = this.#windows.get(key)!;
      // Counts of a window that has ended no longer limit anything.
      if (window.expiresAtMs > now) counts.push({ key, by: window.pending, expiresAtMs: window.expiresAtMs });
      else this.#windows.delete(key);
    }
    const stored = counts.length ? this.#database.write(counts) : new Map<string, Counter>();
    this.#dirty.clear();
    for (const { key } of counts) {
      const counter = stored.get(key);
      if (counter) this.#windows.set(key, { base: counter.value, pending: 0, expiresAtMs: counter.expiresAtMs });
      else this.#windows.delete(key);
    }
  }

  /** Drops the windows that have ended and have nothing pending. */
  prune(): void {
    const now = Date.now();
    for (const [key, window] of this.#windows) {
      if (window.expiresAtMs <= now && !this.#dirty.has(key)) this.#windows.delete(key);
    }
  }

  /** Stops the timer; call `flush` first to keep what is pending. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flushOnTimer(): void {
    try {
      this.flush();
    } catch {
      // Busy or failing database: the counts stay pending for another try.
      this.#timer = setTimeout(() => this.#flushOnTimer(), this.#flushMs).unref();
    }
  }
}
