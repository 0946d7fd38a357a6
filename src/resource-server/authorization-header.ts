import { TokenVerificationError } from './errors.ts';

// RFC 6750 §2.1 b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface BearerRequestParts {
  /** The Authorization header(s): a string, or every value when the request repeated it. */
  authorization: string | readonly string[] | undefined;
  /** Whether the URL query carries `access_token` (refused: tokens belong in the header). */
  accessTokenInQuery?: boolean;
}

/**
 * The bearer token of a request. Only the Authorization header is accepted (RFC 6750 §2.1):
 * no header is `missing_token`; a repeated header, another scheme, an empty or multi-part
 * credential, or a token in the query is `invalid_request`.
 *
 * @example
 * const raw = extractBearerToken({ authorization: req.headers.authorization });
 * const token = await verifier.verify(raw);
 */
export function extractBearerToken(parts: BearerRequestParts): string {
  if (parts.accessTokenInQuery) throw new TokenVerificationError('invalid_request', 'Access tokens are only accepted in the Authorization header.');
  let header = parts.authorization;
  if (Array.isArray(header)) {
    if (header.length > 1) throw new TokenVerificationError('invalid_request', 'The request has more than one Authorization header.');
    header = header[0];
  }
  if (header === undefined || (typeof header === 'string' && header.trim() === '')) {
    throw new TokenVerificationError('missing_token', 'no access token was presented');
  }
  const value = (header as string).trim();
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/.exec(value);
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    throw new TokenVerificationError('invalid_request', 'The Authorization header must use the Bearer scheme.');
  }
  const credentials = match[2] ?? '';
  if (credentials === '') throw new TokenVerificationError('invalid_request', 'The Authorization header has no token.');
  if (!B64TOKEN.test(credentials)) throw new TokenVerificationError('invalid_request', 'The Authorization header must carry exactly one token.');
  return credentials;
}
