import { hash } from 'node:crypto';
import { LruCache } from './lru.ts';
import type { VerifiedToken } from './verified-token.ts';

interface Entry {
  token: VerifiedToken;
  scopes: ReadonlySet<string>;
  notBeforeMs: number;
  expiresAtMs: number;
}

export interface CachedToken {
  token: VerifiedToken;
  scopes: ReadonlySet<string>;
}

/**
 * Verified tokens keyed by the SHA-256 of the token (the token itself is not kept). An entry is
 * only returned between the token's nbf/iat and its exp (no clock tolerance: outside that
 * window the caller verifies again, which applies the tolerance and names the error).
 */
export class TokenCache {
  readonly #entries: LruCache<string, Entry>;
  readonly #now: () => number;

  constructor(capacity: number, now: () => number) {
    this.#entries = new LruCache(capacity);
    this.#now = now;
  }

  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(key: string): CachedToken | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now >= entry.expiresAtMs) {
      this.#entries.delete(key);
      return undefined;
    }
    if (now < entry.notBeforeMs) return undefined;
    return entry;
  }

  set(key: string, token: VerifiedToken, scopes: ReadonlySet<string>, notBeforeSeconds: number): void {
    this.#entries.set(key, { token, scopes, notBeforeMs: notBeforeSeconds * 1000, expiresAtMs: token.expiresAt * 1000 });
  }

  get size(): number {
    return this.#entries.size;
  }
}
