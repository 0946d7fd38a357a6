/**
 * (4) The audit log. First, group commit alone: `appenders` concurrent appenders on one log, each
 * appending again as soon as its last append is durable (fsync'd), for a fixed number of appends.
 * Then token endpoint throughput and latency with the audit log on vs off, in one process: two authorization
 * servers on loopback (each with its own temp data dir), the same client_credentials request
 * (a confidential client, one RS256 JWT per request) sent with `concurrency` requests in flight.
 * With audit on, each response waits for its event's fsync; group commit shares one fsync among
 * the requests waiting at that moment. The two servers take turns on chunks, alternating which
 * goes first, so drift in machine load hits both alike.
 * Run: ./node_modules/.bin/node bench/audit.ts [requests] [concurrency]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuthorizationServer, type RunningAuthorizationServer } from '../src/authorization-server/start.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog } from '../src/audit/index.ts';
import { combine, formatOps, measureConcurrent, measureConcurrentLatency, percentile, type Measurement } from './support/timing.ts';
import { NO_RATE_LIMITS } from './support/unlimited.ts';

export interface AuditBenchOptions {
  /** Token requests per server; default 2000. */
  requests?: number;
  /** Requests in flight; default 16. */
  concurrency?: number;
  /** Concurrent appenders for the group-commit measurement; default 256. */
  appenders?: number;
  /** Appends in the group-commit measurement; default 200 000. */
  appends?: number;
  print?: boolean;
}

export interface AuditBenchResult {
  auditOff: Measurement;
  auditOn: Measurement;
  /** on / off in requests per second: 1 means auditing costs nothing. */
  onVsOff: number;
  concurrency: number;
  /** p99 latency of a token request, audit on and off, and the difference (what write-ahead adds), in ms. */
  latencyMsP99: { on: number; off: number; added: number };
  /** Durable appends per second with `appenders` concurrent appenders on one log (group commit). */
  groupCommit: { appenders: number; appends: number; appendsPerSecond: number; latencyMsP99: number };
}

const RESOURCE = 'https://api.bench.example/';
const CLIENT = { client_id: 'bench-service', client_secret: 'bench-service-secret-0123456789abcdef', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' };

async function startServer(audit: 'on' | 'off', root: string): Promise<RunningAuthorizationServer> {
  const config: Config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', AUDIT: audit, DATA_DIR: join(root, audit, 'data'), KEYS_DIR: join(root, audit, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'absent'), ...NO_RATE_LIMITS,
  });
  config.resources = [{ uri: RESOURCE, scopes: ['api:read'], default: false }];
  config.clients = [structuredClone(CLIENT)] as unknown as Config['clients'];
  return startAuthorizationServer(config, silentLogger());
}

/** Appends `appends` events from `appenders` concurrent appenders; every append resolves only once durable. */
export async function runGroupCommit(dir: string, appenders: number, appends: number) {
  const { privateKey } = generateKeyPairSync('ed25519');
  const log = await AuditLog.open({ dir, origin: 'bench.example/audit', signingKey: privateKey, log: silentLogger() });
  try {
    await measureConcurrent(appenders * 4, appenders, () => log.append({ type: 'token.issued', client: 'warm-up' }));
    const { run, latenciesMs } = await measureConcurrentLatency(appends, appenders, (index) => log.append({ type: 'token.issued', client: 'bench-service', jti: `bench-${index}` }));
    return { appenders, appends, appendsPerSecond: run.opsPerSecond, latencyMsP99: Number(percentile(latenciesMs, 99).toFixed(2)) };
  } finally {
    await log.close();
  }
}

export async function runAuditBench(options: AuditBenchOptions = {}): Promise<AuditBenchResult> {
  const requests = options.requests ?? 2000;
  const concurrency = options.concurrency ?? 16;
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
  const groupCommit = await runGroupCommit(join(root, 'group-commit'), options.appenders ?? 256, options.appends ?? 200_000);
  const servers = { off: await startServer('off', root), on: await startServer('on', root) };
  const authorization = `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: RESOURCE }).toString();
  const tokenRequest = (server: RunningAuthorizationServer) => async () => {
    const response = await fetch(`${server.url}/token`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body });
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
    await response.arrayBuffer();
  };
  try {
    for (const server of Object.values(servers)) await measureConcurrent(200, concurrency, tokenRequest(server));
    const runs: Record<'on' | 'off', Measurement[]> = { on: [], off: [] };
    const latencies: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const chunk = 250;
    for (let done = 0, round = 0; done < requests; done += chunk, round += 1) {
      const size = Math.min(chunk, requests - done);
      const order: Array<'on' | 'off'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const which of order) {
        const { run, latenciesMs } = await measureConcurrentLatency(size, concurrency, tokenRequest(servers[which]));
        runs[which].push(run);
        latencies[which].push(...latenciesMs);
      }
    }
    const p99 = (which: 'on' | 'off') => Number(percentile(latencies[which], 99).toFixed(2));
    const result: AuditBenchResult = {
      auditOff: combine(runs.off), auditOn: combine(runs.on), onVsOff: 0, concurrency,
      latencyMsP99: { on: p99('on'), off: p99('off'), added: Number((p99('on') - p99('off')).toFixed(2)) }, groupCommit,
    };
    result.onVsOff = result.auditOn.opsPerSecond / result.auditOff.opsPerSecond;
    if (options.print ?? true) {
      const row = (label: string, m: Measurement) => console.log(`${label.padEnd(44)}${formatOps(m.opsPerSecond)} req/s  ${(m.microsecondsPerOp / 1000).toFixed(2).padStart(8)} ms/req  (n=${m.operations})`);
      console.log(`token endpoint, client_credentials, ${concurrency} requests in flight, Node ${process.version}`);
      row('(a) audit off', result.auditOff);
      row('(b) audit on (write-ahead, fsync, group commit)', result.auditOn);
      console.log(`(b)/(a) = ${result.onVsOff.toFixed(2)}   p99 ${result.latencyMsP99.on} ms on, ${result.latencyMsP99.off} ms off: write-ahead adds ${result.latencyMsP99.added} ms`);
      console.log(`group commit: ${groupCommit.appendsPerSecond.toLocaleString('en-US')} durable appends/s with ${groupCommit.appenders} concurrent appenders (n=${groupCommit.appends}, p99 ${groupCommit.latencyMsP99} ms)`);
    }
    return result;
  } finally {
    await servers.on.close();
    await servers.off.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [requests, concurrency] = process.argv.slice(2).map(Number);
  await runAuditBench({ requests: requests || undefined, concurrency: concurrency || undefined });
}
