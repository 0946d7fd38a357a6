/** The MCP glue (official SDK, Streamable HTTP): typed tools, the protected endpoint, and the SDK's auth hook. */
export { defineTool, type ProtectedTool, type ToolArguments, type ToolContext } from '../tool.ts';
export { createMcpHandler, type McpEndpointOptions, type McpRequestHandler, type McpToolOptions } from '../mcp.ts';
export { mcpRoutes, type McpRoutes, type McpServerOptions } from '../mcp-routes.ts';
export { sdkTokenVerifier, toAuthInfo } from '../sdk-auth.ts';
export { DEFAULT_RATE_LIMIT_TIERS, type RateLimitWindow, type ToolRateLimitOptions } from '../rate-limit.ts';
export { REPLAYED_HEADER, REPLAYED_META, type ResourceServerLog } from '../idempotent-calls.ts';
export { argumentsHash } from '../tool-audit.ts';
