import type { KeyObject } from 'node:crypto';
import { jwkFitsAlgorithm, type PublicJwk, type SupportedAlgorithm } from './algorithms.ts';
import { discoverIssuer, type IssuerMetadata } from './discovery.ts';
import { TokenVerificationError } from './errors.ts';
import { fetchJson, type FetchLike } from './fetch-json.ts';
import { importVerificationKey } from './signature.ts';

export interface JwksCacheOptions {
  issuer: string;
  fetch: FetchLike;
  now: () => number;
  /** How long discovery and the JWKS are trusted before they are fetched again. */
  ttlMs: number;
  /** Minimum time between two fetch attempts that are not due to the TTL (unknown kid, failures). */
  cooldownMs: number;
  timeoutMs: number;
  allowInsecureHttp: boolean;
  /** Told whether each lookup was served from the cache (for metrics). */
  onLookup?: ((result: 'hit' | 'miss') => void) | undefined;
}

interface KeySet {
  byKid: Map<string, PublicJwk[]>;
  fetchedAt: number;
}

/** Public signing keys with a kid; symmetric and private keys are never taken from a JWKS. */
function parseJwks(body: unknown): Map<string, PublicJwk[]> | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) return undefined;
  const byKid = new Map<string, PublicJwk[]>();
  for (const key of (body as { keys: unknown[] }).keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) continue;
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kid !== 'string' || jwk.kid === '' || typeof jwk.kty !== 'string') continue;
    if (jwk.kty === 'oct' || 'd' in jwk) continue;
    if (jwk.alg !== undefined && typeof jwk.alg !== 'string') continue;
    if (jwk.use !== undefined && typeof jwk.use !== 'string') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.every((op) => typeof op === 'string'))) continue;
    const list = byKid.get(jwk.kid) ?? [];
    list.push(jwk as PublicJwk);
    byKid.set(jwk.kid, list);
  }
  return byKid;
}

/**
 * The issuer's verification keys: discovery and the JWKS are fetched once per TTL, concurrent
 * callers share one fetch, an unknown kid causes at most one refresh per cool-down, and each
 * key is imported once per (kid, alg).
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  #metadata: { value: IssuerMetadata; fetchedAt: number } | undefined;
  #keys: KeySet | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  readonly #imported = new Map<string, KeyObject>();

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /** The key to verify a token with this kid and alg, or a TokenVerificationError. */
  async getKey(kid: string, alg: SupportedAlgorithm): Promise<KeyObject> {
    const cacheKey = `${alg} ${kid}`;
    const now = this.#options.now();
    const fresh = this.#keys !== undefined && now - this.#keys.fetchedAt < this.#options.ttlMs;
    if (fresh) {
      const imported = this.#imported.get(cacheKey);
      if (imported) {
        this.#options.onLookup?.('hit');
        return imported;
      }
    }
    this.#options.onLookup?.('miss');
    if (this.#keys === undefined) {
      await this.#refresh();
    } else if (!fresh && this.#mayRefresh(now)) {
      // Past the TTL: refetch; on failure keep the keys we have (the issuer may be briefly down).
      await this.#refresh().catch(() => {});
    }

    let candidates = this.#keys!.byKid.get(kid);
    if (candidates === undefined) {
      if (this.#inflight) await this.#inflight.catch(() => {});
      else if (this.#mayRefresh(this.#options.now())) await this.#refresh().catch(() => {});
      candidates = this.#keys!.byKid.get(kid);
    }
    if (candidates === undefined) throw new TokenVerificationError('unknown_kid', 'the issuer has no key with the token\'s kid');

    const jwk = candidates.find((candidate) => jwkFitsAlgorithm(candidate, alg));
    if (jwk === undefined) throw new TokenVerificationError('unsupported_alg', `the issuer's key for the token's kid cannot verify ${alg}`);
    return this.#import(cacheKey, jwk, alg);
  }

  #mayRefresh(now: number): boolean {
    return now - this.#lastAttemptAt >= this.#options.cooldownMs;
  }

  #import(cacheKey: string, jwk: PublicJwk, alg: SupportedAlgorithm): KeyObject {
    let imported = this.#imported.get(cacheKey);
    if (!imported) {
      try {
        imported = importVerificationKey(jwk, alg);
      } catch (cause) {
        throw new TokenVerificationError('issuer_unreachable', 'the issuer published a key that cannot be imported', { cause });
      }
      this.#imported.set(cacheKey, imported);
    }
    return imported;
  }

  /** Single-flight fetch of discovery (when stale) and the JWKS. Throws issuer_unreachable. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetchKeys().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchKeys(): Promise<void> {
    const { fetch, timeoutMs, ttlMs, allowInsecureHttp, issuer } = this.#options;
    this.#lastAttemptAt = this.#options.now();
    if (this.#metadata === undefined || this.#options.now() - this.#metadata.fetchedAt >= ttlMs) {
      try {
        const value = await discoverIssuer(issuer, { fetch, timeoutMs, allowInsecureHttp });
        this.#metadata = { value, fetchedAt: this.#options.now() };
      } catch (error) {
        if (this.#metadata === undefined) throw error;
      }
    }
    const jwksUri = this.#metadata.value.jwks_uri;
    const result = await fetchJson(fetch, jwksUri, timeoutMs);
    const byKid = result.ok ? parseJwks(result.body) : undefined;
    if (byKid === undefined) {
      const reason = result.ok ? `${jwksUri} is not a JWK Set` : result.reason;
      throw new TokenVerificationError('issuer_unreachable', `could not fetch the issuer's keys: ${reason}`, { cause: result.ok ? undefined : result.cause });
    }
    this.#forgetChangedKeys(byKid);
    this.#keys = { byKid, fetchedAt: this.#options.now() };
  }

  /** Imported keys stay cached across refreshes unless their JWK changed or disappeared. */
  #forgetChangedKeys(next: Map<string, PublicJwk[]>): void {
    const previous = this.#keys?.byKid;
    for (const cacheKey of [...this.#imported.keys()]) {
      const kid = cacheKey.slice(cacheKey.indexOf(' ') + 1);
      if (JSON.stringify(previous?.get(kid)) !== JSON.stringify(next.get(kid))) this.#imported.delete(cacheKey);
    }
  }
}
