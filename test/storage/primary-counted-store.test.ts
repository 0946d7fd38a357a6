import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openEmbeddedStore, PrimaryClient, StoreUnavailableError, type Store } from '../../src/storage/index.ts';
import { PrimaryCountedStore } from '../../src/storage/primary-counted-store.ts';
import { CHILD_ENV, PROJECT_ROOT } from '../support/processes.ts';
import { describeStoreContract } from './contract.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-primary-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A primary process on `dataDir`, and a client that talks to it over the real IPC channel. */
async function startPrimary(dataDir: string): Promise<{ child: ChildProcess; client: PrimaryClient }> {
  const child = fork(join(PROJECT_ROOT, 'test/support/store-primary.ts'), [dataDir], { env: CHILD_ENV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  await once(child, 'message');
  const client = new PrimaryClient((request, failed) => child.send(request, failed));
  child.on('message', (message) => client.receive(message));
  child.once('disconnect', () => client.close());
  return { child, client };
}

/** A worker's store as in production: its own connection to the file, counters through the primary. */
async function workerStore(dataDir: string, client: PrimaryClient): Promise<Store> {
  const store = new PrimaryCountedStore(await openEmbeddedStore({ dataDir }), client);
  cleanups.push(() => store.close());
  return store;
}

describe('a cluster worker\'s store (counters at the primary over IPC)', () => {
  describeStoreContract('embedded', async () => {
    const dataDir = await tempDir();
    return workerStore(dataDir, (await startPrimary(dataDir)).client);
  });
});

describe('a cluster worker counting through the primary', () => {
  test('two workers counting one key concurrently reach the exact total, and each count is answered once', async () => {
    const dataDir = await tempDir();
    const { client } = await startPrimary(dataDir);
    const [first, second] = [await workerStore(dataDir, client), await workerStore(dataDir, client)];
    const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? first : second).increment('ratelimit:token-address:a', { ttlSeconds: 60 })));
    assert.deepEqual(counts.map((counter) => counter.value).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal((await first.get<number>('ratelimit:token-address:a'))?.value, 100);
  });

  test('rate-limit keys are read and deleted at the primary, other keys on the worker\'s own store', async () => {
    const [primaryDir, workerDir] = [await tempDir(), await tempDir()];
    const { client } = await startPrimary(primaryDir);
    const worker = await workerStore(workerDir, client);
    await worker.increment('ratelimit:token-client:c', { ttlSeconds: 60, by: 3 });
    await worker.put('oidc:Session:s', { a: 1 });
    const primaryFile = await openEmbeddedStore({ dataDir: primaryDir });
    cleanups.push(() => primaryFile.close());
    assert.equal((await primaryFile.get<number>('ratelimit:token-client:c'))?.value, 3);
    assert.equal(await primaryFile.get('oidc:Session:s'), undefined);
    assert.deepEqual((await worker.get('oidc:Session:s'))?.value, { a: 1 });
    await worker.delete('ratelimit:token-client:c');
    assert.equal(await primaryFile.get('ratelimit:token-client:c'), undefined);
  });

  test('a caller error at the primary reaches the worker as the same error class', async () => {
    const dataDir = await tempDir();
    const worker = await workerStore(dataDir, (await startPrimary(dataDir)).client);
    await worker.put('ratelimit:not-a-counter', { a: 1 });
    await assert.rejects(worker.increment('ratelimit:not-a-counter', { ttlSeconds: 60 }), TypeError);
    await assert.rejects(worker.increment('ratelimit:x', { ttlSeconds: 0 }), RangeError);
  });

  test('when the primary is gone, counting fails as the store being unavailable (503), waiting calls included', async () => {
    const dataDir = await tempDir();
    const { child, client } = await startPrimary(dataDir);
    const worker = await workerStore(dataDir, client);
    assert.equal((await worker.increment('ratelimit:gone', { ttlSeconds: 60 })).value, 1);
    child.kill('SIGKILL');
    const waiting = worker.increment('ratelimit:gone', { ttlSeconds: 60 });
    await assert.rejects(waiting, StoreUnavailableError);
    await once(child, 'exit');
    await assert.rejects(worker.increment('ratelimit:gone', { ttlSeconds: 60 }), StoreUnavailableError);
  });

  test('a primary that never answers fails the call after the timeout instead of holding the request', async () => {
    const silent = new PrimaryClient(() => {}, 20);
    await assert.rejects(silent.call('increment', 'ratelimit:k', [{ ttlSeconds: 60 }]), (error: Error) => error instanceof StoreUnavailableError && /no answer from the primary/.test(error.message));
  });
});
