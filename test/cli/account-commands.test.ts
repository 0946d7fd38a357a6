import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, PUBLIC_CLIENT, TEST_PASSWORD, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';
import { PROJECT_ROOT, runProject, testProcessEnv } from '../support/processes.ts';

const NEW_PASSWORD = 'a brand new passphrase';
const REDIRECT_URI = 'http://127.0.0.1/callback';

describe('the portcullis command: passwords, deletion, unlocking and client secrets', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let config: client.Configuration;
  const cli = (args: string[], input?: string) => runProject('src/cli/main.ts', args, { env, ...(input === undefined ? {} : { input }) });

  before(async () => {
    server = await startTestServer();
    env = { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir };
    config = await discover(server, PUBLIC_CLIENT.client_id);
  });
  after(() => server.destroy());

  async function signedInWithRefreshToken(user: { username: string; password: string }): Promise<string> {
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    return tokens.refresh_token!;
  }

  it('changes a password from standard input: the old one stops working and the user\'s app access ends', async () => {
    const user = await addUser(server);
    const refreshToken = await signedInWithRefreshToken(user);
    const changed = await cli(['users', 'passwd', user.username, '--password-stdin'], `${NEW_PASSWORD}\n`);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(await server.users.authenticate(user.username, TEST_PASSWORD), undefined);
    assert.equal((await server.users.authenticate(user.username, NEW_PASSWORD))?.id, user.id);
    await assert.rejects(client.refreshTokenGrant(config, refreshToken), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    assert.equal((await cli(['users', 'passwd', user.username, '--password-stdin'], 'short\n')).code, 2, 'a too short password is refused');
  });

  it('reads a password typed at a terminal without echoing it', async () => {
    const user = await addUser(server);
    const typed = 'typed at the terminal 42';
    const output = await atTerminal(['users', 'passwd', user.username], env, [typed, typed]);
    assert.match(output, /New password: /);
    assert.doesNotMatch(output, /typed at the terminal/);
    assert.equal((await server.users.authenticate(user.username, typed))?.id, user.id);
  });

  it('deletes a user: the account, its sessions and refresh tokens are gone', async () => {
    const user = await addUser(server);
    const refreshToken = await signedInWithRefreshToken(user);
    const deleted = await cli(['users', 'delete', user.username]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await server.users.findActiveById(user.id), undefined);
    await assert.rejects(client.refreshTokenGrant(config, refreshToken), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    assert.equal((await cli(['users', 'delete', user.username])).code, 2, 'deleting again says there is no such user');
  });

  it('unlocks a user whose sign-in is paused after too many failures', async () => {
    const user = await addUser(server);
    const lockout = (await import('../../src/authorization-server/index.ts')).LoginLockout;
    const policy = { threshold: server.config.loginLockoutThreshold, baseSeconds: server.config.loginLockoutBaseSeconds, maxSeconds: server.config.loginLockoutMaxSeconds };
    const limiter = new lockout(server.store, policy);
    for (let attempt = 0; attempt < policy.threshold; attempt += 1) await limiter.failed(user.username, '203.0.113.7');
    assert.ok(await limiter.pausedFor(user.username, '203.0.113.7'));
    const unlocked = await cli(['users', 'unlock', user.username]);
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.match(unlocked.stdout, /lifted 1 sign-in pause/);
    assert.equal(await limiter.pausedFor(user.username, '203.0.113.7'), undefined);
  });

  it('rotates a confidential client\'s secret (the old one stops working) and deletes a client', async () => {
    const added = JSON.parse((await cli(['clients', 'add', '--name', 'Rotating', '--redirect-uri', 'http://127.0.0.1/cb', '--confidential', '--json'])).stdout) as { client_id: string; client_secret: string };
    const rotated = await cli(['clients', 'rotate-secret', added.client_id, '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { client_secret: newSecret } = JSON.parse(rotated.stdout) as { client_secret: string };
    assert.notEqual(newSecret, added.client_secret);
    const tokenWith = async (secret: string) => fetch(new URL('/token', server.url), {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${added.client_id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'none', redirect_uri: 'http://127.0.0.1/cb', code_verifier: 'x'.repeat(43) }),
    }).then(async (response) => ((await response.json()) as { error: string }).error);
    assert.equal(await tokenWith(added.client_secret), 'invalid_client');
    assert.equal(await tokenWith(newSecret), 'invalid_grant', 'the new secret authenticates (the made-up code is what fails)');

    assert.equal((await cli(['clients', 'delete', added.client_id])).code, 0);
    assert.equal(await tokenWith(newSecret), 'invalid_client');
    const missing = await cli(['clients', 'delete', added.client_id]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no client/);
  });

  it('says "unknown command" and lists the commands for a command it does not know', async () => {
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"; the commands are: start, users, clients, keys, audit/);
    const unknownUsers = await cli(['users', 'frobnicate', 'someone']);
    assert.equal(unknownUsers.code, 2);
    assert.match(unknownUsers.stderr, /unknown command: users frobnicate\nportcullis users add/);
  });
});

/** Runs the CLI in a pseudo-terminal (util-linux `script`), typing each answer once its prompt shows; returns all it printed. */
function atTerminal(args: string[], env: Record<string, string>, answers: string[]): Promise<string> {
  const command = [process.execPath, 'src/cli/main.ts', ...args].map((part) => `'${part}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: PROJECT_ROOT, env: testProcessEnv(env) });
    let output = '';
    let prompts = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const seen = (output.match(/password: |Repeat it: /g) ?? []).length;
      while (prompts < seen && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`exit ${code}: ${output}`));
    });
  });
}
