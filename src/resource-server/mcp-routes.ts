import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler, type McpToolOptions } from './mcp.ts';
import { protectedResourceMetadataHandler } from './metadata-handler.ts';
import { metadataUrlFor, protectedResourceMetadata } from './metadata.ts';
import { resolveToolPolicy } from './policy.ts';
import { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './verifier.ts';

export interface McpServerOptions extends McpToolOptions {
  /** The authorization server whose tokens are accepted, e.g. https://auth.example.com. */
  issuer: string;
  /** This MCP endpoint's public URL (RFC 8707 resource), e.g. https://notes.example.com/mcp; its path is served. */
  resource: string;
  /** Settings of the token verifier made from issuer and resource (algorithms, caches, time-outs). */
  verifierOptions?: Omit<TokenVerifierOptions, 'issuer' | 'resource'>;
  /** A verifier of your own instead (it must check tokens for this resource). */
  verifier?: Pick<TokenVerifier, 'verify'>;
  /** `resource_name` in the metadata document. */
  resourceName?: string;
  /** `scopes_supported` in the metadata document; default every scope a tool needs. */
  scopesSupported?: readonly string[];
}

/** An MCP endpoint with its metadata document: answers the requests for its paths, false for others. */
export type McpRoutes = (request: IncomingMessage & { body?: unknown }, response: ServerResponse) => Promise<boolean>;

/**
 * Everything an MCP server needs on the wire, from an issuer and a resource URL: the RFC 9728
 * metadata document and the protected MCP endpoint. The node, express and koa adapters wrap it.
 *
 * @example
 * const routes = mcpRoutes({ issuer, resource: 'http://localhost:3001/mcp', scopePrefix: 'notes', tools: [listNotes] });
 * http.createServer(async (req, res) => { if (!(await routes(req, res))) res.writeHead(404).end(); });
 */
export function mcpRoutes(options: McpServerOptions): McpRoutes {
  const { issuer, resource } = options;
  const verifier = options.verifier ?? createTokenVerifier({ ...options.verifierOptions, issuer, resource });
  const path = new URL(resource).pathname;
  const scopes = options.scopesSupported ?? [...new Set(options.tools.flatMap((tool) => resolveToolPolicy(tool.name, { ...tool.policy, rateLimit: 'none' }, { scopePrefix: options.scopePrefix }).scopes))];
  const serveMetadata = protectedResourceMetadataHandler(protectedResourceMetadata({
    resource, authorizationServers: [issuer], scopesSupported: scopes, ...(options.resourceName === undefined ? {} : { resourceName: options.resourceName }),
  }));
  const handle = createMcpHandler({ ...options, path, verifier, metadataUrl: metadataUrlFor(resource) });
  return async (request, response) => {
    if (serveMetadata(request, response)) return true;
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) return false;
    await handle(request, response);
    return true;
  };
}
