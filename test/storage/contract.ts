import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../src/storage/store.ts';

/**
 * The behaviour every Store engine must share. Each test works under its own random key and tag
 * prefix, so engines backed by a shared server (Redis) can run it without collisions.
 */
export function describeStoreContract(
  engineName: string,
  open: () => Promise<Store>,
  cleanup?: () => Promise<void>,
): void {
  describe(`Store contract: ${engineName}`, () => {
    let store: Store;
    const unique = () => `contract:${randomUUID()}:`;
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    before(async () => {
      store = await open();
    });

    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    test('reports its engine name and answers ping', async () => {
      assert.equal(store.engine, engineName);
      await store.ping();
    });

    test('returns nested JSON exactly as it was stored', async () => {
      const key = `${unique()}doc`;
      const value = {
        text: 'héllo ✓',
        count: 42,
        ratio: 0.5,
        flag: false,
        nothing: null,
        list: [1, 'two', { three: [3] }],
        nested: { deeper: { deepest: ['a', 'b'] } },
      };
      await store.put(key, value);
      assert.deepEqual(await store.get(key), { value });

      await store.put(`${key}:string`, 'just a string');
      assert.deepEqual(await store.get(`${key}:string`), { value: 'just a string' });
    });

    test('returns undefined for a key that was never stored', async () => {
      assert.equal(await store.get(`${unique()}missing`), undefined);
    });

    test('keeps a record without TTL until it is deleted', async () => {
      const key = `${unique()}forever`;
      await store.put(key, { v: 1 }, { ttlSeconds: 0 });
      assert.deepEqual(await store.get(key), { value: { v: 1 } });
      await store.delete(key);
      assert.equal(await store.get(key), undefined);
    });

    test('hides expired records from every read and lets their key be reused', async () => {
      const p = unique();
      const tag = `${p}tag`;
      const onlyExpiredTag = `${p}expired-only`;
      await store.put(`${p}short`, 'short', { ttlSeconds: 1, tags: [tag, onlyExpiredTag] });
      await store.put(`${p}long`, 'long', { ttlSeconds: 3600, tags: [tag] });
      await store.put(`${p}forever`, 'forever', { tags: [tag] });
      await store.put(`${p}unconsumed`, 'unconsumed', { ttlSeconds: 1 });
      assert.equal(await store.putIfAbsent(`${p}once`, 'first', { ttlSeconds: 1 }), true);
      assert.equal(await store.putIfAbsent(`${p}once`, 'second', { ttlSeconds: 1 }), false);

      const expiresAt = (await store.get(`${p}short`))?.expiresAt;
      assert.ok(expiresAt !== undefined && expiresAt >= nowSeconds() && expiresAt <= nowSeconds() + 2, `expiresAt ${expiresAt}`);

      await sleep(1_300);

      assert.equal(await store.get(`${p}short`), undefined);
      assert.equal(await store.consume(`${p}unconsumed`), false);
      assert.equal((await store.get(`${p}long`))?.value, 'long');
      assert.deepEqual(await store.get(`${p}forever`), { value: 'forever' });
      assert.deepEqual(
        (await store.findByTag(tag)).map((r) => r.key),
        [`${p}long`, `${p}forever`],
      );
      assert.deepEqual(await store.findByTag(onlyExpiredTag), []);
      assert.equal(await store.deleteByTag(onlyExpiredTag), 0);
      assert.equal(await store.putIfAbsent(`${p}once`, 'again'), true);
      assert.deepEqual(await store.get(`${p}once`), { value: 'again' });
    });

    test('putIfAbsent creates only when no record has the key, and again after deletion', async () => {
      const key = `${unique()}slot`;
      assert.equal(await store.putIfAbsent(key, 'first', { tags: [`${key}:tag`] }), true);
      assert.equal(await store.putIfAbsent(key, 'second'), false);
      assert.deepEqual(await store.get(key), { value: 'first' });
      assert.deepEqual((await store.findByTag(`${key}:tag`)).map((r) => r.value), ['first']);

      await store.delete(key);
      assert.equal(await store.putIfAbsent(key, 'third'), true);
      assert.deepEqual(await store.get(key), { value: 'third' });
    });

    test('consume succeeds once, then fails, and marks the record consumed', async () => {
      const key = `${unique()}code`;
      await store.put(key, { code: 'abc' }, { ttlSeconds: 60 });
      const before = nowSeconds();
      assert.equal(await store.consume(key), true);
      assert.equal(await store.consume(key), false);

      const record = await store.get(key);
      assert.deepEqual(record?.value, { code: 'abc' });
      assert.ok(
        record?.consumedAt !== undefined && record.consumedAt >= before && record.consumedAt <= nowSeconds(),
        `consumedAt ${record?.consumedAt}`,
      );
      assert.equal(await store.putIfAbsent(key, 'replacement'), false, 'a consumed record is still live');
    });

    test('lets exactly one of 50 concurrent consume calls succeed', async () => {
      const key = `${unique()}race`;
      await store.put(key, 'once');
      const results = await Promise.all(Array.from({ length: 50 }, () => store.consume(key)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('consume of a missing key fails', async () => {
      assert.equal(await store.consume(`${unique()}missing`), false);
    });

    test('consumeAndPut marks the old record consumed and writes the new one with its TTL and tags', async () => {
      const p = unique();
      await store.put(`${p}old`, 'old token', { ttlSeconds: 60, tags: [`${p}grant`] });
      const before = nowSeconds();
      assert.equal(await store.consumeAndPut(`${p}old`, `${p}new`, 'new token', { ttlSeconds: 60, tags: [`${p}grant`] }), true);

      const old = await store.get(`${p}old`);
      assert.ok(old?.consumedAt !== undefined && old.consumedAt >= before, `consumedAt ${old?.consumedAt}`);
      const written = await store.get(`${p}new`);
      assert.equal(written?.value, 'new token');
      assert.equal(written?.consumedAt, undefined);
      assert.ok(written?.expiresAt !== undefined && written.expiresAt > before, `expiresAt ${written?.expiresAt}`);
      assert.deepEqual((await store.findByTag(`${p}grant`)).map(({ key }) => key), [`${p}old`, `${p}new`]);
    });

    test('consumeAndPut writes nothing when the old record is already consumed or missing', async () => {
      const p = unique();
      await store.put(`${p}old`, 'old token');
      assert.equal(await store.consume(`${p}old`), true);
      assert.equal(await store.consumeAndPut(`${p}old`, `${p}new`, 'new token', { tags: [`${p}grant`] }), false);
      assert.equal(await store.consumeAndPut(`${p}missing`, `${p}other`, 'new token'), false);

      assert.equal(await store.get(`${p}new`), undefined);
      assert.equal(await store.get(`${p}other`), undefined);
      assert.deepEqual(await store.findByTag(`${p}grant`), []);
    });

    test('of 20 concurrent consumeAndPut calls on one record, exactly one consumes it and writes', async () => {
      const p = unique();
      await store.put(`${p}old`, 'once');
      const results = await Promise.all(Array.from({ length: 20 }, (_, n) => store.consumeAndPut(`${p}old`, `${p}new:${n}`, n)));
      assert.equal(results.filter(Boolean).length, 1);
      const written = await Promise.all(results.map((_, n) => store.get(`${p}new:${n}`)));
      assert.deepEqual(written.map((record) => record !== undefined), results);
    });

    test('put replaces value, TTL and tags, and clears the consumed mark', async () => {
      const p = unique();
      const key = `${p}record`;
      await store.put(key, 'old', { ttlSeconds: 60, tags: [`${p}old`, `${p}kept`] });
      assert.equal(await store.consume(key), true);

      await store.put(key, 'new', { tags: [`${p}new`, `${p}kept`] });
      assert.deepEqual(await store.get(key), { value: 'new' });
      assert.deepEqual(await store.findByTag(`${p}old`), []);
      assert.deepEqual(await store.findByTag(`${p}new`), [{ key, value: 'new' }]);
      assert.deepEqual(await store.findByTag(`${p}kept`), [{ key, value: 'new' }]);
      assert.equal(await store.consume(key), true);
    });

    test('findByTag returns the records carrying the tag, oldest first', async () => {
      const p = unique();
      for (const name of ['first', 'second', 'third']) {
        await store.put(`${p}${name}`, { name }, { tags: [`${p}group`, `${p}${name}-own`] });
      }
      await store.put(`${p}other`, { name: 'other' }, { tags: [`${p}elsewhere`] });

      const found = await store.findByTag<{ name: string }>(`${p}group`);
      assert.deepEqual(found.map((r) => [r.key, r.value.name]), [
        [`${p}first`, 'first'],
        [`${p}second`, 'second'],
        [`${p}third`, 'third'],
      ]);
      assert.deepEqual((await store.findByTag(`${p}second-own`)).map((r) => r.key), [`${p}second`]);
      assert.deepEqual(await store.findByTag(`${p}no-such-tag`), []);
    });

    test('answers reads made together, of records and of tags, each with its own result', async () => {
      const p = unique();
      await store.put(`${p}grant`, { grant: 1 }, { ttlSeconds: 60, tags: [`${p}account`] });
      await store.put(`${p}session`, { session: 1 }, { tags: [`${p}account`] });
      await store.consume(`${p}session`);

      const [grant, missing, ofAccount, ofNothing, session] = await Promise.all([
        store.get(`${p}grant`), store.get(`${p}missing`), store.findByTag(`${p}account`), store.findByTag(`${p}nothing`), store.get(`${p}session`),
      ]);

      assert.deepEqual(grant?.value, { grant: 1 });
      assert.equal(typeof grant?.expiresAt, 'number');
      assert.equal(missing, undefined);
      assert.deepEqual(ofAccount.map((r) => r.key), [`${p}grant`, `${p}session`]);
      assert.deepEqual(ofNothing, []);
      assert.equal(typeof session?.consumedAt, 'number');
    });

    test('findByTag includes consumed records with their consumedAt', async () => {
      const p = unique();
      await store.put(`${p}a`, 'a', { tags: [`${p}tag`] });
      await store.consume(`${p}a`);
      const [found] = await store.findByTag(`${p}tag`);
      assert.equal(found?.key, `${p}a`);
      assert.equal(typeof found?.consumedAt, 'number');
    });

    test('deleteByTag removes every record carrying the tag and leaves the others', async () => {
      const p = unique();
      await store.put(`${p}a`, 'a', { tags: [`${p}grant`, `${p}shared`] });
      await store.put(`${p}b`, 'b', { ttlSeconds: 60, tags: [`${p}grant`] });
      await store.put(`${p}c`, 'c', { tags: [`${p}shared`] });
      await store.put(`${p}d`, 'd');

      assert.equal(await store.deleteByTag(`${p}grant`), 2);
      assert.equal(await store.get(`${p}a`), undefined);
      assert.equal(await store.get(`${p}b`), undefined);
      assert.deepEqual(await store.get(`${p}c`), { value: 'c' });
      assert.deepEqual(await store.get(`${p}d`), { value: 'd' });
      assert.deepEqual(await store.findByTag(`${p}grant`), []);
      assert.deepEqual((await store.findByTag(`${p}shared`)).map((r) => r.key), [`${p}c`]);
      assert.equal(await store.deleteByTag(`${p}grant`), 0);
    });

    test('revokes a grant: deleting by its tag removes every token of it, from every other index too', async () => {
      const p = unique();
      await store.put(`${p}code`, 'code', { ttlSeconds: 60, tags: [`${p}grant:1`] });
      await store.put(`${p}refresh`, 'refresh', { ttlSeconds: 3600, tags: [`${p}grant:1`, `${p}uid:a`] });
      await store.put(`${p}access`, 'access', { tags: [`${p}grant:1`] });
      await store.put(`${p}other-grant`, 'other', { ttlSeconds: 3600, tags: [`${p}grant:2`, `${p}uid:a`] });

      assert.equal(await store.deleteByTag(`${p}grant:1`), 3);
      for (const name of ['code', 'refresh', 'access']) assert.equal(await store.get(`${p}${name}`), undefined, name);
      assert.equal(await store.consume(`${p}refresh`), false);
      assert.deepEqual((await store.findByTag(`${p}uid:a`)).map((r) => r.key), [`${p}other-grant`]);
      assert.deepEqual((await store.findByTag(`${p}grant:2`)).map((r) => r.key), [`${p}other-grant`]);
    });

    test('increment starts a counter at 1 with its TTL, then adds while keeping the expiry', async () => {
      const key = `${unique()}counter`;
      const before = Date.now();
      const first = await store.increment(key, { ttlSeconds: 60 });
      assert.equal(first.value, 1);
      assert.ok(first.expiresAtMs >= before + 59_000 && first.expiresAtMs <= Date.now() + 60_000, `expiresAtMs ${first.expiresAtMs}`);
      const second = await store.increment(key, { ttlSeconds: 3600, by: 4 });
      assert.equal(second.value, 5);
      assert.ok(Math.abs(second.expiresAtMs - first.expiresAtMs) < 1_000, 'a later increment keeps the first expiry');
      assert.equal((await store.get(key))?.value, 5);
    });

    test('counts every one of 50 concurrent increments', async () => {
      const key = `${unique()}concurrent`;
      const results = await Promise.all(Array.from({ length: 50 }, () => store.increment(key, { ttlSeconds: 60 })));
      assert.deepEqual(results.map((r) => r.value).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal((await store.get(key))?.value, 50);
    });

    test('counts batched increments like the others: atomically, under one expiry, visible to get', async () => {
      const key = `${unique()}batched`;
      const results = await Promise.all(Array.from({ length: 20 }, () => store.increment(key, { ttlSeconds: 60, batched: true })));
      assert.deepEqual(results.map((r) => r.value).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(new Set(results.map((r) => r.expiresAtMs)).size, 1);
      assert.equal((await store.get(key))?.value, 20);
      assert.equal((await store.increment(key, { ttlSeconds: 60 })).value, 21, 'batched and immediate increments count together');
      await store.delete(key);
      assert.equal(await store.get(key), undefined);
      assert.equal((await store.increment(key, { ttlSeconds: 60, batched: true })).value, 1, 'a deleted counter starts again');
    });

    test('starts counting again once a counter has expired, batched or not', async () => {
      const key = `${unique()}window`;
      await store.increment(key, { ttlSeconds: 1, by: 7 });
      await store.increment(`${key}:batched`, { ttlSeconds: 1, by: 7, batched: true });
      await sleep(1_300);
      assert.equal((await store.increment(key, { ttlSeconds: 60 })).value, 1);
      assert.equal(await store.get(`${key}:batched`), undefined);
      assert.equal((await store.increment(`${key}:batched`, { ttlSeconds: 60, batched: true })).value, 1);
    });

    test('refuses increments it cannot count as caller errors', async () => {
      const key = `${unique()}bad`;
      await assert.rejects(store.increment(key, { ttlSeconds: 0 }), RangeError);
      await assert.rejects(store.increment(key, { ttlSeconds: 60, by: 0 }), RangeError);
      await assert.rejects(store.increment(key, { ttlSeconds: 60, by: 1.5 }), RangeError);
      await store.put(`${key}:text`, 'not a number');
      await assert.rejects(store.increment(`${key}:text`, { ttlSeconds: 60 }), TypeError);
    });

    test('delete removes the record from its tags, even if the key is stored again untagged', async () => {
      const p = unique();
      const key = `${p}record`;
      await store.put(key, 'tagged', { tags: [`${p}tag`] });
      await store.delete(key);
      assert.deepEqual(await store.findByTag(`${p}tag`), []);

      await store.put(key, 'untagged');
      assert.deepEqual(await store.findByTag(`${p}tag`), []);
      await store.delete(`${p}never-stored`);
    });
  });
}
