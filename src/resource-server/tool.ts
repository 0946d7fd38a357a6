import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z, ZodRawShape } from 'zod';
import type { ToolPolicyInput } from './policy.ts';
import type { VerifiedToken } from './verified-token.ts';

export interface ToolContext {
  /** The caller's verified access token: `subject` is the user, `clientId` the application. */
  token: VerifiedToken;
  /** Fires when the tool's time-out passes; long work should stop then. */
  signal: AbortSignal;
}

/** The arguments a tool's handler gets: what its zod input shape parses to. */
export type ToolArguments<Shape extends ZodRawShape> = z.infer<z.ZodObject<Shape>>;

export interface ProtectedTool<Shape extends ZodRawShape = ZodRawShape> {
  name: string;
  title?: string;
  description: string;
  /** A zod shape (`{ text: z.string() }`); the MCP server checks calls against it before the handler runs. */
  inputSchema?: Shape;
  policy: ToolPolicyInput;
  handler(args: ToolArguments<Shape>, context: ToolContext): Promise<CallToolResult>;
}

/**
 * A tool whose handler's arguments are typed from its input shape, kept through a list of tools.
 *
 * @example
 * const createNote = defineTool({
 *   name: 'create_note',
 *   description: 'Saves a note.',
 *   inputSchema: { text: z.string().min(1) },
 *   policy: { risk: 'write' },
 *   handler: async ({ text }, { token }) => ({ content: [{ type: 'text', text: `saved ${text} for ${token.subject}` }] }),
 * });
 */
export function defineTool<Shape extends ZodRawShape = {}>(tool: ProtectedTool<Shape>): ProtectedTool<Shape> {
  return tool;
}
