/**
 * (2) The refresh-token grant on Redis: rotation reads the old token, consumes it, revokes nothing
 * and writes the new one, so this is the store's hardest path. Portcullis on Redis against the
 * same Portcullis on the embedded engine, both in their own process, in alternating rounds.
 * Each refresh token can be used once, so the load is N chains, each sending its next refresh
 * as soon as the last one answered (autocannon cannot chain answers into requests).
 * Run alone: ./node_modules/.bin/node bench/refresh-grant.ts [seconds-per-round]
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../test/support/authorization-server.ts';
import { codeFlow, discover } from '../test/support/oauth-client.ts';
import { freePort } from '../test/support/ports.ts';
import { runProject } from '../test/support/processes.ts';
import { deleteKeysUnder, TEST_REDIS_URL } from '../test/support/redis.ts';
import { startChild, type RunningChild } from './support/child.ts';
import { NO_RATE_LIMITS } from './support/unlimited.ts';

export interface RefreshMeasurement {
  refreshesPerSecond: number;
  refreshes: number;
  seconds: number;
}

export interface RefreshGrantBenchResult {
  redis: RefreshMeasurement;
  embedded: RefreshMeasurement;
  /** client_credentials grants on the same two servers, with the same load shape. */
  clientCredentials: { redis: RefreshMeasurement; embedded: RefreshMeasurement };
  /** Redis / embedded, in refreshes per second. */
  redisVsEmbedded: number;
  /** Refreshes / client_credentials grants per second on the same server. */
  refreshVsClientCredentials: { redis: number; embedded: number };
  chains: number;
}

export const PASSWORD = 'bench password 0123456789';
export const CLIENT = {
  client_id: 'bench-public', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
};
export const SERVICE = {
  client_id: 'bench-service', client_secret: 'bench-service-secret-0123456789abcdef', redirect_uris: [], response_types: [],
  grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic',
};
export const RESOURCE = 'https://api.bench.example/';
export type Engine = 'redis' | 'embedded';
type Grant = 'refresh' | 'clientCredentials';
export interface RefreshServer { issuer: string; tokens: string[] }

export async function runRefreshGrantBench(options: { rounds?: number; seconds?: number; chains?: number; print?: boolean } = {}): Promise<RefreshGrantBenchResult> {
  const rounds = options.rounds ?? 4;
  const seconds = options.seconds ?? 4;
  const chains = options.chains ?? 8;
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-refresh-'));
  const prefix = `bench:${randomUUID()}:`;
  const children: RunningChild[] = [];
  try {
    const servers = {} as Record<Engine, RefreshServer>;
    for (const engine of ['redis', 'embedded'] as const) {
      const child = await startRefreshServer(engine, join(root, engine), prefix);
      children.push(child);
      servers[engine] = { issuer: child.url, tokens: await refreshTokens(child.url, chains) };
    }

    const totals: Record<`${Engine} ${Grant}`, { refreshes: number; ms: number }> = {
      'redis refresh': { refreshes: 0, ms: 0 }, 'embedded refresh': { refreshes: 0, ms: 0 },
      'redis clientCredentials': { refreshes: 0, ms: 0 }, 'embedded clientCredentials': { refreshes: 0, ms: 0 },
    };
    for (let round = 0; round < rounds; round++) {
      const order = Object.keys(totals) as Array<keyof typeof totals>;
      for (const key of round % 2 === 0 ? order : order.reverse()) {
        const [engine, grant] = key.split(' ') as [Engine, Grant];
        const started = performance.now();
        const deadline = started + seconds * 1000;
        const loop = GRANT_CHAINS[grant];
        const counts = await Promise.all(servers[engine].tokens.map((_, chain) => loop(servers[engine], chain, deadline)));
        totals[key].refreshes += counts.reduce((sum, count) => sum + count, 0);
        totals[key].ms += performance.now() - started;
      }
    }
    const measure = (total: { refreshes: number; ms: number }): RefreshMeasurement => ({
      refreshesPerSecond: Math.round(total.refreshes / (total.ms / 1000)), refreshes: total.refreshes, seconds: Math.round(total.ms / 100) / 10,
    });
    const rate = (key: keyof typeof totals) => totals[key].refreshes / totals[key].ms;
    const result: RefreshGrantBenchResult = {
      redis: measure(totals['redis refresh']), embedded: measure(totals['embedded refresh']), chains,
      clientCredentials: { redis: measure(totals['redis clientCredentials']), embedded: measure(totals['embedded clientCredentials']) },
      redisVsEmbedded: Number((rate('redis refresh') / rate('embedded refresh')).toFixed(3)),
      refreshVsClientCredentials: {
        redis: Number((rate('redis refresh') / rate('redis clientCredentials')).toFixed(3)),
        embedded: Number((rate('embedded refresh') / rate('embedded clientCredentials')).toFixed(3)),
      },
    };
    if (options.print ?? true) {
      console.log(`(2) refresh-token grant with rotation, ${chains} chains, ${rounds} alternating rounds of ${seconds} s`);
      console.log(`    Portcullis on Redis                         ${String(result.redis.refreshesPerSecond).padStart(8)} refreshes/s   (n=${result.redis.refreshes})`);
      console.log(`    Portcullis on the embedded engine           ${String(result.embedded.refreshesPerSecond).padStart(8)} refreshes/s   (n=${result.embedded.refreshes})`);
      console.log(`    client_credentials on Redis                 ${String(result.clientCredentials.redis.refreshesPerSecond).padStart(8)} grants/s      (n=${result.clientCredentials.redis.refreshes})`);
      console.log(`    client_credentials on the embedded engine   ${String(result.clientCredentials.embedded.refreshesPerSecond).padStart(8)} grants/s      (n=${result.clientCredentials.embedded.refreshes})`);
      console.log(`    Redis / embedded = ${result.redisVsEmbedded.toFixed(2)}   refresh / client_credentials: Redis ${result.refreshVsClientCredentials.redis.toFixed(2)}, embedded ${result.refreshVsClientCredentials.embedded.toFixed(2)}`);
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
    await deleteKeysUnder(prefix);
  }
}

/** Portcullis as the bench runs it (audit off, rate limits lifted) on `engine`, with the bench user and clients. */
export async function startRefreshServer(engine: Engine, root: string, redisPrefix: string, nodeOptions: string[] = [], redisUrl = TEST_REDIS_URL): Promise<RunningChild> {
  const configFile = join(root, 'config.json');
  await mkdir(root, { recursive: true });
  await writeFile(configFile, JSON.stringify({ clients: [CLIENT, SERVICE], resources: [{ uri: RESOURCE, scopes: ['api:read'] }] }));
  const env = {
    NODE_ENV: 'development', PORT: String(await freePort()), CONFIG_FILE: configFile, DEMO_MCP: 'off', LOG_LEVEL: 'warn', AUDIT: 'off',
    DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'none'), COOKIE_KEYS_PATH: join(root, 'none'),
    ...(engine === 'redis' ? { REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix } : {}), ...NO_RATE_LIMITS,
  };
  const added = await runProject('src/cli/main.ts', ['users', 'add', 'bench', '--password-stdin'], { env, input: `${PASSWORD}\n` });
  if (added.code !== 0) throw new Error(`could not add the bench user: ${added.stderr}`);
  return startChild('src/main.ts', env, (line) => /^\s+issuer:\s+(\S+)/.exec(line)?.[1], nodeOptions);
}

/** Signs the bench user in `count` times through the login and consent pages; one refresh token each. */
export async function refreshTokens(issuer: string, count: number): Promise<string[]> {
  const server = { issuer } as TestServer;
  const config = await discover(server, CLIENT.client_id);
  const tokens: string[] = [];
  for (let index = 0; index < count; index++) {
    const { tokens: granted } = await codeFlow(config, server, { username: 'bench', password: PASSWORD }, {
      redirectUri: CLIENT.redirect_uris[0]!, scope: 'api:read offline_access', resource: RESOURCE, extra: { prompt: 'consent' },
    });
    if (!granted.refresh_token) throw new Error('no refresh token was issued');
    tokens.push(granted.refresh_token);
  }
  return tokens;
}

/** Sends client_credentials grants one after another until the deadline (the same load shape as a refresh chain). */
async function clientCredentialsChain(server: RefreshServer, _chain: number, deadline: number): Promise<number> {
  let count = 0;
  const authorization = `Basic ${Buffer.from(`${SERVICE.client_id}:${SERVICE.client_secret}`).toString('base64')}`;
  while (performance.now() < deadline) {
    const response = await fetch(`${server.issuer.replace('localhost', '127.0.0.1')}/token`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: RESOURCE }),
    });
    const body = await response.json() as { access_token?: string; error?: string };
    if (!response.ok || !body.access_token) throw new Error(`client_credentials failed: ${response.status} ${body.error ?? ''}`);
    count++;
  }
  return count;
}

/** Refreshes one chain until the deadline, keeping the newest token for the next round. */
async function refreshChain(server: RefreshServer, chain: number, deadline: number): Promise<number> {
  let count = 0;
  while (performance.now() < deadline) {
    const response = await fetch(`${server.issuer.replace('localhost', '127.0.0.1')}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: server.tokens[chain]!, client_id: CLIENT.client_id, resource: RESOURCE }),
    });
    const body = await response.json() as { refresh_token?: string; error?: string };
    if (!response.ok || !body.refresh_token) throw new Error(`refresh failed: ${response.status} ${body.error ?? ''}`);
    server.tokens[chain] = body.refresh_token;
    count++;
  }
  return count;
}

/** One chain of each grant: requests one after another on `server` until `deadline`, counted. */
export const GRANT_CHAINS: Record<Grant, (server: RefreshServer, chain: number, deadline: number) => Promise<number>> = {
  refresh: refreshChain, clientCredentials: clientCredentialsChain,
};

if (import.meta.main) {
  const [seconds] = process.argv.slice(2).map(Number);
  await runRefreshGrantBench({ seconds: seconds || undefined });
}
