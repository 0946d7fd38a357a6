/**
 * The demo notes MCP server on its own, e.g. the compose file's `notes` service:
 * `node examples/notes-mcp/main.ts`. It reads the same settings as Portcullis: ISSUER (the
 * authorization server it trusts), DEMO_MCP_RESOURCE (its public URL), DEMO_MCP_PORT, HOST,
 * DATA_DIR or REDIS_URL/REDIS_PREFIX, the IDEMPOTENCY_* and AUDIT_* settings.
 */
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { configuredLogger } from '../../src/log/index.ts';
import { StoreUnavailableError } from '../../src/resource-server/entries/storage.ts';
import { startConfiguredNotesServer } from './configured.ts';

try {
  const config = loadConfig();
  const server = await startConfiguredNotesServer(config, configuredLogger(config));
  process.stdout.write(`notes MCP server: ${config.demoMcpResource} (listening on ${server.url}, trusting ${config.issuer})\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  const expected = error instanceof ConfigError || error instanceof StoreUnavailableError;
  process.stderr.write(`notes-mcp: ${expected ? (error as Error).message : `start-up failed: ${(error as Error).message}`}\n`);
  process.exit(expected ? 2 : 1);
}
