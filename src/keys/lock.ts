import { open, rm, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'keyring.lock';
/** A lock older than this was left by a process that died; key generation takes well under a second. */
const STALE_AFTER_MS = 30_000;
const RETRY_EVERY_MS = 25;
const GIVE_UP_AFTER_MS = 2 * STALE_AFTER_MS;

export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
}

/**
 * Runs `fn` while holding `<dir>/keyring.lock` (created with O_EXCL), so that processes sharing
 * a keys dir change it one at a time. Callers must re-read the dir inside `fn`.
 */
export async function withKeysDirLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = join(dir, LOCK_FILE);
  await acquire(lockPath);
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function acquire(lockPath: string): Promise<void> {
  const deadline = Date.now() + GIVE_UP_AFTER_MS;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await breakIfStale(lockPath)) continue;
    if (Date.now() > deadline) {
      throw new LockTimeoutError(`${lockPath} is held by another process`);
    }
    await delay(RETRY_EVERY_MS);
  }
}

async function breakIfStale(lockPath: string): Promise<boolean> {
  try {
    const { mtimeMs } = await stat(lockPath);
    if (Date.now() - mtimeMs < STALE_AFTER_MS) return false;
    // Two waiters could both judge the same lock stale; that needs a holder dead for 30 s and
    // two restarts racing within milliseconds, which we accept.
    await rm(lockPath, { force: true });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true; // released meanwhile
    throw error;
  }
}
