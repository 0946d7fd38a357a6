import type { ResourceConfig } from './schema.ts';

/** The demo notes MCP server as a resource: the one registered when the configuration names none. */
export function demoNotesResource(uri: string): ResourceConfig {
  return {
    uri,
    name: 'Notes MCP (demo)',
    scopes: ['notes:read', 'notes:write', 'notes:admin'],
    defaultScopes: ['notes:read'],
    scopeDescriptions: {
      'notes:read': 'See your notes',
      'notes:write': 'Create and change your notes',
      'notes:admin': 'Delete all of your notes',
    },
    default: false,
  };
}
