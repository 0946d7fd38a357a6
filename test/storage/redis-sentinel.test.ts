import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, StoreUnavailableError } from '../../src/storage/index.ts';
import { openRedisStore } from '../../src/storage/redis.ts';
import { redisCli, startOwnSentinelSetup, type OwnSentinelSetup } from '../support/redis-topologies.ts';
import { uniqueRedisPrefix } from '../support/redis.ts';
import { describeStoreContract } from './contract.ts';

// One primary with one replica behind one sentinel, started by the test; every write waits for the replica.
let setup: OwnSentinelSetup;
before(async () => { setup = await startOwnSentinelSetup({ replicas: 1 }); });
after(() => setup?.stop());

describeStoreContract('redis', async () => openRedisStore({
  sentinel: { sentinels: setup.sentinels, name: setup.name }, prefix: uniqueRedisPrefix('test:sentinel'), waitReplicas: 1,
}));

describe('redis store behind Sentinel', () => {
  test('is the engine openStore picks for REDIS_SENTINELS, and writes to the primary the sentinels name', async () => {
    const prefix = uniqueRedisPrefix('test:sentinel');
    const store = await openStore({ dataDir: '/nonexistent/never-created', redisSentinels: setup.sentinels, redisSentinelName: setup.name, redisPrefix: prefix, redisWaitReplicas: 1 });
    try {
      await store.put('written', 'yes');
      assert.match(await redisCli(await setup.primaryPort(), 'HGET', `${prefix}r:written`, 'v'), /"yes"/);
    } finally {
      await store.close();
    }
  });

  test('refuses a write that fewer replicas confirm than REDIS_WAIT_REPLICAS asks for, naming the sentinels', async () => {
    const store = await openRedisStore({ sentinel: { sentinels: setup.sentinels, name: setup.name }, prefix: uniqueRedisPrefix('test:sentinel'), waitReplicas: 2, timeoutMs: 400 });
    try {
      await assert.rejects(store.put('unconfirmed', 1), (error: unknown) =>
        error instanceof StoreUnavailableError && /REDIS_SENTINELS=127\.0\.0\.1:\d+ \(portcullis-test\)/.test(error.message) && /only 1 of 2 replicas confirmed the write/.test(error.message));
      assert.deepEqual(await store.get('missing'), undefined, 'reads go on');
    } finally {
      await store.close();
    }
  });

  test('follows a planned failover (SENTINEL FAILOVER) to the promoted replica without being reopened, keeping what it wrote', async () => {
    const prefix = uniqueRedisPrefix('test:sentinel');
    const store = await openRedisStore({ sentinel: { sentinels: setup.sentinels, name: setup.name }, prefix, waitReplicas: 1 });
    try {
      await store.put('before', 'kept');
      const from = await setup.primaryPort();
      await redisCli(Number(setup.sentinels[0]!.split(':')[1]), 'SENTINEL', 'FAILOVER', setup.name);
      const deadline = Date.now() + 20_000;
      while (await setup.primaryPort() === from && Date.now() < deadline) await sleep(100);
      const to = await setup.primaryPort();
      assert.notEqual(to, from, 'the sentinels promoted the replica');
      let written = false;
      while (!written && Date.now() < deadline) {
        written = await store.put('after', 'written').then(() => true, () => false);
        if (!written) await sleep(200);
      }
      assert.ok(written, 'writes resume');
      assert.match(await redisCli(to, 'HGET', `${prefix}r:after`, 'v'), /"written"/, 'on the new primary');
      assert.equal((await store.get('before'))?.value, 'kept');
    } finally {
      await store.close();
    }
  });
});

