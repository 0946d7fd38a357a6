import type { DatabaseSync } from 'node:sqlite';

/**
 * Connection settings and schema of the embedded engine's database file. Times are epoch
 * milliseconds. `id` is an explicit INTEGER PRIMARY KEY (stable across VACUUM) so that it orders
 * records by creation; a replaced record is deleted and re-inserted, so it becomes the newest.
 */
/** SQL condition of a record that has not expired at :now. */
export const LIVE = '(expires_at IS NULL OR expires_at > :now)';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    value       TEXT    NOT NULL,
    expires_at  INTEGER,
    consumed_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS tags (
    tag       TEXT    NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, record_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS tags_record_id ON tags (record_id);
`;

export function prepareConnection(db: DatabaseSync, busyTimeoutMs: number): void {
  // busy_timeout first: switching to WAL needs a lock another process may hold.
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  // Tags are removed with their records by ON DELETE CASCADE, which needs this on every connection.
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA journal_mode = WAL');
  // Commits are atomic and survive a process crash; the store flushes the WAL (wal-flusher.ts)
  // before a write resolves, so codes, grants and tokens are on disk when their call returns.
  db.exec('PRAGMA synchronous = NORMAL');
  immediateTransaction(db, () => db.exec(SCHEMA));
}

/** Runs `body` in one transaction; IMMEDIATE takes the write lock up front, so the reads inside see what the writes act on. */
export function immediateTransaction<R>(db: DatabaseSync, body: () => R): R {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The second connection, for rate-limit counters: commits are not flushed to disk
 * (WAL with synchronous=NORMAL), so they stay atomic and never corrupt the file, but a power
 * loss may undo the last increments. A flushed commit would cost a disk flush on every request.
 */
export function prepareCounterConnection(db: DatabaseSync, busyTimeoutMs: number): void {
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA synchronous = NORMAL');
}
