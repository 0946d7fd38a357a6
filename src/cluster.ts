import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config/index.ts';
import { loadKeyRing } from './keys/index.ts';
import type { Logger } from './log/index.ts';
import { startAdminListener } from './metrics/admin-listener.ts';
import { loadCookieKeys } from './authorization-server/cookie-keys.ts';

/** How long a stopping worker may take to finish its requests before it is killed. */
const STOP_GRACE_MS = 10_000;

/** WORKERS > 1 and this is the first process: it forks the workers instead of serving. */
export function runsWorkers(config: Config): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/**
 * The primary of WORKERS processes sharing the ports (node:cluster). It makes the keys first, so
 * workers never race to generate them, replaces a worker that dies, serves /metrics for all of
 * them on METRICS_PORT, and on SIGTERM lets every worker finish its requests, then exits 0.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  await loadKeyRing({ pem: config.rsaPrivateKeyPem, secretPath: config.rsaPrivateKeyPath, keysDir: config.keysDir });
  loadCookieKeys({ cookieKeys: config.cookieKeys, keysDir: config.keysDir });
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('online', (worker: Worker) => log.info({ worker: worker.id, pid: worker.process.pid }, 'worker started'));
  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) return;
    log.error({ worker: worker.id, code, signal }, 'worker stopped unexpectedly; starting a new one');
    setTimeout(fork, 1_000).unref();
  });
  for (let index = 0; index < config.workers; index++) fork();

  const aggregator = new AggregatorRegistry();
  const admin = config.metricsPort === undefined ? undefined : await startAdminListener(
    { exposition: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }) },
    { port: config.metricsPort, host: config.metricsHost, access: { ...(config.metricsToken ? { token: config.metricsToken } : {}), allow: config.adminAllowlist } },
  );
  log.info({ workers: config.workers }, 'primary started');

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    const exited = workers.map((worker) => new Promise<void>((resolve) => {
      if (worker.isDead()) return resolve();
      worker.once('exit', () => resolve());
      worker.process.kill('SIGTERM');
    }));
    const killer = setTimeout(() => workers.forEach((worker) => worker.process.kill('SIGKILL')), STOP_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(killer);
    await admin?.close();
    log.info('all workers stopped');
    log.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** In a worker: /metrics is the primary's, so the worker only reports its registry to it. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** Only one process prints the start-up banner: the only one, or the first worker. */
export function printsBanner(): boolean {
  return !cluster.isWorker || cluster.worker?.id === 1;
}

export function reportMetricsToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
}
