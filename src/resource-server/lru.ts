/**
 * A bounded least-recently-used cache holding at most `capacity` entries (0 disables it).
 *
 * Two generations of Maps instead of one reordered Map: a hit in the young generation costs one
 * Map lookup (no delete + re-insert churn, which makes V8 rehash a busy Map); a hit in the old
 * generation promotes the entry. When the young generation is full it becomes the old one and
 * the previous old one is dropped, so what is evicted is always the least recently used half.
 */
export class LruCache<K, V> {
  readonly #generationSize: number;
  readonly #enabled: boolean;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new TypeError('capacity must be a non-negative integer');
    this.#enabled = capacity > 0;
    // The young generation rotates on reaching this size, so there are at most 2g-1 <= capacity entries.
    this.#generationSize = Math.max(1, Math.ceil(capacity / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#insert(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (!this.#enabled) return;
    if (this.#young.has(key)) {
      this.#young.set(key, value);
      return;
    }
    this.#old.delete(key);
    this.#insert(key, value);
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  #insert(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}
