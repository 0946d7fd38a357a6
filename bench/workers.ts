/**
 * (1b) The token endpoint under WORKERS=2 against WORKERS=1: the same Portcullis (embedded store,
 * rate limits counted, audit log on), the same client_credentials load, alternating rounds.
 * It also prints where the CPU goes per token (Linux), because that bounds the ratio: one process
 * already keeps more than one core busy (its RS256 signatures run on libuv's thread pool), and
 * the load generator shares the machine's cores.
 * Run alone: ./node_modules/.bin/node bench/workers.ts [seconds-per-round]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import type { RunningChild } from './support/child.ts';
import { coreCount, formatCpu, meterCpu, totalOf, type CpuPerRequest, type CpuSplit } from './support/cpu.ts';
import { compareLoad, type LoadMeasurement } from './support/load.ts';
import { printLoad, startPortcullis, tokenRequest } from './token-endpoint.ts';

export interface WorkersBenchResult {
  twoWorkers: LoadMeasurement;
  oneWorker: LoadMeasurement;
  /** WORKERS=2 / WORKERS=1, in tokens per second. */
  twoVsOne: number;
  /** CPU milliseconds per token (Linux only). */
  cpuPerToken?: CpuPerToken;
}

export interface CpuPerToken {
  twoWorkers: CpuSplit;
  oneWorker: CpuSplit;
  loadGenerator: number;
  /**
   * Tokens/s each could reach on this machine's cores with nothing else running, at its CPU per
   * token with the load generator's share: WORKERS=1 is also bound by its one main thread.
   */
  oneWorkerMax: number;
  twoWorkersMax: number;
  /** twoWorkersMax / WORKERS=1's measured tokens/s: what the ratio can be at most here. */
  twoVsOneCeiling: number;
  /** CPU ms per token (load generator's share included) WORKERS=2 would need to reach 1.5 times WORKERS=1 on these cores. */
  cpuForGoal: number;
}

export async function runWorkersBench(options: { rounds?: number; seconds?: number; connections?: number; print?: boolean } = {}): Promise<WorkersBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-workers-'));
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const children: RunningChild[] = [];
  try {
    const two = await startPortcullis(join(root, 'two'), pem, await freePort(), { WORKERS: '2' });
    children.push(two);
    const one = await startPortcullis(join(root, 'one'), pem, await freePort(), { WORKERS: '1' });
    children.push(one);
    const cpu = meterCpu(two.pid, one.pid);
    const compared = await compareLoad(tokenRequest(two.url), tokenRequest(one.url), {
      rounds: options.rounds ?? 4, seconds: options.seconds ?? 5, connections: options.connections ?? 8, onWarm: cpu.start,
    });
    const result: WorkersBenchResult = { twoWorkers: compared.a, oneWorker: compared.b, twoVsOne: compared.ratio };
    const perToken = cpu.perRequest(compared.a.requests, compared.b.requests);
    if (perToken) result.cpuPerToken = withCeiling(perToken, compared.b.requestsPerSecond);
    if (options.print ?? true) {
      console.log(`(1b) token endpoint, client_credentials, WORKERS=2 against WORKERS=1, ${Math.round(compared.a.seconds + compared.b.seconds)} s of load`);
      printLoad('WORKERS=2', result.twoWorkers);
      printLoad('WORKERS=1', result.oneWorker);
      console.log(`    WORKERS=2 / WORKERS=1 = ${result.twoVsOne.toFixed(2)}`);
      if (result.cpuPerToken) printCpu(result.cpuPerToken);
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** WORKERS=1 is measured, not assumed at its ceiling: the bound is what WORKERS=2's CPU per token allows against what WORKERS=1 reached. */
function withCeiling({ a: twoWorkers, b: oneWorker, loadGenerator }: CpuPerRequest, oneWorkerMeasured: number): CpuPerToken {
  const cores = coreCount() * 1000;
  const oneWorkerMax = Math.min(1000 / oneWorker.mainThreads, cores / (totalOf(oneWorker) + loadGenerator));
  const twoWorkersMax = cores / (totalOf(twoWorkers) + loadGenerator);
  return {
    twoWorkers, oneWorker, loadGenerator, oneWorkerMax: Math.round(oneWorkerMax), twoWorkersMax: Math.round(twoWorkersMax),
    twoVsOneCeiling: Number((twoWorkersMax / oneWorkerMeasured).toFixed(2)), cpuForGoal: Number((cores / (1.5 * oneWorkerMeasured)).toFixed(2)),
  };
}

function printCpu(cpu: CpuPerToken): void {
  console.log(`    CPU ms per token: WORKERS=2 ${formatCpu(cpu.twoWorkers)}; WORKERS=1 ${formatCpu(cpu.oneWorker)}; load generator ${cpu.loadGenerator.toFixed(2)}`);
  console.log(`    at that CPU per token, ${coreCount()} idle cores allow at most WORKERS=1 ${cpu.oneWorkerMax} tokens/s (main thread or all cores), WORKERS=2 ${cpu.twoWorkersMax} tokens/s`);
  const twoWorkersTotal = totalOf(cpu.twoWorkers) + cpu.loadGenerator;
  console.log(`    against WORKERS=1's measured rate, WORKERS=2 / WORKERS=1 can be at most ${cpu.twoVsOneCeiling.toFixed(2)}; 1.5 needs at most ${cpu.cpuForGoal} ms of CPU per token with the load generator's share (WORKERS=2 used ${twoWorkersTotal.toFixed(2)})`);
}

if (import.meta.main) {
  const [seconds] = process.argv.slice(2).map(Number);
  await runWorkersBench({ seconds: seconds || undefined });
}
