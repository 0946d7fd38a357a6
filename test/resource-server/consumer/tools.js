// The typed tool both servers offer; typed-tools.ts checks the same shape under TypeScript.
import { z } from 'zod';
import { defineTool } from '@portcullis/resource-server/mcp';

export const tools = [
  defineTool({
    name: 'greet',
    description: 'Greets someone by name.',
    inputSchema: { name: z.string().min(1), times: z.number().int().min(1).max(3) },
    policy: { risk: 'read' },
    handler: async ({ name, times }, { token }) => ({
      content: [{ type: 'text', text: `${Array(times).fill(`Hello ${name}`).join(', ')} (asked by ${token.subject})` }],
    }),
  }),
];
