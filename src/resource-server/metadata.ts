/** RFC 9728 OAuth 2.0 Protected Resource Metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: ['header'];
  resource_name?: string;
  resource_documentation?: string;
  [member: string]: unknown;
}

export interface ProtectedResourceMetadataOptions {
  /** The resource identifier (RFC 8707), e.g. https://mcp.example.com/mcp. */
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for it. */
  authorizationServers: readonly string[];
  scopesSupported: readonly string[];
  resourceName?: string;
  /** URL of human-readable documentation (`resource_documentation`). */
  documentation?: string;
}

function httpUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${what} must be an absolute URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${what} must be an http(s) URL`);
  if (url.hash !== '' || value.includes('#')) throw new TypeError(`${what} must not have a fragment`);
  return url;
}

/**
 * The metadata document a protected resource (an MCP server) publishes.
 *
 * @example
 * protectedResourceMetadata({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'], scopesSupported: ['notes:read'] });
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  httpUrl(options.resource, 'resource');
  if (!Array.isArray(options.authorizationServers) || options.authorizationServers.length === 0) {
    throw new TypeError('authorizationServers must name at least one issuer');
  }
  for (const issuer of options.authorizationServers) httpUrl(issuer, 'authorizationServers[]');
  if (!Array.isArray(options.scopesSupported)) throw new TypeError('scopesSupported must be an array');
  const metadata: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    scopes_supported: [...options.scopesSupported],
    bearer_methods_supported: ['header'],
  };
  if (options.resourceName !== undefined) metadata.resource_name = options.resourceName;
  if (options.documentation !== undefined) metadata.resource_documentation = httpUrl(options.documentation, 'documentation').href;
  return metadata;
}

export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * RFC 9728 §3.1: the well-known segment goes between the host and the resource's path (a
 * terminating slash dropped), the query kept: http://localhost:3001/mcp ->
 * http://localhost:3001/.well-known/oauth-protected-resource/mcp.
 *
 * @example
 * metadataUrlFor('http://localhost:3001/mcp'); // 'http://localhost:3001/.well-known/oauth-protected-resource/mcp'
 */
export function metadataUrlFor(resource: string): string {
  const url = httpUrl(resource, 'resource');
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}${url.search}`;
}

/**
 * The request path (no query) the path-inserted metadata URL of this resource is served at.
 *
 * @example
 * metadataPathFor('http://localhost:3001/mcp'); // '/.well-known/oauth-protected-resource/mcp'
 */
export function metadataPathFor(resource: string): string {
  return new URL(metadataUrlFor(resource)).pathname;
}

export { bearerChallenge, elevationChallenge, insufficientScopeChallenge, invalidRequestChallenge, invalidTokenChallenge, missingTokenChallenge, quotedString } from './challenge.ts';
export { tokenErrorResponse } from './error-response.ts';
