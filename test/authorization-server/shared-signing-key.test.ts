import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkSharedSigningKey } from '../../src/authorization-server/shared-signing-key.ts';
import { loadKeyRing, rotateKey } from '../../src/keys/index.ts';
import { openRedisStore, type RedisStore } from '../../src/storage/index.ts';
import { captureLog } from '../support/captured-log.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

describe('the warning about a signing key that instances on one Redis do not share', () => {
  let root: string;
  const prefixes: string[] = [];
  const stores: RedisStore[] = [];

  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-shared-key-')); });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(prefixes.map((prefix) => deleteKeysUnder(prefix)));
    await rm(root, { recursive: true, force: true });
  });

  async function sharedRedis(): Promise<RedisStore> {
    const prefix = uniqueRedisPrefix('test:shared-key');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix });
    stores.push(store);
    return store;
  }

  /** Starts one instance's key check and returns the warnings it logged. */
  async function startInstance(store: RedisStore, keysDir: string): Promise<string[]> {
    const keys = await loadKeyRing({ secretPath: join(root, 'absent'), keysDir });
    const { log, lines } = captureLog();
    await checkSharedSigningKey(store, keys, log);
    return lines.filter((line) => line.level === 40).map((line) => String(line.msg));
  }

  it('stays quiet when the first instance generates the key in a KEYS_DIR the others share', async () => {
    const store = await sharedRedis();
    const keysDir = join(root, 'shared');
    assert.deepEqual(await startInstance(store, keysDir), [], 'the instance that generated it');
    assert.deepEqual(await startInstance(store, keysDir), [], 'the instance that loaded it');
  });

  it('warns the instance whose own KEYS_DIR holds another key, on every start, naming what to share', async () => {
    const store = await sharedRedis();
    assert.deepEqual(await startInstance(store, join(root, 'own-a')), []);
    for (let start = 0; start < 2; start++) {
      const [warning, ...more] = await startInstance(store, join(root, 'own-b'));
      assert.match(warning ?? '', /another instance on this Redis signs with a key this instance does not have.*RSA_PRIVATE_KEY_PEM/);
      assert.deepEqual(more, []);
    }
  });

  it('stays quiet through a rotation in the shared KEYS_DIR, before and after every instance restarts', async () => {
    const store = await sharedRedis();
    const keysDir = join(root, 'rotated');
    await startInstance(store, keysDir);
    await rotateKey(keysDir);
    assert.deepEqual(await startInstance(store, keysDir), [], 'the first instance back, signing with the new key');
    assert.deepEqual(await startInstance(store, keysDir), [], 'the next one');
  });
});
