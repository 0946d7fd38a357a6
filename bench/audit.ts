/**
 * (4) The audit log. First, group commit alone: `appenders` concurrent appenders on one log, each
 * appending again as soon as its last append is durable (fsync'd), for a fixed number of appends.
 * Then token endpoint throughput and latency with the audit log on vs off: two Portcullis servers
 * (`node src/main.ts`, each in its own process with its own data dir, so one's garbage collection
 * does not land in the other's latencies), the same client_credentials request (a confidential
 * client, one RS256 JWT per request) sent from this process with `concurrency` requests in flight.
 * With audit on, each response waits for its event's fsync; group commit shares one fsync among
 * the requests waiting at that moment. The two servers take turns on chunks, alternating which
 * goes first, so drift in machine load hits both alike.
 * Run: ./node_modules/.bin/node bench/audit.ts [requests] [concurrency] [appends]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { freePort } from '../test/support/ports.ts';
import type { RunningChild } from './support/child.ts';
import type { LoadRequest } from './support/load.ts';
import { combine, formatOps, measureConcurrent, measureConcurrentLatency, percentile, type Measurement } from './support/timing.ts';
import { issuedKid, startPortcullis, tokenRequest } from './token-endpoint.ts';

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
  const children: RunningChild[] = [];
  try {
    const groupCommit = await runGroupCommit(join(root, 'group-commit'), options.appenders ?? 256, options.appends ?? 200_000);
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const servers = {} as Record<'on' | 'off', RunningChild>;
    for (const audit of ['off', 'on'] as const) {
      servers[audit] = await startPortcullis(join(root, audit), pem, await freePort(), { AUDIT: audit });
      children.push(servers[audit]);
    }
    const requestsTo = { on: tokenRequest(servers.on.url), off: tokenRequest(servers.off.url) };
    for (const request of Object.values(requestsTo)) await issuedKid(request);
    for (const request of Object.values(requestsTo)) await measureConcurrent(200, concurrency, send(request));
    const runs: Record<'on' | 'off', Measurement[]> = { on: [], off: [] };
    const latencies: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const chunk = 250;
    for (let done = 0, round = 0; done < requests; done += chunk, round += 1) {
      const size = Math.min(chunk, requests - done);
      const order: Array<'on' | 'off'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const which of order) {
        const { run, latenciesMs } = await measureConcurrentLatency(size, concurrency, send(requestsTo[which]));
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
      console.log(`token endpoint, client_credentials, ${concurrency} requests in flight, each server in its own process, Node ${process.version}`);
      row('(a) audit off', result.auditOff);
      row('(b) audit on (write-ahead, fsync, group commit)', result.auditOn);
      console.log(`(b)/(a) = ${result.onVsOff.toFixed(2)}   p99 ${result.latencyMsP99.on} ms on, ${result.latencyMsP99.off} ms off: write-ahead adds ${result.latencyMsP99.added} ms`);
      console.log(`group commit: ${groupCommit.appendsPerSecond.toLocaleString('en-US')} durable appends/s with ${groupCommit.appenders} concurrent appenders (n=${groupCommit.appends}, p99 ${groupCommit.latencyMsP99} ms)`);
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** One token request with fetch; anything but 200 fails the run. */
function send(request: LoadRequest): () => Promise<void> {
  return async () => {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body ?? null });
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
    await response.arrayBuffer();
  };
}

if (import.meta.main) {
  const [requests, concurrency, appends] = process.argv.slice(2).map(Number);
  await runAuditBench({ requests: requests || undefined, concurrency: concurrency || undefined, appends: appends || undefined });
}
