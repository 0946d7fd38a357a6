import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { DB_FILE_NAME, openEmbeddedStore } from '../../src/storage/embedded.ts';
import { openStore, StoreUnavailableError } from '../../src/storage/index.ts';
import { describeStoreContract } from './contract.ts';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
  tempDirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract('embedded', async () => openEmbeddedStore({ dataDir: await tempDir() }));

/** Rows in the file itself, bypassing the store: the record under `key` and tags named `<key>:*`. */
function countRows(dataDir: string, key: string): { records: number; tags: number } {
  const db = new DatabaseSync(join(dataDir, DB_FILE_NAME), { readOnly: true });
  try {
    const count = (sql: string) => Number((db.prepare(sql).get(key) as { n: number }).n);
    return {
      records: count('SELECT count(*) AS n FROM records WHERE key = ?'),
      tags: count(`SELECT count(*) AS n FROM tags WHERE substr(tag, 1, length(?1) + 1) = ?1 || ':'`),
    };
  } finally {
    db.close();
  }
}

function assertOneLineUnavailable(error: unknown, dataDir: string): true {
  assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${error}`);
  assert.ok(error.message.includes(`DATA_DIR=${dataDir}`), error.message);
  assert.doesNotMatch(error.message, /[\r\n]/);
  return true;
}

describe('embedded store', () => {
  test('keeps records, tags and consumed marks across close and reopen', async () => {
    const dataDir = await tempDir();
    const first = await openEmbeddedStore({ dataDir });
    await first.put('user:alice', { name: 'Alice' }, { tags: ['users'] });
    await first.put('code:1', 'code', { ttlSeconds: 600, tags: ['grant:g1'] });
    await first.consume('code:1');
    await first.close();

    const second = await openStore({ dataDir });
    try {
      assert.deepEqual(await second.findByTag('users'), [{ key: 'user:alice', value: { name: 'Alice' } }]);
      const code = await second.get('code:1');
      assert.equal(code?.value, 'code');
      assert.equal(typeof code?.consumedAt, 'number');
      assert.equal(await second.consume('code:1'), false);
      assert.equal(await second.deleteByTag('grant:g1'), 1);
    } finally {
      await second.close();
    }
  });

  test('creates an owner-only data directory and database file in WAL mode', { skip: process.platform === 'win32' }, async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const store = await openEmbeddedStore({ dataDir });
    await store.close();

    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dataDir, DB_FILE_NAME))).mode & 0o777, 0o600);
    const db = new DatabaseSync(join(dataDir, DB_FILE_NAME));
    assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
    db.close();
  });

  test('lets exactly one of two processes consume each key', async () => {
    const dataDir = await tempDir();
    const keys = Array.from({ length: 20 }, (_, i) => `race:${i}`);
    const store = await openEmbeddedStore({ dataDir });
    for (const key of keys) await store.put(key, key, { ttlSeconds: 600 });

    const racers = [spawnConsumer(dataDir, keys), spawnConsumer(dataDir, keys)];
    await Promise.all(racers.map((r) => r.ready));
    for (const racer of racers) racer.go();
    const wins = (await Promise.all(racers.map((r) => r.wins))).flat();

    assert.deepEqual(wins.toSorted(), keys.toSorted());
    for (const key of keys) assert.equal(typeof (await store.get(key))?.consumedAt, 'number');
    await store.close();
  });

  test('reports an unusable DATA_DIR as a one-line StoreUnavailableError', async () => {
    const dir = await tempDir();
    const file = join(dir, 'a-regular-file');
    await writeFile(file, 'not a directory');
    const underFile = join(file, 'data');
    await assert.rejects(openStore({ dataDir: underFile }), (error) => assertOneLineUnavailable(error, underFile));

    const corrupt = join(dir, 'corrupt');
    await openEmbeddedStore({ dataDir: corrupt }).then((store) => store.close());
    await writeFile(join(corrupt, DB_FILE_NAME), 'this is not an SQLite database '.repeat(100));
    await rm(join(corrupt, `${DB_FILE_NAME}-wal`), { force: true });
    await rm(join(corrupt, `${DB_FILE_NAME}-shm`), { force: true });
    await assert.rejects(openStore({ dataDir: corrupt }), (error) => assertOneLineUnavailable(error, corrupt));
  });

  test('answers with StoreUnavailableError once closed', async () => {
    const dataDir = await tempDir();
    const store = await openEmbeddedStore({ dataDir });
    await store.close();
    await store.close();
    await assert.rejects(store.ping(), (error) => assertOneLineUnavailable(error, dataDir));
    await assert.rejects(store.get('any'), StoreUnavailableError);
  });

  test('rejects values and TTLs it cannot store as caller errors, not outages', async () => {
    const store = await openEmbeddedStore({ dataDir: await tempDir() });
    try {
      await assert.rejects(store.put('k', undefined), TypeError);
      await assert.rejects(store.put('k', 'v', { ttlSeconds: -1 }), RangeError);
      await assert.rejects(store.putIfAbsent('k', 'v', { ttlSeconds: Number.NaN }), RangeError);
      assert.equal(await store.get('k'), undefined);
    } finally {
      await store.close();
    }
  });

  test('physically removes expired records and their tags, on demand and on a timer', async () => {
    const manualDir = await tempDir();
    const timedDir = await tempDir();
    const manual = await openEmbeddedStore({ dataDir: manualDir, sweepIntervalMs: 0 });
    const timed = await openEmbeddedStore({ dataDir: timedDir, sweepIntervalMs: 100 });
    const key = `sweep:${randomUUID()}`;
    for (const store of [manual, timed]) {
      await store.put(key, 'expiring', { ttlSeconds: 1, tags: [`${key}:a`, `${key}:b`, 'shared'] });
      await store.put('keep', 'kept', { tags: ['keep:a', 'shared'] });
    }
    assert.deepEqual(countRows(manualDir, key), { records: 1, tags: 2 });

    await sleep(1_300);

    assert.deepEqual(countRows(timedDir, key), { records: 0, tags: 0 });
    assert.deepEqual(countRows(manualDir, key), { records: 1, tags: 2 }, 'hidden but not yet swept');
    assert.equal(await manual.get(key), undefined);
    assert.equal(await manual.sweep(), 1);
    assert.deepEqual(countRows(manualDir, key), { records: 0, tags: 0 });
    assert.deepEqual(countRows(manualDir, 'keep'), { records: 1, tags: 1 });
    assert.equal(await manual.sweep(), 0);
    await Promise.all([manual.close(), timed.close()]);
  });
});

const INDEX_URL = pathToFileURL(resolve(import.meta.dirname, '../../src/storage/index.ts')).href;

// Opens the store, says "ready", waits for a line on stdin, then hammers consume on each key.
const CONSUMER = `
const [indexUrl, dataDir, keysJson] = process.argv.slice(1);
const { openStore } = await import(indexUrl);
const store = await openStore({ dataDir });
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const wins = [];
for (const key of JSON.parse(keysJson)) {
  for (let attempt = 0; attempt < 20; attempt++) if (await store.consume(key)) wins.push(key);
}
await store.close();
process.stdout.write(JSON.stringify(wins) + '\\n');
`;

function spawnConsumer(dataDir: string, keys: string[]) {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '--eval', CONSUMER, INDEX_URL, dataDir, JSON.stringify(keys)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) resolveReady();
    });
    child.on('exit', () => reject(new Error(`consumer exited before ready: ${stderr}`)));
  });
  const wins = new Promise<string[]>((resolveWins, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`consumer exited with ${code}: ${stderr}`));
      resolveWins(JSON.parse(stdout.slice('ready\n'.length)) as string[]);
    });
  });
  return { ready, wins, go: () => child.stdin.end('go\n') };
}

// Counts up and writes a record, printing each acknowledged count, until it is killed.
const COUNTER = `
const [indexUrl, dataDir] = process.argv.slice(1);
const { openStore } = await import(indexUrl);
const store = await openStore({ dataDir });
for (let n = 1; ; n++) {
  await store.increment('ratelimit:crash', { ttlSeconds: 3600 });
  await store.put('oidc:Grant:crash-' + n, { n });
  process.stdout.write(n + '\\n');
}
`;

// Rotates a chain of tokens (each one spends the one before), printing each acknowledged rotation, until it is killed.
const ROTATOR = `
const [indexUrl, dataDir] = process.argv.slice(1);
const { openStore } = await import(indexUrl);
const store = await openStore({ dataDir });
await store.put('oidc:RefreshToken:crash-0', { n: 0 }, { tags: ['oidc:grant:crash'] });
for (let n = 1; ; n++) {
  if (!(await store.consumeAndPut('oidc:RefreshToken:crash-' + (n - 1), 'oidc:RefreshToken:crash-' + n, { n }, { tags: ['oidc:grant:crash'] }))) process.exit(3);
  process.stdout.write(n + '\\n');
}
`;

/** Runs a script that prints acknowledged numbers, and kills it once it has acknowledged `count`. */
async function killAfter(script: string, dataDir: string, count: number): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '--eval', script, INDEX_URL, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let acknowledged = 0;
  await new Promise<void>((resolveKilled) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = chunk.toString().trim().split('\n');
      acknowledged = Number(lines.at(-1));
      if (acknowledged >= count && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolveKilled());
  });
  assert.ok(acknowledged >= count, 'the child acknowledged writes before it was killed');
  return acknowledged;
}

describe('embedded engine: a process killed mid-write', () => {
  test('keeps every acknowledged counter increment and record (counters are unflushed, not uncommitted)', async () => {
    const dataDir = await tempDir();
    const acknowledged = await killAfter(COUNTER, dataDir, 30);
    const store = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0 });
    try {
      const counted = (await store.get<number>('ratelimit:crash'))!.value;
      assert.ok(counted >= acknowledged, `${counted} counted, ${acknowledged} acknowledged`);
      assert.ok(counted <= acknowledged + 1, 'at most the increment in flight when killed is extra');
      assert.deepEqual((await store.get(`oidc:Grant:crash-${acknowledged}`))?.value, { n: acknowledged });
    } finally {
      await store.close();
    }
  });

  test('leaves exactly one usable token of a rotating chain, the last acknowledged or the one in flight, never a spent one without its successor', async () => {
    const dataDir = await tempDir();
    const acknowledged = await killAfter(ROTATOR, dataDir, 30);
    const store = await openEmbeddedStore({ dataDir, sweepIntervalMs: 0 });
    try {
      const chain = await store.findByTag<{ n: number }>('oidc:grant:crash');
      const usable = chain.filter((record) => record.consumedAt === undefined).map((record) => record.value.n);
      assert.equal(usable.length, 1, `usable tokens: ${usable.join(', ')}`);
      assert.ok(usable[0] === acknowledged || usable[0] === acknowledged + 1, `usable ${usable[0]}, ${acknowledged} acknowledged`);
      assert.deepEqual(chain.map((record) => record.value.n), Array.from({ length: usable[0]! + 1 }, (_, n) => n), 'every token up to the usable one is stored');
    } finally {
      await store.close();
    }
  });
});
