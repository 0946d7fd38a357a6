/**
 * The adapter for Express (4 or 5), typed on node:http so Express is not a dependency. Works
 * with or without `express.json()` in front: a parsed `req.body` is used as it is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateRequest, type BearerAuthOptions } from './authenticate.ts';
import { sendRefusal } from './http-response.ts';
import { mcpRoutes, type McpServerOptions } from './mcp-routes.ts';
import { toAuthInfo } from './sdk-auth.ts';
import type { VerifiedToken } from './verified-token.ts';

export type { McpServerOptions } from './mcp-routes.ts';
export { sdkTokenVerifier, toAuthInfo } from './sdk-auth.ts';

/** Express's middleware shape, without importing Express. */
export type ExpressMiddleware<Request extends IncomingMessage = IncomingMessage> = (request: Request, response: ServerResponse, next: (error?: unknown) => void) => void;

/** A request that passed `bearerAuth`: `token` is ours, `auth` the MCP SDK's view of it. */
export type AuthenticatedRequest = IncomingMessage & { token?: VerifiedToken; auth?: ReturnType<typeof toAuthInfo> };

/**
 * Middleware serving the MCP endpoint at the resource's path and its RFC 9728 metadata; other
 * paths go to `next()`. Mount it at the root of the app.
 *
 * @example
 * import express from 'express';
 * import { mcpMiddleware } from '@portcullis/resource-server/express';
 * const app = express();
 * app.use(mcpMiddleware({ issuer: 'http://localhost:3000', resource: 'http://localhost:3001/mcp', scopePrefix: 'notes', tools: [listNotes] }));
 * app.listen(3001);
 */
export function mcpMiddleware(options: McpServerOptions): ExpressMiddleware<IncomingMessage & { body?: unknown }> {
  const routes = mcpRoutes(options);
  return (request, response, next) => {
    routes(request, response).then((handled) => (handled ? undefined : next()), next);
  };
}

/**
 * Middleware that lets a request through only with a valid bearer token, and sets `req.token`
 * (our VerifiedToken) and `req.auth` (the MCP SDK's AuthInfo, as its own middleware would).
 *
 * @example
 * app.post('/api/notes', bearerAuth({ verifier, metadataUrl: metadataUrlFor(resource), requiredScopes: ['notes:write'] }), (req, res) => {
 *   res.json({ user: req.token.subject });
 * });
 */
export function bearerAuth(options: BearerAuthOptions): ExpressMiddleware<AuthenticatedRequest> {
  return (request, response, next) => {
    authenticateRequest(request, options).then((result) => {
      if (!result.ok) return sendRefusal(response, result.refusal);
      request.token = result.token;
      request.auth = toAuthInfo(result.token);
      next();
    }, next);
  };
}
