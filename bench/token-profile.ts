/**
 * Where the token endpoint's CPU goes, per token, in Portcullis and in the bare oidc-provider, under
 * the load of bench/token-endpoint.ts (alternating rounds): `perf record` on both servers, read
 * by thread kind, and the main thread by what its JavaScript belongs to (oidc-provider, Koa, the
 * audit write-ahead, rate limits, metrics, ...). Linux with perf only; not part of `npm run bench`.
 * Run alone: ./node_modules/.bin/node bench/token-profile.ts [seconds-per-round]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import type { RunningChild } from './support/child.ts';
import { compareLoad } from './support/load.ts';
import { attributePerf, PERF_NODE_OPTIONS, printPerUnit, recordPerf, type PerfRecording } from './support/perf-profile.ts';
import { startBareProvider, startPortcullis, tokenRequest } from './token-endpoint.ts';

const [seconds] = process.argv.slice(2).map(Number);
const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-profile-'));
const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const children: RunningChild[] = [];
try {
  const portcullis = await startPortcullis(join(root, 'portcullis'), pem, await freePort(), {}, PERF_NODE_OPTIONS);
  children.push(portcullis);
  const bare = await startBareProvider(pem, await freePort(), PERF_NODE_OPTIONS);
  children.push(bare);
  const files = { portcullis: join(root, 'portcullis.perf.data'), bare: join(root, 'bare.perf.data') };
  const recordings: PerfRecording[] = [];
  const compared = await compareLoad(tokenRequest(portcullis.url), tokenRequest(bare.url), {
    rounds: 2, seconds: seconds || 8, connections: 8,
    onWarm: async () => {
      recordings.push(await recordPerf(portcullis.pid, files.portcullis), await recordPerf(bare.pid, files.bare));
    },
  });
  for (const recording of recordings) await recording.stop();
  const [ours, theirs] = [await attributePerf(files.portcullis), await attributePerf(files.bare)];
  console.log(`token endpoint CPU profile, ${compared.a.requestsPerSecond} vs ${compared.b.requestsPerSecond} tokens/s (Portcullis / bare ${compared.ratio.toFixed(2)})`);
  printPerUnit('token', { label: 'Portcullis', cpu: ours, units: compared.a.requests }, { label: 'bare', cpu: theirs, units: compared.b.requests });
} finally {
  for (const child of children) await child.stop();
  await rm(root, { recursive: true, force: true });
}

