import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PUBLIC_CLIENT, TEST_PASSWORD, type TestServer } from '../support/authorization-server.ts';
import { codeFlow, discover } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { PROJECT_ROOT, runProject, testProcessEnv } from '../support/processes.ts';

describe('WORKERS=2: two processes sharing the port', () => {
  let root: string;
  let env: Record<string, string>;
  let primary: ChildProcessWithoutNullStreams;
  let output = '';
  let issuer: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-workers-'));
    const port = await freePort();
    issuer = `http://localhost:${port}`;
    await writeFile(join(root, 'config.json'), JSON.stringify({
      clients: [PUBLIC_CLIENT],
      resources: [{ uri: 'https://api.example.test/', scopes: ['api:read'] }],
    }));
    env = testProcessEnv({
      WORKERS: '2', PORT: String(port), DEMO_MCP: 'off', LOG_FORMAT: 'json',
      DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'no-secret'), CONFIG_FILE: join(root, 'config.json'),
    });
    primary = spawn(process.execPath, ['src/main.ts'], { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    primary.stdout.on('data', (chunk) => { output += chunk; });
    primary.stderr.on('data', (chunk) => { output += chunk; });
    while (!output.includes('Portcullis is running.') || startedWorkers().length < 2) {
      if (primary.exitCode !== null) assert.fail(`the server stopped: ${output}`);
      await once(primary.stdout, 'data');
    }
    const added = await runProject('src/cli/main.ts', ['users', 'add', 'alice', '--password-stdin'], { env, input: `${TEST_PASSWORD}\n` });
    assert.equal(added.code, 0, added.stderr);
  });
  after(async () => {
    if (primary.exitCode === null) primary.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  function startedWorkers(): number[] {
    return output.split('\n').filter((line) => line.includes('"worker started"')).map((line) => (JSON.parse(line) as { pid: number }).pid);
  }

  it('starts two worker processes and prints the banner once', () => {
    assert.equal(new Set(startedWorkers()).size, 2);
    assert.equal(output.split('Portcullis is running.').length - 1, 1);
  });

  it('serves the whole authorization-code flow with PKCE', async () => {
    const server = { issuer } as TestServer;
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, server, { username: 'alice', password: TEST_PASSWORD }, {
      redirectUri: 'http://127.0.0.1/callback', scope: 'api:read', resource: 'https://api.example.test/',
    });
    assert.ok(tokens.access_token);
  });

  it('refuses another server on the same DATA_DIR while the workers serve it, naming the primary', async () => {
    const foreign = await runProject('src/main.ts', [], { env: { ...env, WORKERS: '1', PORT: String(await freePort()), DEMO_MCP_PORT: String(await freePort()) } });
    assert.equal(foreign.code, 2, foreign.stderr);
    assert.match(foreign.stderr, new RegExp(`^portcullis: DATA_DIR: .* is in use by another process \\(pid ${primary.pid}\\)`));
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const exited = once(primary, 'exit');
    primary.kill('SIGTERM');
    const [code] = await exited as [number | null];
    assert.equal(code, 0);
    for (const pid of startedWorkers()) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });

  it('gives each worker its own audit log, and each one verifies', async () => {
    const origin = `${new URL(issuer).host}/audit`;
    for (const slot of [1, 2]) {
      const verified = await runProject('src/cli/main.ts', ['audit', 'verify'], {
        env: { ...env, AUDIT_DIR: join(root, 'data', 'audit', `worker-${slot}`), AUDIT_ORIGIN: `${origin}/worker-${slot}` },
      });
      assert.equal(verified.code, 0, `worker ${slot}: ${verified.stdout}${verified.stderr}`);
    }
  });
});
