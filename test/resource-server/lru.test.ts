import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruCache } from '../../src/resource-server/lru.ts';

describe('bounded LRU cache', () => {
  it('never holds more than its capacity', () => {
    for (const capacity of [1, 2, 3, 10, 1000]) {
      const cache = new LruCache<number, number>(capacity);
      for (let index = 0; index < capacity * 5 + 7; index += 1) {
        cache.set(index, index);
        assert.ok(cache.size <= capacity, `capacity ${capacity}: size ${cache.size}`);
      }
      assert.ok(cache.size >= Math.floor(capacity / 2), 'keeps at least half its capacity');
    }
  });

  it('keeps a recently used entry and evicts the least recently used ones', () => {
    const cache = new LruCache<string, number>(10);
    cache.set('hot', 0);
    for (let index = 0; index < 100; index += 1) {
      cache.set(`cold-${index}`, index);
      assert.equal(cache.get('hot'), 0);
    }
    assert.equal(cache.get('cold-0'), undefined);
    assert.equal(cache.get('cold-99'), 99);
  });

  it('stores nothing with capacity 0 and forgets deleted keys', () => {
    const disabled = new LruCache<string, number>(0);
    disabled.set('a', 1);
    assert.equal(disabled.get('a'), undefined);
    const cache = new LruCache<string, number>(4);
    cache.set('a', 1);
    cache.set('a', 2);
    assert.equal(cache.get('a'), 2);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
    assert.throws(() => new LruCache(-1), TypeError);
  });
});
