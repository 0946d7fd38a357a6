import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../config/index.ts';

/** A directory held by this process until `release` (or until the process dies, however it dies). */
export interface DirectoryLock {
  release(): void;
}

export interface LockRequest {
  dir: string;
  /** The lock file's name in `dir`; different holders of one directory use different names. */
  file: string;
  /** The setting that names the directory, for the error. */
  setting: string;
  /** What the directory holds, for the error: "the audit log", "the embedded store". */
  what: string;
}

/**
 * One process at a time: an exclusive SQLite transaction on a small lock database. SQLite takes
 * it with fcntl locks, which the kernel drops when the process exits, even on SIGKILL, and
 * which SQLite also enforces between connections inside one process. The holder's pid sits in a
 * file beside it, for the error the next process prints.
 */
export function lockDirectory(request: LockRequest): DirectoryLock {
  const path = join(request.dir, request.file);
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    // No journal file: nothing is ever written to the lock database.
    db.exec('PRAGMA journal_mode = MEMORY; BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (!/locked|busy/i.test((error as Error).message)) throw new ConfigError(request.setting, `cannot lock ${path} (${(error as Error).message})`);
    throw new ConfigError(request.setting, `${request.dir} is in use by another process (pid ${holderPid(path)}): only one process may write ${request.what}`);
  }
  writeFileSync(`${path}.pid`, `${process.pid}\n`, { mode: 0o600 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function holderPid(lockPath: string): string {
  try {
    return readFileSync(`${lockPath}.pid`, 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}
