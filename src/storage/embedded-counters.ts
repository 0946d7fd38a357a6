import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CounterDatabase, PendingCount } from './batched-counters.ts';
import { immediateTransaction, LIVE } from './embedded-schema.ts';
import type { Counter } from './store.ts';

/**
 * Adds to a live counter, or starts one where no record is; returns nothing when an expired
 * record or a live non-counter is in the way (rare: the caller then takes the slow path).
 */
const COUNT_UP = `INSERT INTO records (key, value, expires_at) VALUES (:key, CAST(:by AS INTEGER), :expires_at)
  ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(:by AS INTEGER)
  WHERE ${LIVE} AND json_type(value) = 'integer'
  RETURNING value, expires_at`;

interface CounterRow {
  value: string | number;
  expires_at: number | null;
}

/**
 * The embedded engine's rate-limit counters, on their own connection to the database file (one
 * that commits without a flush, see prepareCounterConnection).
 */
export class SqliteCounters implements CounterDatabase {
  readonly #db: DatabaseSync;
  readonly #countUp: StatementSync;
  readonly #read: StatementSync;
  readonly #delete: StatementSync;
  readonly #insert: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#countUp = db.prepare(COUNT_UP);
    this.#read = db.prepare(`SELECT value, expires_at, json_type(value) = 'integer' AS counter FROM records WHERE key = :key AND ${LIVE}`);
    this.#delete = db.prepare('DELETE FROM records WHERE key = :key');
    this.#insert = db.prepare('INSERT INTO records (key, value, expires_at) VALUES (:key, :value, :expires_at)');
  }

  /** One increment in its own commit. */
  increment(key: string, by: number, ttlMs: number): Counter {
    const now = Date.now();
    // One statement, one unflushed commit: the common case of a live counter (or none yet).
    const counted = this.#countUp.get({ key, by, now, expires_at: now + ttlMs }) as CounterRow | undefined;
    if (counted) return toCounter(counted);
    return this.#transaction(() => {
      if (this.#read.get({ key, now: Date.now() })) throw new TypeError(`increment: the record at ${key} is not a counter`);
      return this.#replaceExpired(key, by, now + ttlMs);
    });
  }

  read(key: string): Counter | undefined {
    const row = this.#read.get({ key, now: Date.now() }) as (CounterRow & { counter: number }) | undefined;
    if (row && !row.counter) throw new TypeError(`increment: the record at ${key} is not a counter`);
    return row && toCounter(row);
  }

  /** Every count in one commit; a key where a live record is no counter (put there since) is left out. */
  write(counts: PendingCount[]): Map<string, Counter> {
    return this.#transaction(() => {
      const now = Date.now();
      const stored = new Map<string, Counter>();
      for (const { key, by, expiresAtMs } of counts) {
        const counted = this.#countUp.get({ key, by, now, expires_at: expiresAtMs }) as CounterRow | undefined;
        if (counted) stored.set(key, toCounter(counted));
        else if (!this.#read.get({ key, now })) stored.set(key, this.#replaceExpired(key, by, expiresAtMs));
      }
      return stored;
    });
  }

  /** Where no live record is, an expired one still at the key is replaced (its tags go with it). */
  #replaceExpired(key: string, by: number, expiresAtMs: number): Counter {
    this.#delete.run({ key });
    this.#insert.run({ key, value: String(by), expires_at: expiresAtMs });
    return { value: by, expiresAtMs };
  }

  #transaction<R>(body: () => R): R {
    return immediateTransaction(this.#db, body);
  }
}

function toCounter(row: CounterRow): Counter {
  return { value: Number(row.value), expiresAtMs: row.expires_at ?? Number.MAX_SAFE_INTEGER };
}
