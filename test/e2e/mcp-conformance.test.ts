import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoNotesResource } from '../../src/config/index.ts';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { CHILD_ENV, PROJECT_ROOT } from '../support/processes.ts';
import { UserAgent } from '../support/user-agent.ts';

const CONFORMANCE = join(PROJECT_ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const NOTES = 'https://notes.example.test/mcp';

describe('the official MCP conformance suite\'s authorization-server scenarios', () => {
  let server: TestServer;
  let output: string;

  before(async () => {
    server = await startTestServer({}, undefined, [demoNotesResource(NOTES)]);
    output = await mkdtemp(join(tmpdir(), 'portcullis-conformance-'));
  });
  after(async () => {
    await server?.destroy();
    await rm(output, { recursive: true, force: true });
  });

  it('pass: metadata, and the code grant signed in through our pages (no scope asked, so the resource\'s default)', async () => {
    const user = await addUser(server);
    const port = await freePort();
    const child = spawn(process.execPath, [
      CONFORMANCE, 'authorization', '--url', server.issuer, '--client-id', PUBLIC_CLIENT.client_id, '--resource', NOTES, '-p', String(port), '-o', output,
    ], { cwd: PROJECT_ROOT, env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      // The code-grant scenario prints the authorization URL, then waits on its own callback.
      const authorizationUrl = await new Promise<URL>((resolve, reject) => {
        const collect = (chunk: Buffer) => {
          printed += chunk;
          const line = printed.split('\n').find((candidate) => candidate.startsWith(`${server.issuer}/authorize?`));
          if (line) resolve(new URL(line.trim()));
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        void exited.then(() => reject(new Error(`the suite ended before asking for a sign-in:\n${printed}`)));
      });
      const callback = await new UserAgent(server.issuer).authorize(authorizationUrl, user);
      assert.equal(`${callback.origin}${callback.pathname}`, `http://127.0.0.1:${port}/callback`);
      const landed = await fetch(callback);
      assert.equal(landed.status, 200, 'the browser lands on the suite\'s callback');
      assert.equal(await exited, 0, printed);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
    const checks = await readChecks(output);
    const byId = new Map(checks.map((check) => [check.id, check.status]));
    assert.equal(byId.get('authorization-server-metadata'), 'SUCCESS', printed);
    assert.equal(byId.get('authorization-server-metadata-cimd'), 'SUCCESS', printed);
    assert.equal(byId.get('authorization-code-grant'), 'SUCCESS', printed);
    assert.deepEqual(checks.filter((check) => check.status !== 'SUCCESS'), []);
  });
});

/** Every check the suite wrote under its output directory (one checks.json per scenario). */
async function readChecks(dir: string): Promise<Array<{ id: string; status: string }>> {
  const files = (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('checks.json'));
  assert.ok(files.length > 0, 'the suite wrote its results');
  const lists = await Promise.all(files.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as Array<{ id: string; status: string }>));
  return lists.flat();
}
