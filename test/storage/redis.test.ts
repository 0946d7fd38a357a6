import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRedisStore } from '../../src/storage/redis.ts';
import { openStore, StoreUnavailableError } from '../../src/storage/index.ts';
import { Redis } from 'ioredis';
import { captureLog } from '../support/captured-log.ts';
import { startOwnRedis } from '../support/redis-server.ts';
import { deleteKeysUnder, keysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';
import { describeStoreContract } from './contract.ts';

const prefixes: string[] = [];
function prefix(): string {
  const p = uniqueRedisPrefix('test:store');
  prefixes.push(p);
  return p;
}
after(async () => {
  await Promise.all(prefixes.map((p) => deleteKeysUnder(p)));
});

describeStoreContract('redis', async () => openRedisStore({ url: TEST_REDIS_URL, prefix: prefix() }));

describe('redis store', () => {
  test('is the engine openStore picks when REDIS_URL is set', async () => {
    const store = await openStore({ dataDir: '/nonexistent/never-created', redisUrl: TEST_REDIS_URL, redisPrefix: prefix() });
    try {
      assert.equal(store.engine, 'redis');
      await store.ping();
    } finally {
      await store.close();
    }
  });

  test('keeps every key under its prefix and leaves nothing behind once records expire', async () => {
    const p = prefix();
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix: p });
    try {
      await store.put('grant-a:code', 'code', { ttlSeconds: 1, tags: ['grant:a', 'uid:1'] });
      await store.put('grant-a:refresh', 'refresh', { ttlSeconds: 1, tags: ['grant:a'] });
      await store.putIfAbsent('session', 'session', { ttlSeconds: 1, tags: ['uid:1'] });
      await store.consume('grant-a:code');
      await store.increment('counter', { ttlSeconds: 1 });
      await store.put('replaced', 'first', { ttlSeconds: 60, tags: ['old-tag'] });
      await store.put('replaced', 'second', { ttlSeconds: 1, tags: ['new-tag'] });
      assert.ok((await keysUnder(p)).length > 0);

      await sleep(1_300);

      assert.deepEqual(await keysUnder(p), [], 'records, tag indexes and counters all expire');
    } finally {
      await store.close();
    }
  });

  test('removes a tag index as soon as its last record is deleted', async () => {
    const p = prefix();
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix: p });
    try {
      await store.put('a', 'a', { tags: ['grant:x'] });
      await store.put('b', 'b', { tags: ['grant:x', 'other'] });
      await store.delete('a');
      assert.equal(await store.deleteByTag('grant:x'), 1);
      assert.deepEqual(await keysUnder(p), []);
    } finally {
      await store.close();
    }
  });

  test('looks records up by tag without writing to Redis (nothing for replicas or the append-only file)', async () => {
    const own = await startOwnRedis();
    const store = await openRedisStore({ url: own.url, prefix: 'reads:' });
    const admin = new Redis(own.url);
    try {
      await store.put('grant-a:refresh', 'refresh', { ttlSeconds: 600, tags: ['grant:a'] });
      await store.put('grant-a:access', 'access', { ttlSeconds: 60, tags: ['grant:a'] });
      const changes = async () => Number(/rdb_changes_since_last_save:(\d+)/.exec(await admin.info('persistence'))![1]);
      const before = await changes();

      for (let read = 0; read < 3; read += 1) assert.equal((await store.findByTag('grant:a')).length, 2);

      assert.equal(await changes(), before, 'no key was changed by the lookups');
    } finally {
      admin.disconnect();
      await store.close();
      await own.stop();
    }
  });

  test('fails fast with a one-line StoreUnavailableError naming REDIS_URL when Redis cannot be reached', async () => {
    const error = await openRedisStore({ url: 'redis://user:s3cret@127.0.0.1:1/0', prefix: prefix(), timeoutMs: 500 }).then(
      () => assert.fail('opened'), (caught: unknown) => caught,
    );
    assert.ok(error instanceof StoreUnavailableError, String(error));
    assert.match(error.message, /REDIS_URL=redis:\/\/127\.0\.0\.1:1\/0/);
    assert.doesNotMatch(error.message, /s3cret|[\r\n]/);
  });

  test('answers with StoreUnavailableError once closed, without reporting the close as a lost connection', async () => {
    const captured = captureLog('info');
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix: prefix(), log: captured.log });
    await store.ping();
    await store.close();
    await store.close();
    await assert.rejects(store.ping(), StoreUnavailableError);
    await assert.rejects(store.get('any'), StoreUnavailableError);
    assert.deepEqual(captured.lines, []);
  });

  test('sends reads issued together as one command, each answered on its own', async () => {
    const own = await startOwnRedis();
    const store = await openRedisStore({ url: own.url, prefix: prefix() });
    const inspector = new Redis(own.url);
    try {
      await store.put('grant', { id: 'g' }, { tags: ['account:a'] });
      await store.put('session', { id: 's' }, { tags: ['account:b'] });
      const scriptsRun = async () => [...(await inspector.info('commandstats')).matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)]
        .reduce((sum, [, calls]) => sum + Number(calls), 0);
      const before = await scriptsRun();

      const [grant, signal, ofA, ofB] = await Promise.all([store.get('grant'), store.get('no-signal'), store.findByTag('account:a'), store.findByTag('account:b')]);

      assert.equal(await scriptsRun() - before, 1, 'one script, where each tag alone takes one');
      assert.deepEqual(grant, { value: { id: 'g' } });
      assert.equal(signal, undefined);
      assert.deepEqual(ofA.map(({ key, value }) => ({ key, value })), [{ key: 'grant', value: { id: 'g' } }]);
      assert.deepEqual(ofB.map(({ key, value }) => ({ key, value })), [{ key: 'session', value: { id: 's' } }]);
    } finally {
      inspector.disconnect();
      await store.close();
      await own.stop();
    }
  });

  test('keeps the order calls were made in: a read made before a write does not see it, one made after does', async () => {
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix: prefix() });
    try {
      await store.put('record', 'first');
      const [before, , after] = await Promise.all([store.get('record'), store.put('record', 'second'), store.get('record')]);
      assert.equal(before?.value, 'first');
      assert.equal(after?.value, 'second');
    } finally {
      await store.close();
    }
  });
});
