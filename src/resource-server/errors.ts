/**
 * Why a bearer token was refused. Callers switch on `code`; `message` is for logs and never
 * contains the token.
 */
export type TokenErrorCode =
  /** No token was presented at all. */
  | 'missing_token'
  /** The request carried a token in a way we refuse (two tokens, wrong scheme, token in the query). */
  | 'invalid_request'
  /** Not a compact JWS, or a header/claim has the wrong shape. */
  | 'malformed'
  | 'invalid_signature'
  /** `alg` is not in the allow-list (`none` and HS* never are), or the key cannot be used with it. */
  | 'unsupported_alg'
  | 'missing_kid'
  /** No key with that `kid` at the issuer, even after a (rate-limited) JWKS refresh. */
  | 'unknown_kid'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  /** Discovery or JWKS could not be fetched or was unusable: not the token's fault. */
  | 'issuer_unreachable'
  | 'insufficient_scope';

export interface TokenVerificationErrorOptions {
  /** For `insufficient_scope`: every scope the operation needs, granted ones included. */
  requiredScopes?: readonly string[];
  /** For `insufficient_scope`: the required scopes the token lacks. */
  missingScopes?: readonly string[];
  cause?: unknown;
}

/**
 * A refused token; `code` says why (see TokenErrorCode).
 *
 * @example
 * try { await verifier.verify(raw); } catch (error) {
 *   if (error instanceof TokenVerificationError && error.code === 'expired') askForANewToken();
 * }
 */
export class TokenVerificationError extends Error {
  override readonly name = 'TokenVerificationError';
  readonly code: TokenErrorCode;
  readonly requiredScopes: readonly string[];
  readonly missingScopes: readonly string[];

  constructor(code: TokenErrorCode, message: string, options: TokenVerificationErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.requiredScopes = Object.freeze([...(options.requiredScopes ?? [])]);
    this.missingScopes = Object.freeze([...(options.missingScopes ?? [])]);
  }
}

/**
 * Whether an error is a token refusal (answer 400/401/403/503) rather than a bug.
 *
 * @example
 * if (isTokenVerificationError(error)) log.info({ code: error.code }, 'token refused');
 */
export function isTokenVerificationError(error: unknown): error is TokenVerificationError {
  return error instanceof TokenVerificationError;
}
