import { TokenVerificationError } from './errors.ts';
import { scopesOf } from './scopes.ts';
import type { VerifiedToken } from './verified-token.ts';

export interface ClaimRules {
  issuer: string;
  resource: string;
  nowSeconds: number;
  toleranceSeconds: number;
}

function optionalNumericDate(claims: Record<string, unknown>, name: 'nbf' | 'iat'): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TokenVerificationError('malformed', `the ${name} claim must be a number`);
  return value;
}

function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * Checks the claims of a token whose signature is already verified, and builds the result.
 * Also returns the earliest time (s) the token is valid from, for the token cache.
 */
export function checkClaims(claims: Record<string, unknown>, rules: ClaimRules): { token: VerifiedToken; scopes: ReadonlySet<string>; validFrom: number } {
  const { issuer, resource, nowSeconds, toleranceSeconds } = rules;

  if (claims.iss !== issuer) throw new TokenVerificationError('wrong_issuer', 'the token was issued by another issuer');

  const aud = claims.aud;
  const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((item) => typeof item === 'string') ? (aud as string[]) : undefined;
  if (audience === undefined && aud !== undefined) throw new TokenVerificationError('malformed', 'the aud claim must be a string or an array of strings');
  if (audience === undefined || !audience.includes(resource)) throw new TokenVerificationError('wrong_audience', 'the token is not meant for this resource');

  const exp = claims.exp;
  if (exp === undefined) throw new TokenVerificationError('malformed', 'the token has no exp claim');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new TokenVerificationError('malformed', 'the exp claim must be a number');
  if (exp <= nowSeconds - toleranceSeconds) throw new TokenVerificationError('expired', 'the token has expired');

  const nbf = optionalNumericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > nowSeconds + toleranceSeconds) throw new TokenVerificationError('not_yet_valid', 'the token is not valid yet (nbf)');
  const iat = optionalNumericDate(claims, 'iat');
  if (iat !== undefined && iat > nowSeconds + toleranceSeconds) throw new TokenVerificationError('not_yet_valid', 'the token was issued in the future (iat)');

  const subject = optionalString(claims, 'sub');
  if (subject === undefined) throw new TokenVerificationError('malformed', 'the token has no sub claim');

  const scopes = scopesOf(claims);
  const jti = optionalString(claims, 'jti');
  const token: VerifiedToken = deepFreeze({
    subject,
    clientId: optionalString(claims, 'client_id') ?? optionalString(claims, 'azp') ?? optionalString(claims, 'appid'),
    scopes,
    audience,
    issuer,
    expiresAt: exp,
    ...(iat === undefined ? {} : { issuedAt: iat }),
    ...(jti === undefined ? {} : { jti }),
    claims,
  });
  return { token, scopes: new Set(scopes), validFrom: Math.max(nbf ?? Number.NEGATIVE_INFINITY, iat ?? Number.NEGATIVE_INFINITY) };
}
