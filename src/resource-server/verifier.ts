import { allowedAlgorithms, type SupportedAlgorithm } from './algorithms.ts';
import { checkClaims } from './claims.ts';
import { TokenVerificationError } from './errors.ts';
import type { FetchLike } from './fetch-json.ts';
import { JwksCache } from './jwks-cache.ts';
import { decodeJwsHeader, MAX_TOKEN_LENGTH, typMatches } from './jws-header.ts';
import { assertScopes, normalizeRequiredScopes } from './scopes.ts';
import { secureUrl } from './secure-url.ts';
import { verifyCompactSignature } from './signature.ts';
import { TokenCache } from './token-cache.ts';
import type { VerifiedToken } from './verified-token.ts';

export interface TokenVerifierOptions {
  /** The authorization server's issuer identifier, exactly as it appears in `iss`. */
  issuer: string;
  /** This resource server's identifier (RFC 8707): tokens must carry it in `aud`. */
  resource: string;
  /** Accepted JWS algorithms; default ['RS256']. Only RS256/RS384/RS512/PS256/ES256 may be named. */
  algorithms?: readonly string[];
  /** Required header `typ`; default 'at+jwt' (RFC 9068, Portcullis). false for Entra/Auth0 ('JWT'). */
  requireTyp?: 'at+jwt' | false;
  /** Leeway for exp/nbf/iat, in seconds; default 30. */
  clockToleranceSeconds?: number;
  /** How long discovery and the JWKS are cached; default 1 hour. */
  jwksCacheTtlMs?: number;
  /** Minimum time between JWKS refreshes caused by unknown kids (or failures); default 30 s. */
  unknownKidCooldownMs?: number;
  /** Verified tokens kept in the LRU cache; default 10 000 (0 disables it). */
  tokenCacheSize?: number;
  /** Time-out of each discovery or JWKS request; default 5 s. */
  httpTimeoutMs?: number;
  /** Allow a plain-http issuer and jwks_uri that are not on loopback. Never in production. */
  allowInsecureHttp?: boolean;
  fetch?: FetchLike;
  /** Told whether each signing-key lookup was a JWKS cache hit, e.g. to count it in metrics. */
  onKeyLookup?: (result: 'hit' | 'miss') => void;
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
}

export interface VerifyOptions {
  /** Every scope the operation needs; missing ones fail with insufficient_scope. */
  requiredScopes?: readonly string[];
}

export interface TokenVerifier {
  readonly issuer: string;
  readonly resource: string;
  /** Resolves with the verified token, or rejects with a TokenVerificationError. */
  verify(token: string, options?: VerifyOptions): Promise<VerifiedToken>;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A verifier of JWT access tokens from one issuer for one resource.
 *
 * @example
 * const verifier = createTokenVerifier({ issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' });
 * const token = await verifier.verify(raw, { requiredScopes: ['notes:read'] });
 * token.subject; // the user
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('options are required');
  const allowInsecureHttp = options.allowInsecureHttp === true;
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new TypeError('issuer must be a non-empty string');
  const issuerUrl = secureUrl(options.issuer, 'issuer', allowInsecureHttp);
  if (issuerUrl.search !== '' || issuerUrl.hash !== '' || options.issuer.includes('#')) throw new TypeError('issuer must not have a query or fragment');
  if (typeof options.resource !== 'string' || options.resource === '') throw new TypeError('resource must be a non-empty string');
  const algorithms = allowedAlgorithms(options.algorithms);
  const requireTyp = options.requireTyp ?? 'at+jwt';
  if (requireTyp !== 'at+jwt' && requireTyp !== false) throw new TypeError("requireTyp must be 'at+jwt' or false");
  const toleranceSeconds = nonNegative(options.clockToleranceSeconds, 30, 'clockToleranceSeconds');
  const tokenCacheSize = nonNegative(options.tokenCacheSize, 10_000, 'tokenCacheSize');
  if (!Number.isInteger(tokenCacheSize)) throw new TypeError('tokenCacheSize must be an integer');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('fetch must be a function');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function');

  const { issuer, resource } = options;
  const keys = new JwksCache({
    issuer,
    fetch: fetchImpl,
    now,
    ttlMs: nonNegative(options.jwksCacheTtlMs, 60 * 60 * 1000, 'jwksCacheTtlMs'),
    cooldownMs: nonNegative(options.unknownKidCooldownMs, 30_000, 'unknownKidCooldownMs'),
    timeoutMs: nonNegative(options.httpTimeoutMs, 5_000, 'httpTimeoutMs'),
    allowInsecureHttp,
    onLookup: options.onKeyLookup,
  });
  const cache = new TokenCache(tokenCacheSize, now);

  async function verifyUncached(token: string, cacheKey: string, requiredScopes: readonly string[]): Promise<VerifiedToken> {
    const header = decodeJwsHeader(token);
    if (!algorithms.has(header.alg as SupportedAlgorithm)) {
      throw new TokenVerificationError('unsupported_alg', `the token's alg ${JSON.stringify(header.alg.slice(0, 16))} is not accepted`);
    }
    const alg = header.alg as SupportedAlgorithm;
    if (typeof header.kid !== 'string' || header.kid === '') throw new TokenVerificationError('missing_kid', 'the token header has no kid');
    if (requireTyp !== false && !typMatches(header.typ, requireTyp)) {
      throw new TokenVerificationError('wrong_type', `the token's typ is not ${requireTyp}`);
    }

    const key = await keys.getKey(header.kid, alg);
    const payload = verifyCompactSignature(token, header, key, alg);

    let claims: unknown;
    try {
      claims = JSON.parse(decoder.decode(payload));
    } catch {
      throw new TokenVerificationError('malformed', 'the token payload is not JSON');
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new TokenVerificationError('malformed', 'the token payload is not a JSON object');

    const checked = checkClaims(claims as Record<string, unknown>, { issuer, resource, nowSeconds: now() / 1000, toleranceSeconds });
    cache.set(cacheKey, checked.token, checked.scopes, checked.validFrom);
    assertScopes(checked.scopes, requiredScopes);
    return checked.token;
  }

  return {
    issuer,
    resource,
    async verify(token: string, verifyOptions: VerifyOptions = {}): Promise<VerifiedToken> {
      if (typeof token !== 'string' || token === '') throw new TokenVerificationError('missing_token', 'no access token was presented');
      const requiredScopes = normalizeRequiredScopes(verifyOptions.requiredScopes);
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenVerificationError('malformed', 'the token is too long');
      const cacheKey = TokenCache.keyOf(token);
      const cached = cache.get(cacheKey);
      if (cached !== undefined) {
        assertScopes(cached.scopes, requiredScopes);
        return cached.token;
      }
      return verifyUncached(token, cacheKey, requiredScopes);
    },
  };
}
