/**
 * The adapter for plain node:http (and anything that hands you its IncomingMessage and
 * ServerResponse): an MCP server in one call, or bearer authentication for your own routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateRequest, type BearerAuthOptions } from './authenticate.ts';
import { sendJson, sendRefusal } from './http-response.ts';
import { mcpRoutes, type McpServerOptions } from './mcp-routes.ts';
import type { VerifiedToken } from './verified-token.ts';

export { createMcpHandler, type McpEndpointOptions, type McpRequestHandler } from './mcp.ts';
export { mcpRoutes, type McpRoutes, type McpServerOptions } from './mcp-routes.ts';
export { protectedResourceMetadataHandler, type MetadataHandler } from './metadata-handler.ts';
export { authenticateRequest, type Authentication, type BearerAuthOptions, type Refusal } from './authenticate.ts';

/**
 * A request listener for `http.createServer`: the MCP endpoint at the resource's path, its
 * metadata document, and a JSON 404 for every other path.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { mcpRequestListener } from '@portcullis/resource-server/node';
 * createServer(mcpRequestListener({ issuer: 'http://localhost:3000', resource: 'http://localhost:3001/mcp', scopePrefix: 'notes', tools: [listNotes] })).listen(3001);
 */
export function mcpRequestListener(options: McpServerOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const routes = mcpRoutes(options);
  return (request, response) => {
    void routes(request, response).then((handled) => {
      if (!handled) sendJson(response, 404, { error: 'not_found', error_description: 'There is nothing at this path.' });
    });
  };
}

/**
 * The caller's verified token, or undefined once the refusal (400/401/403/503 with its
 * WWW-Authenticate challenge) has been answered.
 *
 * @example
 * const token = await requireBearer(req, res, { verifier, metadataUrl });
 * if (!token) return;
 * res.end(`hello ${token.subject}`);
 */
export async function requireBearer(request: IncomingMessage, response: ServerResponse, options: BearerAuthOptions): Promise<VerifiedToken | undefined> {
  const result = await authenticateRequest(request, options);
  if (result.ok) return result.token;
  sendRefusal(response, result.refusal);
  return undefined;
}
