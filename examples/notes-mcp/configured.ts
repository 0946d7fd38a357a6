import { openAuditTrail } from '../../src/audit/index.ts';
import type { Config } from '../../src/config/index.ts';
import type { Logger } from '../../src/log/index.ts';
import { startNotesServer, type NotesServerOptions, type RunningNotesServer } from './server.ts';
import { notesIdempotencySettings } from './settings.ts';

/**
 * The demo notes server as the settings describe it, for `npm start` and for running it alone:
 * its store (REDIS_URL or DATA_DIR), its own idempotency settings (settings.ts), and its own audit log
 * (AUDIT_DIR/notes-mcp, with its own origin and key: an MCP server is deployed apart from Portcullis).
 */
export async function startConfiguredNotesServer(
  config: Config, log: Logger, options: { onKeyLookup?: (result: 'hit' | 'miss') => void; holdAudit?: boolean } = {},
): Promise<RunningNotesServer & { startAudit(): Promise<void> }> {
  const audit = await openAuditTrail(config, log, 'notes-mcp');
  try {
    const server = await startNotesServer({
      port: config.demoMcpPort, issuer: config.issuer, resource: config.demoMcpResource, ...(config.host ? { host: config.host } : {}),
      ...storeSettings(config),
      audit: audit.sink, log: log.child({ component: 'notes-mcp' }),
      idempotency: notesIdempotencySettings(),
      ...(options.onKeyLookup ? { onKeyLookup: options.onKeyLookup } : {}),
    });
    if (!options.holdAudit) await audit.start();
    return {
      url: server.url,
      startAudit: () => audit.start(),
      async close() {
        await server.close();
        await audit.close();
      },
    };
  } catch (error) {
    await audit.close();
    throw error;
  }
}

/** The store settings alone: the notes server's options take them as they are in the configuration. */
function storeSettings(config: Config): Pick<NotesServerOptions, 'dataDir' | 'redisUrl' | 'redisPrefix' | 'redisSentinels' | 'redisSentinelName'
  | 'redisClusterNodes' | 'redisUsername' | 'redisPassword' | 'redisSentinelPassword' | 'redisWaitReplicas'> {
  const { dataDir, redisUrl, redisPrefix, redisSentinels, redisSentinelName, redisClusterNodes, redisUsername, redisPassword, redisSentinelPassword, redisWaitReplicas } = config;
  return { dataDir, redisUrl, redisPrefix, redisSentinels, redisSentinelName, redisClusterNodes, redisUsername, redisPassword, redisSentinelPassword, redisWaitReplicas };
}
