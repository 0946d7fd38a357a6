/**
 * `npm run bench`: every benchmark in one process tree, each printed as a ratio against a
 * baseline measured in the same run (these machines are noisy), plus the absolute figures.
 * Results are also written to bench/results.json.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { runAuditBench } from './audit.ts';
import { runVerifyBench } from './verify.ts';

const verify = await runVerifyBench();
const audit = await runAuditBench();
const results = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, at: new Date().toISOString() },
  tokenVerification: verify,
  tokenEndpointAudit: audit,
};
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log('wrote bench/results.json');
