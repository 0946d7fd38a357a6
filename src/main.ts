import { ConfigError, loadConfig, type Config } from './config/index.ts';
import { configuredLogger, type Logger } from './log/index.ts';
import type { Metrics } from './metrics/index.ts';
import { listenErrorMessage } from './listen-error.ts';
import { registeredCompanions, type RunningCompanion } from './companions.ts';

let config: Config | undefined;

/** `npm start`: configuration, services, servers, and a clean stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  config = loadConfig();
  const log = configuredLogger(config);
  // Loaded once the configuration is known to be good, so a bad setting is reported without the wait.
  const [{ isClusterWorker, lockStore, primaryOfWorker, printsBanner, reportMetricsToPrimary, runPrimary, runsWorkers, workerConfig }, { Metrics }, { startAuthorizationServer }] = await Promise.all([
    import('./cluster.ts'), import('./metrics/index.ts'), import('./authorization-server/start.ts'),
  ]);
  if (runsWorkers(config)) return runPrimary(config, log);
  config = workerConfig(config);
  // One process serves a DATA_DIR; under WORKERS the primary holds it for its workers.
  if (!isClusterWorker()) lockStore(config);
  const metrics = new Metrics();
  // Under WORKERS, the primary serves METRICS_PORT for all workers; each worker reports to it.
  const own = isClusterWorker() && config.metricsPort !== undefined ? { ...config, metricsPort: undefined, metricsToken: undefined } : config;
  if (own !== config) reportMetricsToPrimary(metrics.registry);
  const server = await startAuthorizationServer(own, log, metrics, { holdAudit: true, primary: primaryOfWorker(config) });
  log.info({ issuer: config.issuer, configFile: config.configFile, ...(server.admin ? { metrics: `${server.admin.url}/metrics` } : {}) }, 'authorization server started');
  const companions = await startCompanions(config, log, metrics);
  // Every listener is bound: start-up can no longer fail, so the audit logs are written from here on.
  await server.startAudit();
  for (const companion of companions) await companion.startAudit?.();
  if (printsBanner()) process.stdout.write([
    '',
    `Portcullis is running.`,
    `  issuer:     ${config.issuer}`,
    `  discovery:  ${config.issuer}/.well-known/openid-configuration`,
    `  resources:  ${config.resources.map((resource) => resource.uri).join(', ')}`,
    ...companions.map((companion) => companion.banner),
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
    for (const companion of companions) await companion.close();
    await server.close();
    log.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The companions registered through `node --import` (npm start: the demo notes MCP server), after the authorization server. */
async function startCompanions(config: Config, log: Logger, metrics: Metrics): Promise<RunningCompanion[]> {
  const running: RunningCompanion[] = [];
  const onKeyLookup = (result: 'hit' | 'miss') => metrics.jwksCacheLookups.inc({ result });
  for (const companion of registeredCompanions()) {
    const started = await companion.start({ config, log, onKeyLookup, holdAudit: true });
    if (started) running.push(started);
  }
  return running;
}

main().catch(async (error: unknown) => {
  const [{ KeyConfigError }, { StoreUnavailableError }] = await Promise.all([import('./keys/index.ts'), import('./storage/index.ts')]);
  if (error instanceof ConfigError || error instanceof KeyConfigError || error instanceof StoreUnavailableError) {
    process.stderr.write(`portcullis: ${error.message}\n`);
    process.exit(2);
  }
  const listenError = listenErrorMessage(error, config);
  if (listenError) {
    process.stderr.write(`portcullis: ${listenError}\n`);
    process.exit(2);
  }
  process.stderr.write(`portcullis: start-up failed: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
