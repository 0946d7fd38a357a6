import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BatchedCounters } from './batched-counters.ts';
import { SqliteCounters } from './embedded-counters.ts';
import { immediateTransaction, LIVE, prepareConnection, prepareCounterConnection } from './embedded-schema.ts';
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
  /**
   * Batched increments (rate limits) are counted in memory and written in one commit this often;
   * 0 writes each in its own commit. Cluster workers never count here: the primary counts for
   * them (PrimaryCountedStore). Default 100 ms.
   */
  counterFlushMs?: number;
}

export interface EmbeddedStore extends Store {
  readonly engine: 'embedded';
  /** Physically deletes expired records and their tags; returns how many records it removed. */
  sweep(): Promise<number>;
  /** Writes the batched counts still held in memory now (close does it too). */
  flushCounters(): Promise<void>;
}

export const DEFAULT_COUNTER_FLUSH_MS = 100;

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
    return new SqliteStore(db, counters, wal, dataDir, options.sweepIntervalMs ?? 60_000, options.counterFlushMs ?? DEFAULT_COUNTER_FLUSH_MS);
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

const SWEEP_BATCH = 500;

class SqliteStore implements EmbeddedStore {
  readonly engine = 'embedded';
  readonly #db: DatabaseSync;
  /** The same file, for rate-limit counters only: their writes do not wait for a flush. */
  readonly #counterDb: DatabaseSync;
  readonly #counters: SqliteCounters;
  readonly #batched: BatchedCounters | undefined;
  readonly #wal: number;
  readonly #flusher: WalFlusher;
  readonly #dataDir: string;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: DatabaseSync, counterDb: DatabaseSync, wal: number, dataDir: string, sweepIntervalMs: number, counterFlushMs: number) {
    this.#db = db;
    this.#wal = wal;
    this.#flusher = new WalFlusher(wal);
    this.#counterDb = counterDb;
    this.#counters = new SqliteCounters(counterDb);
    this.#batched = counterFlushMs > 0 ? new BatchedCounters(this.#counters, counterFlushMs) : undefined;
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
    const counted = this.#batched?.peek(key);
    if (counted) return { value: counted.value as T, expiresAt: Math.ceil(counted.expiresAtMs / 1000) };
    return this.#use(() => {
      const row = this.#sql.get.get({ key, now: Date.now() }) as RecordRow | undefined;
      return row && toRecord<T>(row);
    });
  }

  async put(key: string, value: unknown, options: PutOptions = {}): Promise<void> {
    const record = toRow(value, options);
    this.#batched?.forget(key);
    this.#use(() => this.#transaction(() => this.#replace(key, record)));
    await this.#durable();
  }

  async putIfAbsent(key: string, value: unknown, options: PutOptions = {}): Promise<boolean> {
    const record = toRow(value, options);
    if (this.#batched?.peek(key)) return false;
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
    this.#batched?.forget(key);
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
    const batched = this.#batched;
    return this.#use(() => {
      if (options.batched && batched) return batched.increment(key, by, ttlMs);
      if (batched?.peek(key)) {
        // Counted in memory so far: those counts go to the file first, and later ones read it again.
        batched.flush();
        batched.forget(key);
      }
      return this.#counters.increment(key, by, ttlMs);
    });
  }

  async delete(key: string): Promise<void> {
    this.#batched?.forget(key);
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

  async flushCounters(): Promise<void> {
    this.#use(() => this.#batched?.flush());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      this.#use(() => this.#batched?.flush());
    } finally {
      this.#closed = true;
      this.#batched?.stop();
      clearInterval(this.#sweeper);
      this.#counterDb.close();
      this.#db.close();
      closeSync(this.#wal);
    }
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
    this.#batched?.prune();
    let removed = 0;
    for (;;) {
      const changes = Number(this.#sql.sweep.run({ now: Date.now(), limit: SWEEP_BATCH }).changes);
      removed += changes;
      if (changes < SWEEP_BATCH) return removed;
    }
  }

  #transaction<R>(body: () => R): R {
    return immediateTransaction(this.#db, body);
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
