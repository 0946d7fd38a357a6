/**
 * WWW-Authenticate values for the Bearer scheme (RFC 6750 §3, RFC 9728 §5.1), in the forms the
 * MCP authorization spec asks for.
 */

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication';

export interface BearerChallengeParams {
  error?: BearerErrorCode;
  errorDescription?: string;
  /** URL of the protected resource metadata (RFC 9728 `resource_metadata`). */
  resourceMetadata?: string;
  /** Scopes, joined with spaces. Omitted when empty. */
  scope?: readonly string[] | string;
  realm?: string;
  /** RFC 9470 step-up: acceptable authentication context classes, joined with spaces. */
  acrValues?: readonly string[] | string;
  /** RFC 9470 step-up: the sign-in must be at most this many seconds old. */
  maxAgeSeconds?: number;
}

/**
 * An RFC 9110 quoted-string. Backslash and double quote are escaped; characters that cannot be
 * sent in a header (controls, non-ASCII) become '?', so a value can never split the header.
 *
 * @example
 * quotedString('say "hi"'); // '"say \\"hi\\""'
 */
export function quotedString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * `Bearer` followed by the parameters that are set, always in this order: realm, error,
 * error_description, resource_metadata, scope, acr_values, max_age.
 *
 * @example
 * res.setHeader('WWW-Authenticate', bearerChallenge({ error: 'invalid_token', resourceMetadata: metadataUrl, scope: ['notes:read'] }));
 */
export function bearerChallenge(params: BearerChallengeParams = {}): string {
  const scope = typeof params.scope === 'string' ? params.scope : (params.scope ?? []).join(' ');
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm=${quotedString(params.realm)}`);
  if (params.error !== undefined) parts.push(`error=${quotedString(params.error)}`);
  if (params.errorDescription !== undefined) parts.push(`error_description=${quotedString(params.errorDescription)}`);
  if (params.resourceMetadata !== undefined) parts.push(`resource_metadata=${quotedString(params.resourceMetadata)}`);
  if (scope !== '') parts.push(`scope=${quotedString(scope)}`);
  const acrValues = typeof params.acrValues === 'string' ? params.acrValues : (params.acrValues ?? []).join(' ');
  if (acrValues !== '') parts.push(`acr_values=${quotedString(acrValues)}`);
  if (params.maxAgeSeconds !== undefined) {
    if (!Number.isInteger(params.maxAgeSeconds) || params.maxAgeSeconds < 0) throw new TypeError('maxAgeSeconds must be a non-negative integer');
    parts.push(`max_age=${quotedString(String(params.maxAgeSeconds))}`);
  }
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

export interface ChallengeContext {
  resourceMetadata?: string;
  scope?: readonly string[] | string;
}

/**
 * 401 without any token: no error attribute (RFC 6750 §3.1).
 *
 * @example
 * missingTokenChallenge({ resourceMetadata: metadataUrl, scope: ['notes:read'] });
 * // 'Bearer resource_metadata="…", scope="notes:read"'
 */
export function missingTokenChallenge(context: ChallengeContext): string {
  return bearerChallenge({ resourceMetadata: context.resourceMetadata, scope: context.scope });
}

/**
 * 401 for a token that is expired, revoked, malformed or not for this resource.
 *
 * @example
 * invalidTokenChallenge({ resourceMetadata: metadataUrl, description: 'The access token expired.' });
 */
export function invalidTokenChallenge(context: ChallengeContext & { description?: string }): string {
  return bearerChallenge({ error: 'invalid_token', errorDescription: context.description, resourceMetadata: context.resourceMetadata, scope: context.scope });
}

/**
 * 403: `scope` names every scope the operation needs, the ones already granted included.
 *
 * @example
 * insufficientScopeChallenge({ resourceMetadata: metadataUrl, scope: ['notes:read', 'notes:write'] });
 */
export function insufficientScopeChallenge(context: ChallengeContext & { description?: string }): string {
  return bearerChallenge({ error: 'insufficient_scope', errorDescription: context.description, resourceMetadata: context.resourceMetadata, scope: context.scope });
}

/**
 * 400 for a malformed Authorization header or a token sent where it is not accepted.
 *
 * @example
 * invalidRequestChallenge({ resourceMetadata: metadataUrl, description: 'Access tokens are only accepted in the Authorization header.' });
 */
export function invalidRequestChallenge(context: ChallengeContext & { description?: string }): string {
  return bearerChallenge({ error: 'invalid_request', errorDescription: context.description, resourceMetadata: context.resourceMetadata, scope: context.scope });
}

/**
 * 401 asking for a fresher or stronger sign-in (RFC 9470 step-up): the client should send the
 * user through the authorization server again with these max_age / acr_values.
 *
 * @example
 * elevationChallenge({ resourceMetadata: metadataUrl, maxAgeSeconds: 300 });
 * // 'Bearer error="insufficient_user_authentication", resource_metadata="…", max_age="300"'
 */
export function elevationChallenge(context: ChallengeContext & { description?: string; maxAgeSeconds?: number; acrValues?: readonly string[] | string }): string {
  return bearerChallenge({
    error: 'insufficient_user_authentication', errorDescription: context.description, resourceMetadata: context.resourceMetadata,
    scope: context.scope, acrValues: context.acrValues, maxAgeSeconds: context.maxAgeSeconds,
  });
}
