/**
 * Portcullis resource-server module, framework-neutral core: token verification, errors,
 * challenges, RFC 9728 metadata and tool policy. It depends on `jose` and node built-ins only;
 * the MCP glue, the adapters (node, express, koa), idempotency, storage and audit are their own
 * entry points (see README.md in this folder).
 */
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions, type VerifyOptions } from './verifier.ts';
export type { VerifiedToken } from './verified-token.ts';
export { TokenVerificationError, isTokenVerificationError, type TokenErrorCode, type TokenVerificationErrorOptions } from './errors.ts';
export { SUPPORTED_ALGORITHMS, type SupportedAlgorithm } from './algorithms.ts';
export { discoveryUrls } from './discovery.ts';
export { extractBearerToken, type BearerRequestParts } from './authorization-header.ts';
export { authenticateRequest, type Authentication, type BearerAuthOptions, type Refusal } from './authenticate.ts';
export {
  protectedResourceMetadata, metadataUrlFor, metadataPathFor, PROTECTED_RESOURCE_WELL_KNOWN,
  type ProtectedResourceMetadata, type ProtectedResourceMetadataOptions,
} from './metadata.ts';
export { protectedResourceMetadataHandler, type MetadataHandler } from './metadata-handler.ts';
export {
  bearerChallenge, elevationChallenge, missingTokenChallenge, invalidTokenChallenge, insufficientScopeChallenge, invalidRequestChallenge, quotedString,
  type BearerChallengeParams, type BearerErrorCode, type ChallengeContext,
} from './challenge.ts';
export { tokenErrorResponse, type TokenErrorResponse, type TokenErrorContext } from './error-response.ts';
export { elevationClaim, elevationGate, type ElevationClaim, type ElevationRule, type ElevationCheckOptions } from './elevation.ts';
export {
  resolveToolPolicy, decide, PolicyError,
  type ToolPolicy, type ToolPolicyInput, type ToolRisk, type RateLimitTier, type PolicyDecision, type PolicyDefaults, type Caller,
} from './policy.ts';
