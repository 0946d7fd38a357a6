/**
 * Portcullis resource-server module: what an MCP server (or any API) imports to accept access
 * tokens. Standalone: it depends on `jose` and node built-ins only.
 */
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions, type VerifyOptions } from './verifier.ts';
export type { VerifiedToken } from './verified-token.ts';
export { TokenVerificationError, isTokenVerificationError, type TokenErrorCode, type TokenVerificationErrorOptions } from './errors.ts';
export { SUPPORTED_ALGORITHMS, type SupportedAlgorithm } from './algorithms.ts';
export { discoveryUrls } from './discovery.ts';
export { extractBearerToken, type BearerRequestParts } from './authorization-header.ts';
export {
  protectedResourceMetadata, metadataUrlFor, metadataPathFor, PROTECTED_RESOURCE_WELL_KNOWN,
  type ProtectedResourceMetadata, type ProtectedResourceMetadataOptions,
} from './metadata.ts';
export {
  bearerChallenge, elevationChallenge, missingTokenChallenge, invalidTokenChallenge, insufficientScopeChallenge, invalidRequestChallenge, quotedString,
  type BearerChallengeParams, type BearerErrorCode, type ChallengeContext,
} from './challenge.ts';
export { tokenErrorResponse, type TokenErrorResponse, type TokenErrorContext } from './error-response.ts';
export { requireBearerToken, protectedResourceMetadataRoutes, type BearerTokenState, type RequireBearerTokenOptions } from './koa.ts';
export { resolveToolPolicy, decide, PolicyError, type ToolPolicy, type ToolPolicyInput, type ToolRisk, type RateLimitTier, type PolicyDecision } from './policy.ts';
export { elevationClaim, elevationGate, type ElevationClaim, type ElevationRule, type ElevationCheckOptions } from './elevation.ts';
export { mcpEndpoint, type McpEndpointOptions, type ProtectedTool, type ToolContext } from './mcp.ts';
export type { IdempotencyOptions } from './idempotency.ts';
export { IDEMPOTENCY_KEY_META, MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency-key.ts';
export { REPLAYED_HEADER, REPLAYED_META, type ResourceServerLog } from './idempotent-calls.ts';
// State for MCP servers (notes, later idempotency records) lives behind the same Store seam as the authorization server's.
export { openStore, StoreUnavailableError, type OpenStoreOptions, type Store } from '../storage/index.ts';
// The audit log both halves write to; an MCP server opens its own and hands it to mcpEndpoint.
export {
  AuditLog, DISABLED_AUDIT, AuditUnavailableError, loadAuditKey, type AuditSink, type AuditEvent, type AuditLogOptions, type AuditKeySources,
} from '../audit/index.ts';
export { argumentsHash } from './tool-audit.ts';
