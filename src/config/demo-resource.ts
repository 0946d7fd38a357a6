import type { ElevationPolicyConfig, ResourceConfig } from './schema.ts';

/** The demo: notes:admin is elevated, approved by one approver, with break-glass allowed. */
export const DEMO_ELEVATION: ElevationPolicyConfig = {
  scopes: ['notes:admin'], maxDurationSeconds: 15 * 60, reasonRequired: true, approval: 'one-approver', breakGlass: true, approvalTimeoutSeconds: 15 * 60,
};

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
    elevation: [DEMO_ELEVATION],
  };
}
