import { insufficientScopeChallenge, invalidRequestChallenge, invalidTokenChallenge, missingTokenChallenge } from './challenge.ts';
import type { TokenErrorCode, TokenVerificationError } from './errors.ts';

export interface TokenErrorResponse {
  status: 400 | 401 | 403 | 503;
  /** The WWW-Authenticate value; absent for 503 (the token was not judged). */
  wwwAuthenticate: string | undefined;
  body: { error: string; error_description: string };
}

export interface TokenErrorContext {
  /** URL of this resource's protected resource metadata. */
  resourceMetadata: string;
  /** Scopes to hint in 400/401 challenges (the operation's, or the resource's scopes_supported). */
  scopes?: readonly string[];
}

const INVALID_TOKEN_DESCRIPTIONS: Record<Exclude<TokenErrorCode, 'missing_token' | 'invalid_request' | 'insufficient_scope' | 'issuer_unreachable'>, string> = {
  malformed: 'The access token is malformed.',
  invalid_signature: 'The access token signature is invalid.',
  unsupported_alg: 'The access token is signed with an algorithm or key that is not accepted.',
  missing_kid: 'The access token does not name its signing key.',
  unknown_kid: 'The access token is signed with an unknown key.',
  expired: 'The access token expired.',
  not_yet_valid: 'The access token is not valid yet.',
  wrong_issuer: 'The access token was issued by an authorization server this resource does not trust.',
  wrong_audience: 'The access token was issued for another resource.',
  wrong_type: 'The token is not an access token.',
};

/**
 * How to answer a refused request, so that every caller (Koa middleware, MCP transport, plain
 * node:http) answers the same way: 400 invalid_request, 401 (no error attribute when no token
 * was sent, else invalid_token), 403 insufficient_scope naming every required scope, or 503 when
 * the authorization server could not be reached.
 *
 * @example
 * const { status, wwwAuthenticate, body } = tokenErrorResponse(error, { resourceMetadata: metadataUrlFor(resource) });
 */
export function tokenErrorResponse(error: TokenVerificationError, context: TokenErrorContext): TokenErrorResponse {
  const { resourceMetadata } = context;
  const scope = context.scopes ?? [];
  switch (error.code) {
    case 'missing_token': {
      const description = 'This resource requires a bearer access token.';
      return { status: 401, wwwAuthenticate: missingTokenChallenge({ resourceMetadata, scope }), body: { error: 'unauthorized', error_description: description } };
    }
    case 'invalid_request': {
      const description = error.message;
      return { status: 400, wwwAuthenticate: invalidRequestChallenge({ resourceMetadata, scope, description }), body: { error: 'invalid_request', error_description: description } };
    }
    case 'insufficient_scope': {
      const required = error.requiredScopes.length > 0 ? error.requiredScopes : scope;
      const description = `The access token lacks the scope(s): ${error.missingScopes.join(' ')}.`;
      return { status: 403, wwwAuthenticate: insufficientScopeChallenge({ resourceMetadata, scope: required, description }), body: { error: 'insufficient_scope', error_description: description } };
    }
    case 'issuer_unreachable': {
      const description = 'The authorization server could not be reached to verify the access token. Try again later.';
      return { status: 503, wwwAuthenticate: undefined, body: { error: 'temporarily_unavailable', error_description: description } };
    }
    default: {
      const description = INVALID_TOKEN_DESCRIPTIONS[error.code];
      return { status: 401, wwwAuthenticate: invalidTokenChallenge({ resourceMetadata, scope, description }), body: { error: 'invalid_token', error_description: description } };
    }
  }
}
