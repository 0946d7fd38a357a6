/**
 * Where a refresh-token grant's CPU goes against a client_credentials grant, per grant, on one
 * Portcullis on Redis under the load of bench/refresh-grant.ts (8 chains, alternating rounds):
 * each round of each grant under its own `perf record`, read by thread kind and the main thread by
 * whose JavaScript it ran. `--files` splits the main thread by source file instead.
 * Linux with perf only; not part of `npm run bench`.
 * Run alone: ./node_modules/.bin/node bench/refresh-profile.ts [seconds-per-round] [--files]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startOwnRedis } from '../test/support/redis-server.ts';
import { GRANT_CHAINS, refreshTokens, startRefreshServer, type RefreshServer } from './refresh-grant.ts';
import { addAttribution, attributePerf, emptyAttribution, PERF_NODE_OPTIONS, printPerUnit, printRow, recordPerf } from './support/perf-profile.ts';

const CHAINS = 8;
const ROUNDS = 4;
const seconds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--'))) || 4;
const byFile = process.argv.includes('--files');
const root = await mkdtemp(join(tmpdir(), 'portcullis-refresh-profile-'));
const redis = await startOwnRedis();
const info = new Redis(redis.url);
const child = await startRefreshServer('redis', root, `bench:${randomUUID()}:`, PERF_NODE_OPTIONS, redis.url);
try {
  const server: RefreshServer = { issuer: child.url, tokens: await refreshTokens(child.url, CHAINS) };
  const load = (grant: keyof typeof GRANT_CHAINS, forSeconds: number) => {
    const deadline = performance.now() + forSeconds * 1000;
    return Promise.all(server.tokens.map((_, chain) => GRANT_CHAINS[grant](server, chain, deadline))).then((counts) => counts.reduce((sum, count) => sum + count, 0));
  };
  await load('refresh', 2);
  await load('clientCredentials', 2);
  const measured = {
    refresh: { grants: 0, cpu: emptyAttribution(), redisUs: 0 },
    clientCredentials: { grants: 0, cpu: emptyAttribution(), redisUs: 0 },
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['refresh', 'clientCredentials'] as const : ['clientCredentials', 'refresh'] as const;
    for (const grant of order) {
      const file = join(root, `${grant}-${round}.perf.data`);
      const recording = await recordPerf(child.pid, file);
      const redisBefore = await redisCpuUs();
      measured[grant].grants += await load(grant, seconds);
      measured[grant].redisUs += await redisCpuUs() - redisBefore;
      await recording.stop();
      addAttribution(measured[grant].cpu, await attributePerf(file, { byFile }));
    }
  }
  const { refresh, clientCredentials } = measured;
  console.log(`refresh vs client_credentials CPU profile on Redis, ${CHAINS} chains, ${ROUNDS} alternating rounds of ${seconds} s under perf: ${refresh.grants} refreshes, ${clientCredentials.grants} client_credentials grants`);
  printPerUnit('grant', { label: 'refresh', cpu: refresh.cpu, units: refresh.grants }, { label: 'client cred.', cpu: clientCredentials.cpu, units: clientCredentials.grants });
  const [ofRefresh, ofClientCredentials] = [refresh.redisUs / refresh.grants, clientCredentials.redisUs / clientCredentials.grants];
  printRow('Redis (its own process, INFO cpu)', ofRefresh, ofClientCredentials);
} finally {
  await child.stop();
  info.disconnect();
  await redis.stop();
  await rm(root, { recursive: true, force: true });
}

/** CPU Redis has used so far, all its threads, in µs. */
async function redisCpuUs(): Promise<number> {
  const text = await info.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000_000;
}

