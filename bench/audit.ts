/**
 * Token endpoint throughput with the audit log on vs off, in one process: two authorization
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
import { combine, formatOps, measureConcurrent, type Measurement } from './support/timing.ts';
import { NO_RATE_LIMITS } from './support/unlimited.ts';

export interface AuditBenchOptions {
  /** Token requests per server; default 2000. */
  requests?: number;
  /** Requests in flight; default 16. */
  concurrency?: number;
  print?: boolean;
}

export interface AuditBenchResult {
  auditOff: Measurement;
  auditOn: Measurement;
  /** on / off in requests per second: 1 means auditing costs nothing. */
  onVsOff: number;
  concurrency: number;
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

export async function runAuditBench(options: AuditBenchOptions = {}): Promise<AuditBenchResult> {
  const requests = options.requests ?? 2000;
  const concurrency = options.concurrency ?? 16;
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
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
    const chunk = 250;
    for (let done = 0, round = 0; done < requests; done += chunk, round += 1) {
      const size = Math.min(chunk, requests - done);
      const order: Array<'on' | 'off'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const which of order) runs[which].push(await measureConcurrent(size, concurrency, tokenRequest(servers[which])));
    }
    const result: AuditBenchResult = { auditOff: combine(runs.off), auditOn: combine(runs.on), onVsOff: 0, concurrency };
    result.onVsOff = result.auditOn.opsPerSecond / result.auditOff.opsPerSecond;
    if (options.print ?? true) {
      const row = (label: string, m: Measurement) => console.log(`${label.padEnd(44)}${formatOps(m.opsPerSecond)} req/s  ${(m.microsecondsPerOp / 1000).toFixed(2).padStart(8)} ms/req  (n=${m.operations})`);
      console.log(`token endpoint, client_credentials, ${concurrency} requests in flight, Node ${process.version}`);
      row('(a) audit off', result.auditOff);
      row('(b) audit on (write-ahead, fsync, group commit)', result.auditOn);
      console.log(`(b)/(a) = ${result.onVsOff.toFixed(2)}`);
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
