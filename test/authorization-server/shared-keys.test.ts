import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCookieKeys } from '../../src/authorization-server/cookie-keys.ts';
import { checkSharedKeys } from '../../src/authorization-server/shared-keys.ts';
import { loadKeyRing, rotateKey } from '../../src/keys/index.ts';
import { openRedisStore, type RedisStore } from '../../src/storage/index.ts';
import { captureLog } from '../support/captured-log.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const COOKIE_KEY_A = 'a'.repeat(40);
const COOKIE_KEY_B = 'b'.repeat(40);

describe('the warning about keys that instances on one Redis do not share', () => {
  let root: string;
  const prefixes: string[] = [];
  const stores: RedisStore[] = [];

  before(async () => { root = await mkdtemp(join(tmpdir(), 'portcullis-shared-keys-')); });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(prefixes.map((prefix) => deleteKeysUnder(prefix)));
    await rm(root, { recursive: true, force: true });
  });

  async function sharedRedis(): Promise<RedisStore> {
    const prefix = uniqueRedisPrefix('test:shared-keys');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: TEST_REDIS_URL, prefix });
    stores.push(store);
    return store;
  }

  /** One instance's start-up check; the warnings it logged. Without COOKIE_KEYS, cookie keys come from KEYS_DIR. */
  async function startInstance(store: RedisStore, keysDir: string, cookieKeys?: string): Promise<string[]> {
    const signing = await loadKeyRing({ secretPath: join(root, 'absent'), keysDir });
    const { log, lines } = captureLog();
    await checkSharedKeys(store, { signing, cookieKeys: loadCookieKeys({ cookieKeys, keysDir }) }, log);
    return lines.filter((line) => line.level === 40).map((line) => String(line.msg));
  }

  it('stays quiet when the first instance generates the keys in a KEYS_DIR the others share', async () => {
    const store = await sharedRedis();
    const keysDir = join(root, 'shared');
    assert.deepEqual(await startInstance(store, keysDir), [], 'the instance that generated them');
    assert.deepEqual(await startInstance(store, keysDir), [], 'the instance that loaded them');
  });

  it('warns the instance whose own KEYS_DIR holds other keys, on every start, naming what to share', async () => {
    const store = await sharedRedis();
    assert.deepEqual(await startInstance(store, join(root, 'own-a')), []);
    for (let start = 0; start < 2; start++) {
      const warnings = await startInstance(store, join(root, 'own-b'));
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /another instance on this Redis signs with a key this instance does not have.*RSA_PRIVATE_KEY_PEM/);
      assert.match(warnings[1]!, /another instance on this Redis signs cookies with a key this instance does not have.*COOKIE_KEYS/);
    }
  });

  it('warns about cookie keys alone when only they differ, and never logs a cookie key', async () => {
    const store = await sharedRedis();
    const keysDir = join(root, 'cookies');
    assert.deepEqual(await startInstance(store, keysDir, COOKIE_KEY_A), []);
    const { log, lines } = captureLog();
    const signing = await loadKeyRing({ secretPath: join(root, 'absent'), keysDir });
    await checkSharedKeys(store, { signing, cookieKeys: [COOKIE_KEY_B] }, log);
    assert.deepEqual(lines.filter((line) => line.level === 40).map((line) => line.record), ['deployment:cookie-key']);
    assert.doesNotMatch(JSON.stringify(lines), /aaaa|bbbb/);
  });

  it('stays quiet through rotations: a new signing key in the shared KEYS_DIR, a new cookie key put first', async () => {
    const store = await sharedRedis();
    const keysDir = join(root, 'rotated');
    await startInstance(store, keysDir, COOKIE_KEY_A);
    await rotateKey(keysDir);
    assert.deepEqual(await startInstance(store, keysDir, `${COOKIE_KEY_B},${COOKIE_KEY_A}`), [], 'the first instance back, with the new keys');
    assert.deepEqual(await startInstance(store, keysDir, `${COOKIE_KEY_B},${COOKIE_KEY_A}`), [], 'the next one');
  });
});
