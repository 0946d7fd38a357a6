import cluster, { type Address, type Worker } from 'node:cluster';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { configuredAuditKey } from './audit/index.ts';
import type { Config } from './config/index.ts';
import { loadKeyRing } from './keys/index.ts';
import { lockDirectory, type DirectoryLock } from './lock/index.ts';
import type { Logger } from './log/index.ts';
import { startAdminListener } from './metrics/admin-listener.ts';
import { loadCookieKeys } from './authorization-server/cookie-keys.ts';
import { openStore, usesRedis, type PrimaryClient } from './storage/index.ts';
import { answerWorkers, primaryOverIpc } from './cluster-counters.ts';

/** How long a stopping worker may take to finish its requests before it is killed. */
const STOP_GRACE_MS = 10_000;

/** WORKERS > 1 and this is the first process: it forks the workers instead of serving. */
export function runsWorkers(config: Config): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/**
 * The primary of WORKERS processes sharing the ports (node:cluster). It makes the keys first
 * (signing, cookie and audit keys), so workers never race to generate them, replaces a worker that dies, serves /metrics for all of
 * them on METRICS_PORT, and on SIGTERM lets every worker finish its requests, then exits 0.
 * On the embedded engine it also counts for every worker (rate limits and other counters), so
 * workers never wait for each other's SQLite write lock to count a request.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  lockStore(config);
  await loadKeyRing({ pem: config.rsaPrivateKeyPem, secretPath: config.rsaPrivateKeyPath, keysDir: config.keysDir });
  loadCookieKeys({ cookieKeys: config.cookieKeys, cookieKeysPath: config.cookieKeysPath, keysDir: config.keysDir });
  if (config.audit === 'on') {
    // Every worker signs its own log's checkpoints with the same audit keys (the server's and the demo's).
    // Judged by the first worker's logs: a key is generated only while they do not exist yet.
    const first = workerAuditConfig(config, 1);
    await configuredAuditKey(first, undefined, true);
    await configuredAuditKey(first, 'notes-mcp', true);
  }
  const counters = usesRedis(config) ? undefined : await openStore(config, log);
  if (counters) answerWorkers(counters);
  let stopping = false;
  // Each worker keeps its slot across restarts: its audit log lives in AUDIT_DIR/worker-<slot>.
  const fork = (slot: number) => cluster.fork({ [WORKER_SLOT]: String(slot) });
  const slots = new Map<number, number>();
  cluster.on('online', (worker: Worker) => log.info({ worker: worker.id, pid: worker.process.pid }, 'worker started'));
  cluster.on('listening', (worker: Worker, address: Address) => log.info({ worker: worker.id, pid: worker.process.pid, port: address.port }, 'worker listening'));
  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) return;
    const slot = slots.get(worker.id)!;
    log.error({ worker: worker.id, slot, code, signal }, 'worker stopped unexpectedly; starting a new one');
    setTimeout(() => slots.set(fork(slot).id, slot), 1_000).unref();
  });
  for (let slot = 1; slot <= config.workers; slot++) slots.set(fork(slot).id, slot);

  const aggregator = new AggregatorRegistry();
  const admin = config.metricsPort === undefined ? undefined : await startAdminListener({
    port: config.metricsPort, host: config.metricsHost, log, metrics: {
      metrics: { exposition: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }) },
      access: { ...(config.metricsToken ? { token: config.metricsToken } : {}), allow: config.adminAllowlist },
    },
  });
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
    await counters?.close();
    await admin?.close();
    log.info('all workers stopped');
    log.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const WORKER_SLOT = 'PORTCULLIS_WORKER_SLOT';
export const STORE_LOCK_FILE = 'server.lock';

/**
 * The embedded store in DATA_DIR is served by one process (or one cluster: its primary holds the
 * lock for the workers it forks); the CLI still opens it beside the server. Held until exit.
 */
export function lockStore(config: Config): void {
  if (config.redisUrl) return;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  heldLocks.push(lockDirectory({ dir: config.dataDir, file: STORE_LOCK_FILE, setting: 'DATA_DIR', what: 'its embedded store' }));
}

/** Referenced for the life of the process, so the lock is never collected (and so released) early. */
const heldLocks: DirectoryLock[] = [];

/**
 * A worker's own settings: an audit log has one writer, so each worker writes its own log, in
 * AUDIT_DIR/worker-<slot> with origin <AUDIT_ORIGIN>/worker-<slot>. Outside a cluster: unchanged.
 */
export function workerConfig(config: Config): Config {
  const slot = cluster.isWorker ? process.env[WORKER_SLOT] : undefined;
  return slot ? workerAuditConfig(config, Number(slot)) : config;
}

function workerAuditConfig(config: Config, slot: number): Config {
  return { ...config, auditDir: join(config.auditDir, `worker-${slot}`), auditOrigin: `${config.auditOrigin}/worker-${slot}` };
}

/** In a worker on the embedded engine: the primary, which counts for all workers. Elsewhere: none. */
export function primaryOfWorker(config: Config): PrimaryClient | undefined {
  return cluster.isWorker && !usesRedis(config) ? primaryOverIpc() : undefined;
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
