/**
 * `npm run bench`: every benchmark in one process tree, each printed as a ratio against a
 * baseline measured in the same run (these machines are noisy), plus the absolute figures.
 * Results are also written to bench/results.json. Servers under load run in their own
 * processes; autocannon drives them over loopback from this one.
 *   (1) token endpoint: Portcullis vs a bare oidc-provider            bench/token-endpoint.ts
 *   (2) refresh-token grant with rotation: Redis vs the embedded engine bench/refresh-grant.ts
 *   (3) protected MCP tool call vs the same server unprotected         bench/mcp-tool-call.ts
 *   (4) audit log durability: token endpoint with audit on vs off      bench/audit.ts
 *   (5) raw RSA-2048 sign and verify rate (the ceiling)                bench/rsa-ceiling.ts
 *   and access-token verification: our verifier vs bare jose         bench/verify.ts
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { runAuditBench } from './audit.ts';
import { runMcpToolCallBench } from './mcp-tool-call.ts';
import { runRefreshGrantBench } from './refresh-grant.ts';
import { runRsaCeilingBench } from './rsa-ceiling.ts';
import { runTokenEndpointBench } from './token-endpoint.ts';
import { runVerifyBench } from './verify.ts';

const started = Date.now();
const tokenEndpoint = await runTokenEndpointBench();
const refreshGrantOnRedis = await runRefreshGrantBench();
const mcpToolCall = await runMcpToolCallBench();
console.log('(4) audit log durability: token endpoint with the audit log on and off');
const auditAppend = await runAuditBench();
const rsaCeiling = await runRsaCeilingBench();
const tokenVerification = await runVerifyBench();

const ratios = {
  'token endpoint: Portcullis / bare oidc-provider': tokenEndpoint.portcullisVsBare,
  'token endpoint: Portcullis / RSA-2048 signatures per second': Number((tokenEndpoint.portcullis.requestsPerSecond / rsaCeiling.sign.opsPerSecond).toFixed(3)),
  'refresh grant: Redis / embedded engine': refreshGrantOnRedis.redisVsEmbedded,
  'MCP tool call: protected / unprotected': mcpToolCall.protectedVsUnprotected,
  'token endpoint: audit log on / off': Number(auditAppend.onVsOff.toFixed(3)),
  'RSA-2048: verify / sign': rsaCeiling.verifyVsSign,
  'token verification: verifier (first time) / jose': Number(tokenVerification.freshVsJose.toFixed(3)),
  'token verification: verifier (cache hit) / jose': Number(tokenVerification.cachedVsJose.toFixed(1)),
};
console.log('\nratios (same run):');
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name.padEnd(62)}${value}`);

const results = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, at: new Date().toISOString() },
  seconds: Math.round((Date.now() - started) / 1000),
  ratios,
  tokenEndpoint,
  refreshGrantOnRedis,
  mcpToolCall,
  auditAppend,
  rsaCeiling,
  tokenVerification,
};
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote bench/results.json (${results.seconds} s)`);
