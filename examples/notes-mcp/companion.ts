/**
 * Registers the demo notes MCP server to start beside Portcullis. `npm start` preloads this file
 * (`node --import ./examples/notes-mcp/companion.ts src/main.ts`); `node src/main.ts` runs
 * Portcullis alone.
 */
import { registerCompanion } from '../../src/companions.ts';
import { startConfiguredNotesServer } from './configured.ts';

registerCompanion({
  name: 'notes-mcp',
  async start({ config, log, onKeyLookup, holdAudit }) {
    if (config.demoMcp === 'off') return undefined;
    const resource = config.demoMcpResource;
    if (!config.resources.some((registered) => registered.uri === resource)) {
      log.info({ resource }, 'demo MCP server not started: its resource is not registered');
      return undefined;
    }
    const server = await startConfiguredNotesServer(config, log, { onKeyLookup, holdAudit });
    log.info({ resource }, 'demo MCP server started');
    return {
      banner: `  demo MCP:   ${resource} (Streamable HTTP; point an MCP client at it, e.g. npx @modelcontextprotocol/inspector)`,
      startAudit: () => server.startAudit(),
      close: () => server.close(),
    };
  },
});
