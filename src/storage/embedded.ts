import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { prepareConnection, prepareCounterConnection } from './embedded-schema.ts';
import { checkIncrement, storedRecord, toRow, unavailable as engineUnavailable, type NewRow } from './engine-helpers.ts';
import { WalFlusher } from './wal-flusher.ts';
import { StoreUnavailableError, type Counter, type IncrementOptions, type PutOptions, type Store, type StoredRecord } from './store.ts';

/**
 * The embedded engine: one SQLite file in DATA_DIR, shared safely by every process that opens it
 * (the server, the CLI, cluster workers). node:sqlite is synchronous, so each method runs to
 * completion without interleaving inside this process; across processes, SQLite's write lock
 * (waited on for up to busyTimeoutMs) serialises writers.
 */
export const DB_FILE_NAME = 'portcullis.db';

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** How often expired records are physically removed; 0 disables the timer. Default 60 s. */
  sweepIntervalMs?: number;
  /** How long a call waits for another process's write lock before failing. Default 5 s. */
  busyTimeoutMs?: number;
}

export interface EmbeddedStore extends Store {
  readonly engine: 'embedded';
  /** Physically deletes expired records and their tags; returns how many records it removed. */
  sweep(): Promise<number>;
}

export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const { dataDir } = options;
  let db: DatabaseSync | undefined;
  let counters: DatabaseSync | undefined;
  let wal: number | undefined;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, DB_FILE_NAME);
    createPrivateFile(file);
    db = new DatabaseSync(file);
    prepareConnection(db, options.busyTimeoutMs ?? 5_000);
    counters = new DatabaseSync(file);
    prepareCounterConnection(counters, options.busyTimeoutMs ?? 5_000);
    // SQLite keeps the WAL file while any connection is open; flushing it makes commits durable.
    wal = openSync(`${file}-wal`, 'r');
    return new SqliteStore(db, counters, wal, dataDir, options.sweepIntervalMs ?? 60_000);
  } catch (error) {
    if (wal !== undefined) closeSync(wal);
    if (counters?.isOpen) counters.close();
    if (db?.isOpen) db.close();
    throw unavailable(dataDir, `cannot open ${DB_FILE_NAME}`, error);
  }
}

interface RecordRow {
  key: string;
  value: string;
  expires_at: number | null;
  consumed_at: number | null;
}

const LIVE = '(expires_at IS NULL OR expires_at > :now)';

/**
 * Adds to a live counter, or starts one where no record is; returns nothing when an expired
 * record or a live non-counter is in the way (rare: the caller then takes the slow path).
 */
const COUNT_UP = `INSERT INTO records (key, value, expires_at) VALUES (:key, CAST(:by AS INTEGER), :expires_at)
  ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(:by AS INTEGER)
  WHERE ${LIVE} AND json_type(value) = 'integer'
  RETURNING value, expires_at`;
const SWEEP_BATCH = 500;

class SqliteStore implements EmbeddedStore {
  readonly engine = 'embedded';
  readonly #db: DatabaseSync;
  /** The same file, for rate-limit counters only: their writes do not wait for a flush. */
  readonly #counters: DatabaseSync;
  readonly #countUp: StatementSync;
  readonly #wal: number;
  readonly #flusher: WalFlusher;
  readonly #dataDir: string;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: DatabaseSync, counters: DatabaseSync, wal: number, dataDir: string, sweepIntervalMs: number) {
    this.#db = db;
    this.#counters = counters;
    this.#countUp = counters.prepare(COUNT_UP);
    this.#wal = wal;
    this.#flusher = new WalFlusher(wal);
    this.#dataDir = dataDir;
    this.#sql = prepareStatements(db);
    if (sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => {
        try {
          this.#sweep();
        } catch {
          // Reads already hide expired rows; a busy or failing sweep just waits for the next tick.
        }
      }, sweepIntervalMs).unref();
    }
  }

  async get<T = unknown>(key: string): Promise<StoredRecord<T> | undefined> {
    return this.#use(() => {
      const row = this.#sql.get.get({ key, now: Date.now() }) as RecordRow | undefined;
      return row && toRecord<T>(row);
    });
  }

  async put(key: string, value: unknown, options: PutOptions = {}): Promise<void> {
    const record = toRow(value, options);
    this.#use(() => this.#transaction(() => this.#replace(key, record)));
    await this.#durable();
  }

  async putIfAbsent(key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    const record = toRow(value, options);
    const created = this.#use(() =>
      this.#transaction(() => {
        if (this.#sql.get.get({ key, now: Date.now() })) return false;
        this.#replace(key, record); // an expired record the sweeper has not removed yet
        return true;
      }),
    );
    if (created) await this.#durable();
    return created;
  }

  async consume(key: string): Promise<boolean> {
    const consumed = this.#use(() => this.#consume(key));
    if (consumed) await this.#durable();
    return consumed;
  }

  async consumeAndPut(consumedKey: string, key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    const record = toRow(value, options);
    const written = this.#use(() =>
      this.#transaction(() => {
        if (!this.#consume(consumedKey)) return false;
        this.#replace(key, record);
        return true;
      }),
    );
    if (written) await this.#durable();
    return written;
  }

  async increment(key: string, options: IncrementOptions): Promise<Counter> {
    const { by, ttlMs } = checkIncrement(options);
    return this.#use(() => {
      // One statement, one unflushed commit: the common case of a live counter (or none yet).
      const now = Date.now();
      const counted = this.#countUp.get({ key, by, now, expires_at: now + ttlMs }) as { value: string | number; expires_at: number | null } | undefined;
      if (counted) return { value: Number(counted.value), expiresAtMs: counted.expires_at ?? Number.MAX_SAFE_INTEGER };
      return this.#replaceExpiredCounter(key, by, ttlMs);
    });
  }

  /** An expired record still at the key is replaced (with its tags); a live one that is no counter is a caller error. */
  #replaceExpiredCounter(key: string, by: number, ttlMs: number): Counter {
    return this.#transaction(() => {
      const row = this.#sql.get.get({ key, now: Date.now() }) as RecordRow | undefined;
      if (row) throw new TypeError(`increment: the record at ${key} is not a counter`);
      this.#sql.delete.run({ key });
      this.#insert(key, { value: String(by), ttlMs, tags: [] });
      return { value: by, expiresAtMs: Date.now() + ttlMs };
    });
  }

  async delete(key: string): Promise<void> {
    this.#use(() => this.#sql.delete.run({ key }));
    await this.#durable();
  }

  async findByTag<T = unknown>(tag: string): Promise<Array<{ key: string } & StoredRecord<T>>> {
    return this.#use(() => {
      const rows = this.#sql.findByTag.all({ tag, now: Date.now() }) as unknown as RecordRow[];
      return rows.map((row) => ({ key: row.key, ...toRecord<T>(row) }));
    });
  }

  async deleteByTag(tag: string): Promise<number> {
    // Only live records count; expired ones carrying the tag are left to the sweeper.
    const deleted = this.#use(() => Number(this.#sql.deleteByTag.run({ tag, now: Date.now() }).changes));
    if (deleted > 0) await this.#durable();
    return deleted;
  }

  async ping(): Promise<void> {
    this.#use(() => this.#sql.ping.get());
  }

  async sweep(): Promise<number> {
    return this.#use(() => this.#sweep());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#counters.close();
    this.#db.close();
    closeSync(this.#wal);
  }

  #consume(key: string): boolean {
    return Number(this.#sql.consume.run({ key, now: Date.now() }).changes) === 1;
  }

  /** Deletes whatever record (and tags) the key had, then inserts the new one. */
  #replace(key: string, record: NewRow): void {
    this.#sql.delete.run({ key });
    this.#insert(key, record);
  }

  #insert(key: string, record: NewRow): void {
    const expires_at = record.ttlMs === null ? null : Date.now() + record.ttlMs;
    const { lastInsertRowid } = this.#sql.insert.run({ key, value: record.value, expires_at });
    for (const tag of record.tags) this.#sql.insertTag.run({ tag, record_id: lastInsertRowid });
  }

  // Batches keep each write lock short when a large backlog has expired.
  #sweep(): number {
    let removed = 0;
    for (;;) {
      const changes = Number(this.#sql.sweep.run({ now: Date.now(), limit: SWEEP_BATCH }).changes);
      removed += changes;
      if (changes < SWEEP_BATCH) return removed;
    }
  }

  #transaction<R>(body: () => R): R {
    // IMMEDIATE takes the write lock up front, so the reads inside see what the writes act on.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Waits until the commits so far are on disk (wal-flusher.ts). */
  async #durable(): Promise<void> {
    try {
      await this.#flusher.flush();
    } catch (error) {
      throw unavailable(this.#dataDir, 'cannot flush the database to disk', error);
    }
  }

  /** Runs a database call, turning SQLite failures into StoreUnavailableError. */
  #use<R>(call: () => R): R {
    if (this.#closed) throw unavailable(this.#dataDir, 'the store is closed');
    try {
      return call();
    } catch (error) {
      if (isSqliteError(error)) throw unavailable(this.#dataDir, 'database error', error);
      throw error;
    }
  }
}

function prepareStatements(db: DatabaseSync) {
  const statements = {
    get: `SELECT key, value, expires_at, consumed_at FROM records WHERE key = :key AND ${LIVE}`,
    insert: `INSERT INTO records (key, value, expires_at) VALUES (:key, :value, :expires_at)`,
    insertTag: `INSERT OR IGNORE INTO tags (tag, record_id) VALUES (:tag, :record_id)`,
    delete: `DELETE FROM records WHERE key = :key`,
    setValue: `UPDATE records SET value = :value WHERE key = :key`,
    consume: `UPDATE records SET consumed_at = :now WHERE key = :key AND consumed_at IS NULL AND ${LIVE}`,
    findByTag: `SELECT r.key, r.value, r.expires_at, r.consumed_at FROM tags t JOIN records r ON r.id = t.record_id
                WHERE t.tag = :tag AND ${LIVE} ORDER BY r.id`,
    deleteByTag: `DELETE FROM records WHERE id IN (SELECT record_id FROM tags WHERE tag = :tag) AND ${LIVE}`,
    sweep: `DELETE FROM records WHERE id IN (SELECT id FROM records WHERE expires_at <= :now LIMIT :limit)`,
    ping: `SELECT 1 FROM records LIMIT 1`,
  };
  return Object.fromEntries(
    Object.entries(statements).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as Record<keyof typeof statements, StatementSync>;
}

function toRecord<T>(row: RecordRow): StoredRecord<T> {
  return storedRecord<T>(row.value, row.consumed_at, row.expires_at);
}

/** Creates the database file owner-only before SQLite does (SQLite gives its WAL files the same mode). */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_SQLITE_ERROR' || code === 'ERR_INVALID_STATE';
}

function unavailable(dataDir: string, what: string, cause?: unknown): StoreUnavailableError {
  return engineUnavailable('embedded', `DATA_DIR=${dataDir}`, what, cause);
}
