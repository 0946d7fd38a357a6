import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster } from 'ioredis';
import { openStore, StoreUnavailableError } from '../../src/storage/index.ts';
import { openRedisStore } from '../../src/storage/redis.ts';
import { startOwnCluster, type OwnCluster } from '../support/redis-topologies.ts';
import { uniqueRedisPrefix } from '../support/redis.ts';
import { describeStoreContract } from './contract.ts';

// One cluster for the file: three masters on loopback, started by the test.
let cluster: OwnCluster;
before(async () => { cluster = await startOwnCluster(3); });
after(() => cluster?.stop());

describeStoreContract('redis', async () => openRedisStore({ cluster: { nodes: cluster.nodes }, prefix: uniqueRedisPrefix('test:cluster') }));

describe('redis store on a Cluster of three masters', () => {
  test('is the engine openStore picks for REDIS_CLUSTER_NODES, and keeps one prefix\'s keys, records and indexes, in one hash slot', async () => {
    const prefix = uniqueRedisPrefix('test:cluster');
    const store = await openStore({ dataDir: '/nonexistent/never-created', redisClusterNodes: cluster.nodes, redisPrefix: prefix });
    const inspector = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    try {
      assert.equal(store.engine, 'redis');
      await store.put('grant-1:token', { a: 1 }, { ttlSeconds: 60, tags: ['grant:1', 'uid:x'] });
      await store.put('grant-2:token', { a: 2 }, { ttlSeconds: 60, tags: ['grant:2'] });
      await store.increment('counter', { ttlSeconds: 60 });
      assert.equal(await store.deleteByTag('grant:1'), 1);
      const keys = [`{${prefix}}r:grant-2:token`, `{${prefix}}t:grant:2`, `{${prefix}}r:counter`];
      const slots = await Promise.all(keys.map((key) => inspector.cluster('KEYSLOT', key)));
      assert.equal(new Set(slots).size, 1, 'one slot');
      assert.deepEqual(await Promise.all(keys.map((key) => inspector.exists(key))), [1, 1, 1], 'written under the hash-tagged prefix');
      assert.equal(await inspector.exists(`{${prefix}}t:grant:1`), 0, 'the revoked grant\'s index is gone');
    } finally {
      await store.close();
      inspector.disconnect();
    }
  });

  test('spreads the keys of different prefixes over the masters', async () => {
    const inspector = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    try {
      await inspector.cluster('SLOTS');
      const prefixes = Array.from({ length: 12 }, (_, index) => `tenant-${index}:`);
      const owners = new Set(await Promise.all(prefixes.map(async (prefix) => {
        const slot = await inspector.cluster('KEYSLOT', `{${prefix}}r:x`);
        return inspector.slots[slot]?.[0];
      })));
      assert.equal(owners.size, 3, `every master holds some of the prefixes: ${[...owners].join(', ')}`);
    } finally {
      inspector.disconnect();
    }
  });

  test('waits for the slot\'s replicas under REDIS_WAIT_REPLICAS, and refuses a write none confirms (these masters have none)', async () => {
    const store = await openRedisStore({ cluster: { nodes: cluster.nodes }, prefix: uniqueRedisPrefix('test:cluster'), waitReplicas: 1, timeoutMs: 400 });
    try {
      await assert.rejects(store.put('unconfirmed', 1), (error: unknown) =>
        error instanceof StoreUnavailableError && /REDIS_CLUSTER_NODES=/.test(error.message) && /only 0 of 1 replicas confirmed the write/.test(error.message));
    } finally {
      await store.close();
    }
  });
});

