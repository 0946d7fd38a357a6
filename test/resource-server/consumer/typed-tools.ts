// Compiled by the package test against the installed package's declarations: arguments follow the zod shape.
import { z } from 'zod';
import { defineTool, type ProtectedTool } from '@portcullis/resource-server/mcp';

export const tools: ProtectedTool[] = [
  defineTool({
    name: 'greet',
    description: 'Greets someone by name.',
    inputSchema: { name: z.string(), times: z.number() },
    policy: { risk: 'read' },
    handler: async ({ name, times }) => {
      const text: string = name.repeat(times);
      // @ts-expect-error -- name is a string, not a number
      const wrong: number = name;
      return { content: [{ type: 'text', text: `${text}${wrong}` }] };
    },
  }),
  defineTool({ name: 'ping', description: 'No arguments.', policy: { risk: 'read' }, handler: async () => ({ content: [] }) }),
];
