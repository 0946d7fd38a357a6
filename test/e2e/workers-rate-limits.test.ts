import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OTHER_RESOURCE, SERVICE_CLIENT } from '../support/authorization-server.ts';
import { freePort } from '../support/ports.ts';
import { PROJECT_ROOT, testProcessEnv } from '../support/processes.ts';

const LIMIT = 6;

/** WORKERS=2 on the embedded engine, with a token limit of LIMIT requests per address. */
class Cluster {
  readonly primary: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly dataDir: string;
  #output = '';

  constructor(root: string, port: number) {
    this.port = port;
    this.dataDir = join(root, 'data');
    this.primary = spawn(process.execPath, ['src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: testProcessEnv({
        WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', DEMO_MCP: 'off', LOG_FORMAT: 'json',
        DATA_DIR: this.dataDir, KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'no-secret'), CONFIG_FILE: join(root, 'config.json'),
        TOKEN_RATE_LIMIT_PER_ADDRESS: String(LIMIT),
      }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.primary.stdout.on('data', (chunk) => { this.#output += chunk; });
    this.primary.stderr.on('data', (chunk) => { this.#output += chunk; });
  }

  /** Pids of the workers started so far, in order (a replacement comes after the one it replaces). */
  workers(): number[] {
    return this.#output.split('\n').filter((line) => line.includes('"worker started"')).map((line) => (JSON.parse(line) as { pid: number }).pid);
  }

  /** Pids of the workers that accept connections on the server's port. */
  listening(): Set<number> {
    const lines = this.#output.split('\n').filter((line) => line.includes('"worker listening"'));
    return new Set(lines.map((line) => JSON.parse(line) as { pid: number; port: number }).filter((entry) => entry.port === this.port).map((entry) => entry.pid));
  }

  /** Until `count` workers accept connections (round robin then hands new connections to each in turn). */
  async waitForWorkers(count: number): Promise<void> {
    while (!this.#output.includes('Portcullis is running.') || this.listening().size < count) {
      if (this.primary.exitCode !== null) assert.fail(`the server stopped: ${this.#output}`);
      await once(this.primary.stdout, 'data');
    }
  }

  /** A client_credentials request on a new connection, so the primary hands it to the next worker in turn. */
  token(): Promise<number> {
    return new Promise((resolve, reject) => {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE, scope: 'api:read' }).toString();
      const sent = request({
        host: '127.0.0.1', port: this.port, path: '/token', method: 'POST', agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body),
        },
      }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
      });
      sent.on('error', reject);
      sent.end(body);
    });
  }

  /** Tokens each worker slot issued, from its own audit log (a token leaves only once its record is on disk). */
  async issuedBySlot(): Promise<number[]> {
    const counts: number[] = [];
    for (const slot of [1, 2]) {
      const dir = join(this.dataDir, 'audit', `worker-${slot}`);
      let issued = 0;
      for (const name of await readdir(dir, { recursive: true })) {
        const text = await readFile(join(dir, name)).catch(() => Buffer.alloc(0));
        issued += text.toString('utf8').split('"type":"token.issued"').length - 1;
      }
      counts.push(issued);
    }
    return counts;
  }

  async stop(): Promise<void> {
    if (this.primary.exitCode !== null || this.primary.signalCode !== null) return;
    const exited = once(this.primary, 'exit');
    this.primary.kill('SIGTERM');
    await exited;
  }
}

/** Runs `test` against a fresh cluster, stopped afterwards whatever happens. */
async function withCluster(test: (cluster: Cluster) => Promise<void>): Promise<void> {
  const cluster = await startCluster();
  try {
    await test(cluster);
  } finally {
    await cluster.stop();
  }
}

async function startCluster(): Promise<Cluster> {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-workers-limits-'));
  roots.push(root);
  await writeFile(join(root, 'config.json'), JSON.stringify({ clients: [SERVICE_CLIENT], resources: [{ uri: OTHER_RESOURCE, scopes: ['api:read'] }] }));
  const cluster = new Cluster(root, await freePort());
  clusters.push(cluster);
  await cluster.waitForWorkers(2);
  return cluster;
}

const roots: string[] = [];
const clusters: Cluster[] = [];
after(async () => {
  for (const cluster of clusters) if (cluster.primary.exitCode === null) cluster.primary.kill('SIGKILL');
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

describe('WORKERS=2 on the embedded engine: rate limits counted by the primary', () => {
  it('holds a limit of N across both workers: the N+1th request is refused whichever worker takes it', () => withCluster(async (cluster) => {
    for (let i = 0; i < LIMIT; i++) assert.equal(await cluster.token(), 200, `request ${i + 1}`);
    const [first, second] = await cluster.issuedBySlot();
    assert.ok(first! > 0 && second! > 0, `both workers issued tokens (${first} and ${second})`);
    assert.equal(first! + second!, LIMIT);
    // Two more, on new connections: one reaches each worker.
    assert.equal(await cluster.token(), 429);
    assert.equal(await cluster.token(), 429);
  }));

  it('loses no count when a worker is killed: its replacement and the other worker go on from the same count', () => withCluster(async (cluster) => {
    const half = LIMIT / 2;
    for (let i = 0; i < half; i++) assert.equal(await cluster.token(), 200);
    process.kill(cluster.workers()[0]!, 'SIGKILL');
    await cluster.waitForWorkers(3);
    for (let i = half; i < LIMIT; i++) assert.equal(await cluster.token(), 200, `request ${i + 1}`);
    assert.equal(await cluster.token(), 429);
    assert.equal(await cluster.token(), 429);
  }));

  it('takes the workers down with a killed primary, so no worker serves requests nobody counts', async () => {
    const cluster = await startCluster();
    const workers = cluster.workers();
    const exited = once(cluster.primary, 'exit');
    cluster.primary.kill('SIGKILL');
    await exited;
    for (const pid of workers) {
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await assert.rejects(cluster.token(), /ECONNREFUSED/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
