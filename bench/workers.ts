/**
 * (1b) The token endpoint under WORKERS=2 against WORKERS=1: the same Portcullis (embedded store,
 * rate limits counted, audit log on), the same client_credentials load, alternating rounds.
 * On a 2-core machine the load generator shares the cores, so 2.0 is out of reach.
 * Run alone: ./node_modules/.bin/node bench/workers.ts [seconds-per-round]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import type { RunningChild } from './support/child.ts';
import { compareLoad, type LoadMeasurement } from './support/load.ts';
import { printLoad, startPortcullis, tokenRequest } from './token-endpoint.ts';

export interface WorkersBenchResult {
  twoWorkers: LoadMeasurement;
  oneWorker: LoadMeasurement;
  /** WORKERS=2 / WORKERS=1, in tokens per second. */
  twoVsOne: number;
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
    const compared = await compareLoad(tokenRequest(two.url), tokenRequest(one.url), {
      rounds: options.rounds ?? 4, seconds: options.seconds ?? 5, connections: options.connections ?? 8,
    });
    const result: WorkersBenchResult = { twoWorkers: compared.a, oneWorker: compared.b, twoVsOne: compared.ratio };
    if (options.print ?? true) {
      console.log(`(1b) token endpoint, client_credentials, WORKERS=2 against WORKERS=1, ${Math.round(compared.a.seconds + compared.b.seconds)} s of load`);
      printLoad('WORKERS=2', result.twoWorkers);
      printLoad('WORKERS=1', result.oneWorker);
      console.log(`    WORKERS=2 / WORKERS=1 = ${result.twoVsOne.toFixed(2)}`);
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [seconds] = process.argv.slice(2).map(Number);
  await runWorkersBench({ seconds: seconds || undefined });
}
