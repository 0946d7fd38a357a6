/** The asymmetric JWS algorithms a verifier may be configured with. `none` and HS* never are. */
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256'] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export const DEFAULT_ALGORITHMS: readonly SupportedAlgorithm[] = ['RS256'];

function isSupportedAlgorithm(alg: string): alg is SupportedAlgorithm {
  return (SUPPORTED_ALGORITHMS as readonly string[]).includes(alg);
}

/** Validates a configured allow-list; anything outside SUPPORTED_ALGORITHMS is a TypeError. */
export function allowedAlgorithms(configured: readonly string[] | undefined): ReadonlySet<SupportedAlgorithm> {
  const list = configured ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('algorithms must be a non-empty array');
  const allowed = new Set<SupportedAlgorithm>();
  for (const alg of list) {
    if (typeof alg !== 'string' || !isSupportedAlgorithm(alg)) {
      throw new TypeError(`algorithm ${JSON.stringify(alg)} is not allowed (allowed: ${SUPPORTED_ALGORITHMS.join(', ')}; symmetric and "none" never are)`);
    }
    allowed.add(alg);
  }
  return allowed;
}

/** The public-key JWK members that matter when choosing a key; the rest is passed to importJWK. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  [member: string]: unknown;
}

/**
 * Whether a JWK may verify a JWS with this alg: the key type must fit the algorithm, and a key
 * that names its own `alg`, `use` or `key_ops` must allow it.
 */
export function jwkFitsAlgorithm(jwk: PublicJwk, alg: SupportedAlgorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  if (alg === 'ES256') return jwk.kty === 'EC' && jwk.crv === 'P-256';
  return jwk.kty === 'RSA';
}
