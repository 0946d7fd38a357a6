import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { DB_FILE_NAME, openEmbeddedStore } from '../../src/storage/embedded.ts';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-counters-'));
  tempDirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Never flushed by the timer within a test: only flushCounters and close write. */
const NO_TIMER = 3_600_000;
const batched = { ttlSeconds: 3600, batched: true } as const;

/** The counter in the file itself, bypassing any process's memory. */
function storedCount(dataDir: string, key: string): number | undefined {
  const db = new DatabaseSync(join(dataDir, DB_FILE_NAME), { readOnly: true });
  try {
    const row = db.prepare('SELECT value FROM records WHERE key = ?').get(key) as { value: string | number } | undefined;
    return row === undefined ? undefined : Number(row.value);
  } finally {
    db.close();
  }
}

describe('embedded engine: batched counters', () => {
  test('count in memory until a flush, then keep their counts across a clean close and reopen', async () => {
    const dataDir = await tempDir();
    const first = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: NO_TIMER });
    for (let n = 0; n < 5; n++) await first.increment('ratelimit:clean', batched);
    assert.equal(storedCount(dataDir, 'ratelimit:clean'), undefined, 'no write per increment');
    assert.equal((await first.get('ratelimit:clean'))?.value, 5);
    await first.close();
    assert.equal(storedCount(dataDir, 'ratelimit:clean'), 5, 'close writes what is pending');

    const second = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: NO_TIMER });
    try {
      assert.equal((await second.increment('ratelimit:clean', batched)).value, 6);
    } finally {
      await second.close();
    }
  });

  test('are written on the flush timer with no request needed', async () => {
    const dataDir = await tempDir();
    const store = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: 20 });
    try {
      await store.increment('ratelimit:timer', { ...batched, by: 3 });
      while (storedCount(dataDir, 'ratelimit:timer') === undefined) await sleep(10);
      assert.equal(storedCount(dataDir, 'ratelimit:timer'), 3);
    } finally {
      await store.close();
    }
  });

  test('add to what another process counted meanwhile, and take its window', async () => {
    const dataDir = await tempDir();
    const batchedStore = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: NO_TIMER });
    const other = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: 0 });
    try {
      await batchedStore.increment('ratelimit:shared', { ...batched, by: 2 });
      const counted = await other.increment('ratelimit:shared', { ttlSeconds: 60, by: 3 });
      await batchedStore.flushCounters();
      assert.equal(storedCount(dataDir, 'ratelimit:shared'), 5);
      const after = await batchedStore.get<number>('ratelimit:shared');
      assert.equal(after?.value, 5);
      assert.equal(after?.expiresAt, Math.ceil(counted.expiresAtMs / 1000), 'the window already in the file wins');
    } finally {
      await other.close();
      await batchedStore.close();
    }
  });

  test('forget the pending counts of a deleted or replaced counter', async () => {
    const dataDir = await tempDir();
    const store = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0, counterFlushMs: NO_TIMER });
    try {
      await store.increment('ratelimit:deleted', { ...batched, by: 4 });
      await store.delete('ratelimit:deleted');
      await store.increment('ratelimit:replaced', { ...batched, by: 4 });
      await store.put('ratelimit:replaced', 'not a counter');
      await store.flushCounters();
      assert.equal(await store.get('ratelimit:deleted'), undefined);
      assert.equal(storedCount(dataDir, 'ratelimit:deleted'), undefined);
      assert.equal((await store.get('ratelimit:replaced'))?.value, 'not a counter');
    } finally {
      await store.close();
    }
  });
});

const INDEX_URL = pathToFileURL(resolve('src/storage/embedded.ts')).href;

// Counts 5 and flushes, counts 3 more, says so, and waits to be killed.
const COUNT_THEN_WAIT = `
const [moduleUrl, dataDir] = process.argv.slice(1);
const { openEmbeddedStore } = await import(moduleUrl);
const store = await openEmbeddedStore({ dataDir, counterFlushMs: ${NO_TIMER} });
const batched = { ttlSeconds: 3600, batched: true };
for (let n = 0; n < 5; n++) await store.increment('ratelimit:crash', batched);
await store.flushCounters();
for (let n = 0; n < 3; n++) await store.increment('ratelimit:crash', batched);
process.stdout.write('counted\\n');
setInterval(() => {}, 1000);
`;

describe('embedded engine: batched counters when the process is killed', () => {
  test('lose the counts since the last flush, and only those', async () => {
    const dataDir = await tempDir();
    const child = spawn(process.execPath, ['--input-type=module', '--eval', COUNT_THEN_WAIT, INDEX_URL, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk; });
    await new Promise<void>((resolveKilled, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('counted')) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolveKilled() : reject(new Error(`child exited by itself: ${stderr}`))));
    });
    const store = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0 });
    try {
      assert.equal((await store.get('ratelimit:crash'))?.value, 5, 'the flushed 5 survive; the 3 counted after the flush are lost');
    } finally {
      await store.close();
    }
  });
});
