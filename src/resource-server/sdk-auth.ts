import { InsufficientScopeError, InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { TokenVerificationError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';
import type { VerifiedToken } from './verified-token.ts';

/**
 * The MCP SDK's view of a verified token (`req.auth`, `extra.authInfo` in tool handlers):
 * scopes, client, expiry and resource, with the subject and every claim under `extra`.
 *
 * @example
 * const info = toAuthInfo(await verifier.verify(raw), raw);
 * info.extra?.subject; // the user
 */
export function toAuthInfo(token: VerifiedToken, raw = ''): AuthInfo {
  const resource = token.audience.find((audience) => URL.canParse(audience));
  return {
    token: raw,
    clientId: token.clientId ?? '',
    scopes: [...token.scopes],
    expiresAt: token.expiresAt,
    ...(resource === undefined ? {} : { resource: new URL(resource) }),
    extra: { subject: token.subject, issuer: token.issuer, claims: token.claims },
  };
}

/**
 * Our verifier in the shape the SDK's `requireBearerAuth` takes: refusals become the SDK's own
 * errors (401 invalid_token, 403 insufficient_scope; an unreachable issuer is a server error).
 *
 * @example
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
 * app.post('/mcp', requireBearerAuth({ verifier: sdkTokenVerifier(verifier), resourceMetadataUrl }), handler);
 */
export function sdkTokenVerifier(verifier: Pick<TokenVerifier, 'verify'>): OAuthTokenVerifier {
  return {
    async verifyAccessToken(raw) {
      try {
        return toAuthInfo(await verifier.verify(raw), raw);
      } catch (error) {
        if (!(error instanceof TokenVerificationError)) throw error;
        if (error.code === 'insufficient_scope') throw new InsufficientScopeError(error.message);
        if (error.code === 'issuer_unreachable') throw new ServerError('the authorization server could not be reached');
        throw new InvalidTokenError(error.message);
      }
    },
  };
}
