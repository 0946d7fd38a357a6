import { TokenVerificationError } from './errors.ts';

/** Longer tokens are refused before any work is done (Node's default header limit is 16 KiB). */
export const MAX_TOKEN_LENGTH = 32 * 1024;

// Three base64url segments; the signature may be empty so that `alg: none` is named as such.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface JwsHeader {
  alg: string;
  kid?: unknown;
  typ?: unknown;
  [parameter: string]: unknown;
}

/** The protected header of a compact JWS, before its signature is checked. */
export function decodeJwsHeader(token: string): JwsHeader {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenVerificationError('malformed', 'the token is too long');
  if (!COMPACT_JWS.test(token)) throw new TokenVerificationError('malformed', 'the token is not a compact JWS (three base64url parts)');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    throw new TokenVerificationError('malformed', 'the token header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new TokenVerificationError('malformed', 'the token header is not a JSON object');
  if (typeof (header as { alg?: unknown }).alg !== 'string') throw new TokenVerificationError('malformed', 'the token header has no alg');
  return header as JwsHeader;
}

/** `typ` compared as a media type: case-insensitive, `application/` optional (RFC 7515 §4.1.9). */
export function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false;
  const normalized = typ.toLowerCase();
  return normalized === expected || normalized === `application/${expected}`;
}
