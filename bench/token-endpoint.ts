/**
 * (1) The token endpoint, client_credentials grant with RS256 JWT access tokens: Portcullis
 * (`node src/main.ts`: its Store adapter, headers, rate-limit gate, hashed client secrets) against
 * a bare oidc-provider with the same key, client and resource. Both run in their own process; the
 * load comes from this one, in alternating rounds. It also prints the CPU each spends per token by
 * kind of thread (Linux): where Portcullis's extra cost sits, main thread or libuv's thread pool.
 * Run alone: ./node_modules/.bin/node bench/token-endpoint.ts [seconds-per-round]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { freePort } from '../test/support/ports.ts';
import { startChild, type RunningChild } from './support/child.ts';
import { formatCpu, meterCpu, type CpuSplit } from './support/cpu.ts';
import { compareLoad, type LoadMeasurement, type LoadRequest } from './support/load.ts';
import { NO_RATE_LIMITS } from './support/unlimited.ts';

export interface TokenEndpointBenchOptions {
  rounds?: number;
  seconds?: number;
  connections?: number;
  print?: boolean;
}

export interface TokenEndpointBenchResult {
  portcullis: LoadMeasurement;
  bareOidcProvider: LoadMeasurement;
  /** Portcullis / bare oidc-provider, in tokens per second. */
  portcullisVsBare: number;
  /** CPU milliseconds per token (Linux only). */
  cpuPerToken?: { portcullis: CpuSplit; bareOidcProvider: CpuSplit; loadGenerator: number };
}

export const RESOURCE = 'https://mcp.bench.example/mcp';
const SCOPES = 'notes:read notes:write';
export const CLIENT = {
  client_id: 'bench-service',
  client_secret: 'bench-service-secret-0123456789abcdef',
  redirect_uris: [],
  response_types: [],
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'client_secret_basic',
};

export async function runTokenEndpointBench(options: TokenEndpointBenchOptions = {}): Promise<TokenEndpointBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-bench-token-'));
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const children: RunningChild[] = [];
  try {
    const portcullis = await startPortcullis(root, pem, await freePort());
    children.push(portcullis);
    const bare = await startBareProvider(pem, await freePort());
    children.push(bare);

    const requests = { portcullis: tokenRequest(portcullis.url), bare: tokenRequest(bare.url) };
    // Both must hand out the same thing: an at+jwt for the resource, signed with the same key.
    const kids = await Promise.all(Object.values(requests).map((request) => issuedKid(request)));
    if (kids[0] !== kids[1]) throw new Error(`the two servers sign with different keys (${kids.join(' vs ')})`);

    const cpu = meterCpu(portcullis.pid, bare.pid);
    const compared = await compareLoad(requests.portcullis, requests.bare, {
      rounds: options.rounds ?? 4, seconds: options.seconds ?? 5, connections: options.connections ?? 8, onWarm: cpu.start,
    });
    const result: TokenEndpointBenchResult = { portcullis: compared.a, bareOidcProvider: compared.b, portcullisVsBare: compared.ratio };
    const perToken = cpu.perRequest(compared.a.requests, compared.b.requests);
    if (perToken) result.cpuPerToken = { portcullis: perToken.a, bareOidcProvider: perToken.b, loadGenerator: perToken.loadGenerator };
    if (options.print ?? true) {
      console.log(`(1) token endpoint, client_credentials, RS256 JWT access tokens, ${Math.round(compared.a.seconds + compared.b.seconds)} s of load`);
      printLoad('Portcullis', result.portcullis);
      printLoad('bare oidc-provider, same key and client', result.bareOidcProvider);
      console.log(`    Portcullis / bare oidc-provider = ${result.portcullisVsBare.toFixed(2)}`);
      const cpuPerToken = result.cpuPerToken;
      if (cpuPerToken) {
        console.log(`    CPU ms per token: Portcullis ${formatCpu(cpuPerToken.portcullis)}; bare ${formatCpu(cpuPerToken.bareOidcProvider)}; load generator ${cpuPerToken.loadGenerator.toFixed(2)}`);
      }
    }
    return result;
  } finally {
    for (const child of children) await child.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** Portcullis as `npm start` runs it (embedded store, rate limits counted, audit log on), with the bench client and resource. */
export async function startPortcullis(root: string, pem: string, port: number, env: Record<string, string> = {}, nodeOptions: string[] = []): Promise<RunningChild> {
  await mkdir(root, { recursive: true });
  const configFile = join(root, 'config.json');
  await writeFile(configFile, JSON.stringify({ clients: [CLIENT], resources: [{ uri: RESOURCE, scopes: SCOPES.split(' '), default: true }] }));
  return startChild('src/main.ts', {
    NODE_ENV: 'development', PORT: String(port), HOST: '127.0.0.1', CONFIG_FILE: configFile, RSA_PRIVATE_KEY_PEM: pem,
    DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'none'), COOKIE_KEYS_PATH: join(root, 'none'),
    DEMO_MCP: 'off', LOG_LEVEL: 'warn', ...NO_RATE_LIMITS, ...env,
  }, (line) => /^\s+issuer:\s+(\S+)/.exec(line)?.[1], nodeOptions);
}

/** The bare oidc-provider with the same key, client and resource. */
export function startBareProvider(pem: string, port: number, nodeOptions: string[] = []): Promise<RunningChild> {
  return startChild('bench/support/bare-provider.ts', {
    NODE_ENV: 'development', BENCH_PORT: String(port), BENCH_KEY_PEM: pem, BENCH_CLIENT: JSON.stringify(CLIENT), BENCH_RESOURCE: RESOURCE, BENCH_SCOPES: SCOPES,
  }, undefined, nodeOptions);
}

/** The bench client's client_credentials request to a server's token endpoint. */
export function tokenRequest(issuer: string): LoadRequest {
  return {
    url: `${issuer.replace('localhost', '127.0.0.1')}/token`,
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notes:read', resource: RESOURCE }).toString(),
  };
}

/** One token request by hand: checks the answer is an at+jwt and returns its kid. */
export async function issuedKid(request: LoadRequest): Promise<string | undefined> {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body ?? null });
  const body = await response.json() as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`${request.url}: ${response.status} ${JSON.stringify(body)}`);
  const header = decodeProtectedHeader(body.access_token);
  if (header.typ !== 'at+jwt' || header.alg !== 'RS256') throw new Error(`${request.url}: not an RS256 at+jwt (${JSON.stringify(header)})`);
  return header.kid;
}

export function printLoad(label: string, measurement: LoadMeasurement): void {
  console.log(`    ${label.padEnd(44)}${measurement.requestsPerSecond.toLocaleString('en-US').padStart(8)} req/s   p50 ${measurement.latencyMsP50} ms   p99 ${measurement.latencyMsP99} ms   (n=${measurement.requests})`);
}

if (import.meta.main) {
  const [seconds] = process.argv.slice(2).map(Number);
  await runTokenEndpointBench({ seconds: seconds || undefined });
}
