/**
 * `npm run bench`: every benchmark in one process tree, each printed as a ratio against a
 * baseline measured in the same run (these machines are noisy), plus the absolute figures.
 * Results are also written to bench/results.json. Servers under load run in their own
 * processes; autocannon drives them over loopback from this one.
 *   (1) token endpoint: Portcullis vs a bare oidc-provider            bench/token-endpoint.ts
 *   (1b) token endpoint: WORKERS=2 vs WORKERS=1                        bench/workers.ts
 *   (2) refresh-token grant with rotation: Redis vs the embedded engine, and against
 *       client_credentials on the same server                         bench/refresh-grant.ts
 *   (3) protected MCP tool call vs the same server unprotected         bench/mcp-tool-call.ts
 *   (4) audit log: group commit at 256 appenders; token endpoint with audit on vs off, at
 *       saturation and at a fixed load (half of capacity)         bench/audit.ts
 *   (5) raw RSA-2048 sign and verify rate (the ceiling)                bench/rsa-ceiling.ts
 *   (6) the whole MCP sign-in on loopback, without password hashing    bench/mcp-sign-in.ts
 *   and access-token verification: our verifier vs bare jose         bench/verify.ts
 * At the end it prints the goals table of issue 18 with this run's figures, ready to paste.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { runAuditBench } from './audit.ts';
import { runMcpSignInBench } from './mcp-sign-in.ts';
import { runMcpToolCallBench } from './mcp-tool-call.ts';
import { runRefreshGrantBench } from './refresh-grant.ts';
import { runRsaCeilingBench } from './rsa-ceiling.ts';
import { runTokenEndpointBench } from './token-endpoint.ts';
import { runVerifyBench } from './verify.ts';
import { runWorkersBench } from './workers.ts';

const started = Date.now();
const tokenEndpoint = await runTokenEndpointBench();
const workers = await runWorkersBench();
const refreshGrantOnRedis = await runRefreshGrantBench();
const mcpToolCall = await runMcpToolCallBench();
console.log('(4) audit log durability: token endpoint with the audit log on and off');
const auditAppend = await runAuditBench();
const rsaCeiling = await runRsaCeilingBench();
const tokenVerification = await runVerifyBench();
const mcpSignIn = await runMcpSignInBench();

const ratios = {
  'token endpoint: Portcullis / bare oidc-provider': tokenEndpoint.portcullisVsBare,
  'token endpoint: WORKERS=2 / WORKERS=1': workers.twoVsOne,
  'token endpoint: Portcullis / RSA-2048 signatures per second': Number((tokenEndpoint.portcullis.requestsPerSecond / rsaCeiling.sign.opsPerSecond).toFixed(3)),
  'refresh grant: Redis / embedded engine': refreshGrantOnRedis.redisVsEmbedded,
  'refresh grant / client_credentials, Redis': refreshGrantOnRedis.refreshVsClientCredentials.redis,
  'refresh grant / client_credentials, embedded engine': refreshGrantOnRedis.refreshVsClientCredentials.embedded,
  'MCP tool call: protected / unprotected': mcpToolCall.protectedVsUnprotected,
  'token endpoint: audit log on / off': Number(auditAppend.onVsOff.toFixed(3)),
  'RSA-2048: verify / sign': rsaCeiling.verifyVsSign,
  'token verification: verifier (first time) / jose': Number(tokenVerification.freshVsJose.toFixed(3)),
  'token verification: verifier (cache hit) / jose': Number(tokenVerification.cachedVsJose.toFixed(1)),
};
console.log('\nratios (same run):');
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name.padEnd(62)}${value}`);

const writeAhead = auditAppend.fixedLoad.latencyMsP99;
const atSaturation = auditAppend.saturatedLatencyMsP99;
const figures = (a: number, b: number, unit: string) => `${a.toLocaleString('en-US')} vs ${b.toLocaleString('en-US')} ${unit}`;
const goals: Array<[string, string, string, boolean]> = [
  ['token endpoint, client_credentials, Portcullis / bare oidc-provider', `${tokenEndpoint.portcullisVsBare.toFixed(2)} (${figures(tokenEndpoint.portcullis.requestsPerSecond, tokenEndpoint.bareOidcProvider.requestsPerSecond, 'tokens/s')})`, '>= 0.90', tokenEndpoint.portcullisVsBare >= 0.9],
  ['same, WORKERS=2 / WORKERS=1', `${workers.twoVsOne.toFixed(2)} (${figures(workers.twoWorkers.requestsPerSecond, workers.oneWorker.requestsPerSecond, 'tokens/s')})`, '>= 1.5', workers.twoVsOne >= 1.5],
  ['token verification, first sight, verifier / jose.jwtVerify', tokenVerification.freshVsJose.toFixed(2), '>= 1.0', tokenVerification.freshVsJose >= 1],
  ['refresh grant / client_credentials on the same server, Redis', `${refreshGrantOnRedis.refreshVsClientCredentials.redis.toFixed(2)} (${figures(refreshGrantOnRedis.redis.refreshesPerSecond, refreshGrantOnRedis.clientCredentials.redis.refreshesPerSecond, '/s')})`, '>= 0.7', refreshGrantOnRedis.refreshVsClientCredentials.redis >= 0.7],
  ['same, embedded engine', `${refreshGrantOnRedis.refreshVsClientCredentials.embedded.toFixed(2)} (${figures(refreshGrantOnRedis.embedded.refreshesPerSecond, refreshGrantOnRedis.clientCredentials.embedded.refreshesPerSecond, '/s')})`, '>= 0.5', refreshGrantOnRedis.refreshVsClientCredentials.embedded >= 0.5],
  [`audit log, durable appends/s at ${auditAppend.groupCommit.appenders} concurrent appenders`, auditAppend.groupCommit.appendsPerSecond.toLocaleString('en-US'), '>= 50,000/s', auditAppend.groupCommit.appendsPerSecond >= 50_000],
  // The goal is about what one request's write-ahead adds, so the fixed-load figure decides it; at saturation the p99 follows throughput.
  [`write-ahead: added p99 of a token request at a fixed ${auditAppend.fixedLoad.requestsPerSecond} req/s (${auditAppend.fixedLoad.loadFraction} of audit-off capacity, open loop)`,
    `${writeAhead.added} ms (${writeAhead.on} vs ${writeAhead.off} ms; disk's O_DSYNC write p99 ${auditAppend.diskSyncWrite.latencyMsP99} ms); at saturation, ${auditAppend.concurrency} in flight: ${atSaturation.added} ms (${atSaturation.on} vs ${atSaturation.off} ms)`,
    '<= 2 ms', writeAhead.added <= 2],
  ['whole MCP sign-in on loopback, without password hashing', `${mcpSignIn.withoutHashingMs} ms`, '<= 100 ms', mcpSignIn.withoutHashingMs <= 100],
];
console.log(`\nissue 18 goals (${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}):\n`);
console.log('| Path | This run | Goal | Met |\n| --- | --- | --- | --- |');
for (const [path, measured, goal, met] of goals) console.log(`| ${path} | ${measured} | ${goal} | ${met ? 'yes' : 'no'} |`);

const results = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, at: new Date().toISOString() },
  seconds: Math.round((Date.now() - started) / 1000),
  ratios,
  goals: goals.map(([path, measured, goal, met]) => ({ path, measured, goal, met })),
  tokenEndpoint,
  workers,
  refreshGrantOnRedis,
  mcpToolCall,
  auditAppend,
  rsaCeiling,
  tokenVerification,
  mcpSignIn,
};
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote bench/results.json (${results.seconds} s)`);
