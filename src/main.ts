import { ConfigError, loadConfig } from './config/index.ts';
import { KeyConfigError } from './keys/index.ts';
import { createLogger } from './log/index.ts';
import { startAuthorizationServer } from './authorization-server/start.ts';
import { StoreUnavailableError } from './storage/index.ts';

/** `npm start`: configuration, services, servers, and a clean stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger();
  const server = await startAuthorizationServer(config, log);
  log.info({ issuer: config.issuer, configFile: config.configFile }, 'authorization server started');
  process.stdout.write([
    '',
    `Portcullis is running.`,
    `  issuer:     ${config.issuer}`,
    `  discovery:  ${config.issuer}/.well-known/openid-configuration`,
    `  resources:  ${config.resources.map((resource) => resource.uri).join(', ')}`,
    '',
    (await server.users.list()).length === 0
      ? `No users yet. Add the first one:\n  echo 'a-long-password' | npm run portcullis -- users add alice --password-stdin\n`
      : '',
  ].join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await server.close();
    log.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof KeyConfigError || error instanceof StoreUnavailableError) {
    process.stderr.write(`portcullis: ${error.message}\n`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`portcullis: PORT: the port is already in use\n`);
    process.exit(2);
  }
  process.stderr.write(`portcullis: start-up failed: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
