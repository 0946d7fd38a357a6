/** The adapter for Koa: bearer authentication, the metadata document, and the MCP endpoint as middleware. */
import type { Context, Middleware, Next } from 'koa';
import { authenticateRequest, type BearerAuthOptions } from './authenticate.ts';
import { appendListHeader } from './http-response.ts';
import { createMcpHandler, type McpEndpointOptions } from './mcp.ts';
import { mcpRoutes, type McpServerOptions } from './mcp-routes.ts';
import { protectedResourceMetadataHandler } from './metadata-handler.ts';
import type { ProtectedResourceMetadata } from './metadata.ts';
import type { VerifiedToken } from './verified-token.ts';

export type { McpEndpointOptions } from './mcp.ts';
export type { McpServerOptions } from './mcp-routes.ts';

/** What requireBearerToken puts in `ctx.state`. */
export interface BearerTokenState {
  token: VerifiedToken;
}

export type RequireBearerTokenOptions = BearerAuthOptions;

/**
 * Koa middleware that lets a request through only with a valid bearer token in the
 * Authorization header, and sets `ctx.state.token`. Refusals are answered here with the
 * status, WWW-Authenticate and a small JSON body from tokenErrorResponse; other errors propagate.
 *
 * @example
 * app.use(requireBearerToken({ verifier, metadataUrl: metadataUrlFor(resource), requiredScopes: ['notes:read'] }));
 * app.use((ctx) => { ctx.body = { user: ctx.state.token.subject }; });
 */
export function requireBearerToken(options: RequireBearerTokenOptions): Middleware<BearerTokenState> {
  return async (ctx, next) => {
    const result = await authenticateRequest(ctx.req, options);
    if (!result.ok) {
      const { status, headers, body } = result.refusal;
      ctx.status = status;
      ctx.set(headers);
      if ('www-authenticate' in headers) appendListHeader(ctx.res, 'Access-Control-Expose-Headers', 'WWW-Authenticate');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body;
      return;
    }
    ctx.state.token = result.token;
    await next();
  };
}

/**
 * Serves the RFC 9728 document at /.well-known/oauth-protected-resource and at the resource's
 * path-inserted form (e.g. /.well-known/oauth-protected-resource/mcp), readable from any origin.
 *
 * @example
 * app.use(protectedResourceMetadataRoutes(protectedResourceMetadata({ resource, authorizationServers: [issuer], scopesSupported: ['notes:read'] })));
 */
export function protectedResourceMetadataRoutes(metadata: ProtectedResourceMetadata): Middleware {
  const serve = protectedResourceMetadataHandler(metadata);
  return async (ctx: Context, next: Next) => {
    ctx.respond = false;
    if (serve(ctx.req, ctx.res)) return;
    ctx.respond = true;
    await next();
  };
}

/**
 * The MCP endpoint at `path` as Koa middleware, with your own verifier and metadata URL (see
 * mcpServer for the one-call form); other paths go to `next()`.
 *
 * @example
 * app.use(mcpEndpoint({ path: '/mcp', verifier, metadataUrl: metadataUrlFor(resource), scopePrefix: 'notes', tools: [listNotes] }));
 */
export function mcpEndpoint(options: McpEndpointOptions): Middleware {
  const handle = createMcpHandler(options);
  return async (ctx, next) => {
    if (ctx.path !== options.path) return next();
    ctx.respond = false;
    await handle(ctx.req, ctx.res);
  };
}

/**
 * The MCP endpoint at the resource's path and its RFC 9728 metadata, as Koa middleware.
 *
 * @example
 * const app = new Koa();
 * app.use(mcpServer({ issuer: 'http://localhost:3000', resource: 'http://localhost:3001/mcp', scopePrefix: 'notes', tools: [listNotes] }));
 * app.listen(3001);
 */
export function mcpServer(options: McpServerOptions): Middleware {
  const routes = mcpRoutes(options);
  return async (ctx, next) => {
    ctx.respond = false;
    if (await routes(ctx.req, ctx.res)) return;
    ctx.respond = true;
    await next();
  };
}
