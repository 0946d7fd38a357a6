import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { InMemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { addUser } from '../support/oauth-client.ts';
import { freePort } from '../support/ports.ts';
import { PROJECT_ROOT, startProject, type RunningProject } from '../support/processes.ts';
import { UserAgent } from '../support/user-agent.ts';

const run = promisify(execFile);
/** The plain Node the package promises to run on (no type stripping); this test's own Node when absent. */
const PLAIN_NODE = process.env.PLAIN_NODE ?? (existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath);
const REDIRECT_URL = 'http://127.0.0.1:45874/callback';
const PACKAGE_DIR = join(PROJECT_ROOT, 'packages/resource-server');
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

describe('the resource-server package installed from its tarball into a project outside the repository', () => {
  let project: string;
  let portcullis: TestServer;
  /** TypeScript's check of typed-tools.ts, started as soon as the package is installed. */
  let typeCheck: Promise<unknown>;
  const servers: Record<'express' | 'node', { resource: string; process?: RunningProject }> = { express: { resource: '' }, node: { resource: '' } };

  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'resource-server-consumer-'));
    await cp(join(PROJECT_ROOT, 'test/resource-server/consumer'), project, { recursive: true });
    // Express and the MCP SDK come from the npm cache (the registry only for what it lacks), in parallel with the build.
    const dependencies = run('npm', ['install', '--prefer-offline', ...NPM_QUIET], { cwd: project });
    await run('npm', ['pack', '--pack-destination', project, ...NPM_QUIET], { cwd: PACKAGE_DIR });
    await dependencies;
    const tarball = (await readdir(project)).find((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    await run('npm', ['install', '--prefer-offline', ...NPM_QUIET, `./${tarball}`], { cwd: project });
    const tsc = join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(PROJECT_ROOT, 'node_modules/@types')];
    typeCheck = run(process.execPath, [tsc, ...flags, 'typed-tools.ts'], { cwd: project }).then(() => undefined, (error: unknown) => error);

    for (const name of ['express', 'node'] as const) servers[name].resource = `http://localhost:${await freePort()}/mcp`;
    portcullis = await startTestServer({}, undefined, Object.values(servers).map(({ resource }) => ({ uri: resource, name: resource, scopes: ['notes:read'], default: false })));
    for (const [name, server] of Object.entries(servers)) {
      const env = { ISSUER: portcullis.issuer, RESOURCE: server.resource, PORT: new URL(server.resource).port };
      server.process = await startProject(env, 'listening on node', `${name}-server.js`, { node: PLAIN_NODE, cwd: project });
    }
  });
  after(async () => {
    await typeCheck;
    for (const server of Object.values(servers)) await server.process?.stop();
    await portcullis?.destroy();
    if (project) await rm(project, { recursive: true, force: true });
  });

  for (const name of ['express', 'node'] as const) {
    it(`lets the official MCP SDK client sign in at Portcullis and call a typed tool on the ${name} server`, async () => {
      assert.match(servers[name].process!.output(), /listening on node v2\d/);
      const { resource } = servers[name];
      const oauth = new InMemoryOAuthClient({ redirectUrl: REDIRECT_URL, clientName: `${name} consumer test` });
      await assert.rejects(new Client({ name: 'consumer-test', version: '0' }).connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth })), UnauthorizedError);
      assert.equal(oauth.authorizationUrl?.searchParams.get('resource'), resource, 'the SDK found Portcullis through the served metadata');
      assert.equal(oauth.authorizationUrl?.searchParams.get('scope'), 'notes:read', 'the first challenge named the read scope');
      const callback = await new UserAgent(portcullis.issuer).authorize(oauth.authorizationUrl!, await addUser(portcullis));
      const signIn = new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth });
      await signIn.finishAuth(callback.searchParams.get('code')!);

      const client = new Client({ name: 'consumer-test', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth }));
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((tool) => tool.name), ['greet']);
        const result = await client.callTool({ name: 'greet', arguments: { name: 'Ada', times: 2 } });
        assert.notEqual(result.isError, true);
        assert.match(JSON.stringify(result.content), /Hello Ada, Hello Ada \(asked by /);
        const refused = await client.callTool({ name: 'greet', arguments: { name: 'Ada', times: 'twice' } });
        assert.equal(refused.isError, true, 'arguments outside the zod shape never reach the handler');
      } finally {
        await client.close();
      }
      const accessToken = oauth.tokens()!.access_token;
      const me = await fetch(new URL('/me', resource), { headers: { authorization: `Bearer ${accessToken}` } });
      assert.equal(me.status, 200, 'a route of its own behind the package\'s bearer check');
      const anonymous = await fetch(new URL('/me', resource));
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata="http:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
      if (name === 'express') {
        const whoami = await fetch(new URL('/whoami', resource), { headers: { authorization: `Bearer ${accessToken}` } });
        assert.equal(whoami.status, 200, 'the SDK requireBearerAuth accepts our verifier');
        assert.deepEqual((await whoami.json() as { scopes: string[] }).scopes, ['notes:read']);
        const forged = await fetch(new URL('/whoami', resource), { headers: { authorization: `Bearer ${accessToken}x` } });
        assert.equal(forged.status, 401, 'a bad token is the SDK\'s invalid_token, not a server error');
      }
    });
  }

  it('gives TypeScript the handler arguments from the tool\'s zod shape, through the installed declarations', async () => {
    const failure = await typeCheck;
    assert.equal(failure, undefined, `tsc refused typed-tools.ts: ${(failure as { stdout?: string } | undefined)?.stdout ?? ''}`);
  });
});
