/**
 * (4) The audit log. First, group commit alone: `appenders` concurrent appenders on one log, each
 * appending again as soon as its last append is durable (fsync'd), for a fixed number of appends.
 * Then the token endpoint with the audit log on vs off: two Portcullis servers (`node
 * src/main.ts`, each in its own process with its own data dir, so one's garbage collection does
 * not land in the other's latencies), the same client_credentials request (a confidential client,
 * one RS256 JWT per request) sent from this process. With audit on, each response waits for its
 * event's synced write; group commit shares one write among the requests waiting at that moment.
 * The two servers take turns on chunks, alternating which goes first, so drift in machine load
 * hits both alike. Two loads:
 * - at saturation: `concurrency` requests in flight (closed loop). Its p99 is mostly queueing
 *   (requests in flight / throughput, plus pauses), so it measures throughput more than what one
 *   request's write-ahead adds;
 * - at a fixed load below capacity: requests started at a steady rate, `loadFraction` of the
 *   audit-off server's saturated throughput in this run, whatever the answers' timing, latency
 *   counted from each request's scheduled start (open loop). The added p50 / p99 here is what the
 *   write-ahead adds to a request. Beside it, the disk's own p99 for one small O_DSYNC write into
 *   zero-filled space (the floor any durable write-ahead pays), measured in the same run.
 * Run: ./node_modules/.bin/node bench/audit.ts [requests] [concurrency] [appends] [fixed-load requests]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { freePort } from '../test/support/ports.ts';
import { runSyncWrites } from './audit-sync-writes.ts';
import type { RunningChild } from './support/child.ts';
import type { LoadRequest } from './support/load.ts';
import { measureOpenLoop } from './support/open-loop.ts';
import { combine, formatOps, measureConcurrent, measureConcurrentLatency, percentile, type Measurement } from './support/timing.ts';
import { issuedKid, startPortcullis, tokenRequest } from './token-endpoint.ts';

export interface AuditBenchOptions {
  /** Token requests per server at saturation; default 2000. */
  requests?: number;
  /** Requests in flight at saturation; default 16. */
  concurrency?: number;
  /** Token requests per server at the fixed load; default 4000. */
  fixedLoadRequests?: number;
  /** The fixed load as a share of the audit-off server's saturated throughput; default 0.5. */
  loadFraction?: number;
  /** Concurrent appenders for the group-commit measurement; default 256. */
  appenders?: number;
  /** Appends in the group-commit measurement; default 200 000. */
  appends?: number;
  /** Settings both servers get on top of the bench's own (e.g. UV_THREADPOOL_SIZE). */
  serverEnv?: Record<string, string>;
  print?: boolean;
}

type Side = 'on' | 'off';

/** Latency percentiles in ms, audit on and off, and the difference (what the write-ahead adds). */
export interface AddedLatency {
  on: number;
  off: number;
  added: number;
}

export interface AuditBenchResult {
  /** Closed loop at saturation, `concurrency` in flight. */
  auditOff: Measurement;
  auditOn: Measurement;
  /** on / off in requests per second at saturation: 1 means auditing costs nothing. */
  onVsOff: number;
  concurrency: number;
  /** p99 at saturation, in ms: mostly queueing, so it follows throughput (see the file's comment). */
  saturatedLatencyMsP99: AddedLatency;
  /** Open loop at a steady rate below capacity: what the write-ahead adds to one request. */
  fixedLoad: { requestsPerSecond: number; loadFraction: number; requests: number; latencyMsP50: AddedLatency; latencyMsP99: AddedLatency };
  /** One O_DSYNC write of `bytes` into zero-filled space on the disk the bench writes to, in ms. */
  diskSyncWrite: { bytes: number; writes: number; latencyMsP50: number; latencyMsP99: number };
  /** Durable appends per second with `appenders` concurrent appenders on one log (group commit). */
  groupCommit: { appenders: number; appends: number; appendsPerSecond: number; latencyMsP99: number };
}

/** About one token.issued record with its tree head, the size of most batches at the fixed load. */
const RECORD_BYTES = 1024;
const DISK_WRITES = 1200;
const CHUNK = 250;

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
  const concurrency = options.concurrency ?? 16;
  const loadFraction = options.loadFraction ?? 0.5;
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-audit-'));
  const children: RunningChild[] = [];
  try {
    const groupCommit = await runGroupCommit(join(root, 'group-commit'), options.appenders ?? 256, options.appends ?? 200_000);
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const servers = {} as Record<Side, RunningChild>;
    for (const audit of ['off', 'on'] as const) {
      servers[audit] = await startPortcullis(join(root, audit), pem, await freePort(), { ...options.serverEnv, AUDIT: audit });
      children.push(servers[audit]);
    }
    const requestsTo = { on: send(tokenRequest(servers.on.url)), off: send(tokenRequest(servers.off.url)) };
    for (const side of ['on', 'off'] as const) await issuedKid(tokenRequest(servers[side].url));
    for (const request of Object.values(requestsTo)) await measureConcurrent(200, concurrency, request);

    const saturated = await alternate(options.requests ?? 2000, (size, side) => measureConcurrentLatency(size, concurrency, requestsTo[side]));
    const auditOff = combine(saturated.runs.off);
    const auditOn = combine(saturated.runs.on);
    const diskLatencies = (await runSyncWrites(DISK_WRITES, RECORD_BYTES, ['in place O_DSYNC']))['in place O_DSYNC']!;
    const rate = Math.max(1, Math.round(auditOff.opsPerSecond * loadFraction));
    const fixed = await alternate(options.fixedLoadRequests ?? 4000, (size, side) => measureOpenLoop(size, rate, requestsTo[side]));

    const ms = (values: readonly number[], p: number) => Number(percentile(values, p).toFixed(2));
    const added = (latencies: Record<Side, number[]>, p: number): AddedLatency => {
      const on = ms(latencies.on, p);
      const off = ms(latencies.off, p);
      return { on, off, added: Number((on - off).toFixed(2)) };
    };
    const result: AuditBenchResult = {
      auditOff, auditOn, onVsOff: auditOn.opsPerSecond / auditOff.opsPerSecond, concurrency, saturatedLatencyMsP99: added(saturated.latencies, 99),
      fixedLoad: { requestsPerSecond: rate, loadFraction, requests: fixed.latencies.on.length, latencyMsP50: added(fixed.latencies, 50), latencyMsP99: added(fixed.latencies, 99) },
      diskSyncWrite: { bytes: RECORD_BYTES, writes: diskLatencies.length, latencyMsP50: ms(diskLatencies, 50), latencyMsP99: ms(diskLatencies, 99) },
      groupCommit,
    };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** `requests` per side in chunks, the two servers taking turns and alternating which goes first. */
async function alternate(requests: number, measureChunk: (size: number, side: Side) => Promise<{ run: Measurement; latenciesMs: number[] }>) {
  const runs: Record<Side, Measurement[]> = { on: [], off: [] };
  const latencies: Record<Side, number[]> = { on: [], off: [] };
  for (let done = 0, round = 0; done < requests; done += CHUNK, round += 1) {
    const size = Math.min(CHUNK, requests - done);
    for (const side of round % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const) {
      const { run, latenciesMs } = await measureChunk(size, side);
      runs[side].push(run);
      latencies[side].push(...latenciesMs);
    }
  }
  return { runs, latencies };
}

function printResult(result: AuditBenchResult): void {
  const { auditOff, auditOn, concurrency, saturatedLatencyMsP99: saturated, fixedLoad, diskSyncWrite, groupCommit } = result;
  const row = (label: string, m: Measurement) => console.log(`${label.padEnd(50)}${formatOps(m.opsPerSecond)} req/s  ${(m.microsecondsPerOp / 1000).toFixed(2).padStart(8)} ms/req  (n=${m.operations})`);
  console.log(`token endpoint, client_credentials, each server in its own process, Node ${process.version}`);
  console.log(`at saturation, ${concurrency} requests in flight (closed loop: the p99 is mostly queueing, so it follows throughput):`);
  row('(a) audit off', auditOff);
  row('(b) audit on (write-ahead, O_DSYNC, group commit)', auditOn);
  console.log(`(b)/(a) = ${result.onVsOff.toFixed(2)}   p99 ${saturated.on} ms on, ${saturated.off} ms off: ${saturated.added} ms at saturation`);
  const { latencyMsP50: p50, latencyMsP99: p99 } = fixedLoad;
  console.log(`at a fixed load, ${fixedLoad.requestsPerSecond} req/s (${fixedLoad.loadFraction} of (a)), open loop, latency from each request's scheduled start (n=${fixedLoad.requests} per side):`);
  console.log(`  p50 ${p50.on} ms on, ${p50.off} ms off: write-ahead adds ${p50.added} ms`);
  console.log(`  p99 ${p99.on} ms on, ${p99.off} ms off: write-ahead adds ${p99.added} ms   (the disk's own p99 for one ${diskSyncWrite.bytes}-byte O_DSYNC write into zero-filled space: ${diskSyncWrite.latencyMsP99} ms, p50 ${diskSyncWrite.latencyMsP50} ms, n=${diskSyncWrite.writes})`);
  console.log(`group commit: ${groupCommit.appendsPerSecond.toLocaleString('en-US')} durable appends/s with ${groupCommit.appenders} concurrent appenders (n=${groupCommit.appends}, p99 ${groupCommit.latencyMsP99} ms)`);
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
  const [requests, concurrency, appends, fixedLoadRequests] = process.argv.slice(2).map(Number);
  await runAuditBench({ requests: requests || undefined, concurrency: concurrency || undefined, appends: appends || undefined, fixedLoadRequests: fixedLoadRequests || undefined });
}
