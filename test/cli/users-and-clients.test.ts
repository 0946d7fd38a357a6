import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, TEST_PASSWORD, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';
import { captureLog } from '../support/captured-log.ts';
import { runProject } from '../support/processes.ts';
import { register } from '../support/registration.ts';
import { modelKey } from '../../src/authorization-server/adapter.ts';
import { SecondFactors } from '../../src/authorization-server/accounts/second-factors.ts';
import { totpCode } from '../../src/authorization-server/accounts/totp.ts';
import { allEvents } from '../../src/audit/index.ts';

describe('the portcullis command: users and clients', () => {
  let server: TestServer;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => runProject('src/cli/main.ts', args, { env, ...(input === undefined ? {} : { input }) });

  before(async () => {
    server = await startTestServer();
    env = { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir };
  });
  after(() => server.destroy());

  it('adds a user from a password on standard input, lists it, and never prints the password or its hash', async () => {
    const added = await cli(['users', 'add', 'carol', '--password-stdin'], `${TEST_PASSWORD}\n`);
    assert.equal(added.code, 0, added.stderr);
    const listed = await cli(['users', 'list', '--json']);
    const users = JSON.parse(listed.stdout) as Array<{ name: string; disabled: boolean }>;
    assert.deepEqual(users.map((user) => [user.name, user.disabled]), [['carol', false]]);
    assert.match(listed.stdout, /"roles":\[\]/, 'a new user has no roles');
    assert.doesNotMatch(added.stdout + listed.stdout, /scrypt|correct horse/);
  });

  it('refuses a password given without --password-stdin and a duplicate user, with exit code 2', async () => {
    const [withoutStdin, duplicate] = await Promise.all([
      cli(['users', 'add', 'dave']),
      cli(['users', 'add', 'carol', '--password-stdin'], TEST_PASSWORD),
    ]);
    assert.equal(withoutStdin.code, 2);
    assert.equal(duplicate.code, 2);
  });

  it('gives and takes roles, shows them in the list, and refuses a malformed role or an unknown user', async () => {
    const added = await cli(['users', 'add', 'erin', '--password-stdin'], `${TEST_PASSWORD}\n`);
    assert.equal(added.code, 0, added.stderr);
    const granted = await cli(['users', 'roles', 'erin', '--add', 'approver,admin', '--add', 'break-glass']);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, 'user erin has roles: admin, approver, break-glass\n');
    const changed = await cli(['users', 'roles', 'erin', '--remove', 'admin']);
    assert.equal(changed.stdout, 'user erin has roles: approver, break-glass\n');
    const [json, table, malformed, unknown] = await Promise.all([
      cli(['users', 'list', '--json']),
      cli(['users', 'list']),
      cli(['users', 'roles', 'erin', '--add', 'Admin!']),
      cli(['users', 'roles', 'nobody', '--add', 'admin']),
    ]);
    const users = JSON.parse(json.stdout) as Array<{ name: string; roles: string[] }>;
    assert.deepEqual(users.find((user) => user.name === 'erin')?.roles, ['approver', 'break-glass']);
    assert.match(table.stdout, /erin .*approver,break-glass/);

    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /"Admin!" is not a role name/);
    assert.equal(unknown.code, 2);
    const unchanged = JSON.parse((await cli(['users', 'list', '--json'])).stdout) as Array<{ name: string; roles: string[] }>;
    assert.deepEqual(unchanged.find((user) => user.name === 'erin')?.roles, ['approver', 'break-glass'], 'a refused change changes nothing');
  });

  it('resets a user\'s second factors with users mfa reset, and refuses an unknown user', async () => {
    const added = await cli(['users', 'add', 'frank', '--password-stdin'], `${TEST_PASSWORD}\n`);
    assert.equal(added.code, 0, added.stderr);
    const frank = (await server.users.list()).find((user) => user.name === 'frank')!;
    const factors = new SecondFactors(server.store);
    const { secret } = await factors.startTotpEnrolment(frank.id, 'frank');
    assert.ok(await factors.confirmTotpEnrolment(frank.id, totpCode(secret)));
    const reset = await cli(['users', 'mfa', 'reset', 'frank']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /removed every second factor and recovery code of user frank/);
    assert.deepEqual(await factors.status(frank.id), { totp: false, passkeys: [], recoveryCodesLeft: 0 });
    const [unknownUser, unknownAction] = await Promise.all([cli(['users', 'mfa', 'reset', 'nobody']), cli(['users', 'mfa', 'wipe', 'frank'])]);
    assert.equal(unknownUser.code, 2);
    assert.equal(unknownAction.code, 2);
  });

  it('registers a public client whose users sign in through the running server, until the user is disabled', async () => {
    const added = await cli(['clients', 'add', '--name', 'CLI App', '--redirect-uri', 'http://127.0.0.1/cb', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const registered = JSON.parse(added.stdout) as { client_id: string; client_secret?: string };
    assert.equal(registered.client_secret, undefined);

    const config = await discover(server, registered.client_id);
    const { tokens } = await codeFlow(config, server, { username: 'carol', password: TEST_PASSWORD }, {
      redirectUri: 'http://127.0.0.1:8123/cb', scope: 'notes:read', resource: NOTES_RESOURCE,
    });
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);

    assert.equal((await cli(['users', 'disable', 'carol'])).code, 0);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'http://127.0.0.1/cb', scope: 'notes:read', resource: NOTES_RESOURCE, state: 's',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    await assert.rejects(userAgentFor(server).authorize(url, { username: 'carol', password: TEST_PASSWORD }), /expected a page|no form|did not return/);
    assert.equal((await cli(['users', 'enable', 'carol'])).code, 0);
  });

  it('registers a confidential client, prints its secret once and stores only a hash', async () => {
    const added = await cli(['clients', 'add', '--name', 'Action', '--redirect-uri', 'https://chatgpt.com/aip/g-1/oauth/callback', '--confidential', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const registered = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
    assert.ok(registered.client_secret.length >= 43);
    const stored = await server.store.get<{ client_secret: string }>(modelKey('Client', registered.client_id));
    assert.ok(stored);
    assert.notEqual(stored.value.client_secret, registered.client_secret);
    assert.doesNotMatch(JSON.stringify(stored.value), new RegExp(registered.client_secret));

    const config = await discover(server, registered.client_id, client.ClientSecretPost(registered.client_secret));
    const { tokens } = await codeFlow(config, server, { username: 'carol', password: TEST_PASSWORD }, {
      redirectUri: 'https://chatgpt.com/aip/g-1/oauth/callback', scope: 'notes:read', resource: NOTES_RESOURCE,
    });
    assert.ok(tokens.access_token);
  });

  it('prints a confidential client\'s secret once beside the fields to paste into the GPT editor', async () => {
    const added = await cli(['clients', 'add', '--name', 'Action', '--redirect-uri', 'https://chatgpt.com/aip/g-2/oauth/callback', '--confidential']);
    assert.equal(added.code, 0, added.stderr);
    const secret = /^client_secret: (\S+)$/m.exec(added.stdout)?.[1];
    assert.ok(secret);
    assert.match(added.stdout, /GPT editor/);
    assert.match(added.stdout, new RegExp(`^  Client Secret: +${secret}$`, 'm'));
    assert.match(added.stdout, /^  Authorization URL: +http:\/\/\S+\/authorize$/m);
    assert.match(added.stdout, /^  Token URL: +http:\/\/\S+\/token$/m);
    assert.match(added.stdout, /^  Token Exchange Method: +Default \(POST request\)$/m);
  });

  it('adds a confidential client for a ChatGPT Action with --pkce optional: it warns, and the code is redeemed without PKCE', async () => {
    const redirectUri = 'https://chatgpt.com/aip/g-3/oauth/callback';
    const added = await cli(['clients', 'add', '--name', 'Action', '--redirect-uri', redirectUri, '--confidential', '--pkce', 'optional', '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /may redeem authorization codes without PKCE \("pkce": "optional"\); keep that for ChatGPT Actions/);
    const registered = JSON.parse(added.stdout) as { client_id: string; client_secret: string };

    // Start-up warns about it like a config-file client: the server starts again on the same data.
    const original = server;
    await original.stop();
    const captured = captureLog('info');
    const watched = await startTestServer({ PORT: new URL(original.url).port }, original.dirs, [], captured.log);
    await watched.stop();
    const restarted = await original.restart();
    server = { ...restarted, destroy: async () => { await restarted.stop(); await original.destroy(); } };
    const warning = captured.lines.find((line) => line.client === registered.client_id);
    assert.equal(warning?.level, 40);
    assert.match(String(warning?.msg), /may redeem authorization codes without PKCE/);

    const authorize = new URL(`${server.issuer}/authorize`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: registered.client_id, redirect_uri: redirectUri, state: 'gpt', scope: 'notes:read', resource: NOTES_RESOURCE })) {
      authorize.searchParams.set(name, value);
    }
    const callback = await userAgentFor(server).authorize(authorize, { username: 'carol', password: TEST_PASSWORD });
    const response = await fetch(`${server.url}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, client_id: registered.client_id, client_secret: registered.client_secret }),
    });
    assert.equal(response.status, 200, await response.clone().text());
  });

  it('refuses --pkce optional for a public client and a client registering itself with it', async () => {
    const [refused, nonsense, registration] = await Promise.all([
      cli(['clients', 'add', '--name', 'App', '--redirect-uri', 'http://127.0.0.1/cb', '--pkce', 'optional']),
      cli(['clients', 'add', '--name', 'App', '--redirect-uri', 'http://127.0.0.1/cb', '--confidential', '--pkce', 'maybe']),
      register(server, { client_name: 'Sneaky', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'client_secret_basic', portcullis_pkce: 'optional' }),
    ]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /only a confidential client \(--confidential\) may skip PKCE/);
    assert.equal(nonsense.code, 2);
    assert.match(nonsense.stderr, /--pkce: expected required or optional/);
    assert.equal(registration.status, 400);
    assert.equal(registration.body.error, 'invalid_client_metadata');
  });

  it('refuses a client with an unsafe redirect URI', async () => {
    const refused = await cli(['clients', 'add', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /only loopback hosts may/);
  });

  it('lists dynamically registered clients beside the operator\'s, marked as dynamic', async () => {
    const { body } = await register(server, { client_name: 'Cursor', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback'], token_endpoint_auth_method: 'none' });
    const [listed, table] = await Promise.all([cli(['clients', 'list', '--json']), cli(['clients', 'list'])]);
    const clients = JSON.parse(listed.stdout) as Array<{ client_id: string; registration: string }>;
    assert.equal(clients.find((entry) => entry.client_id === body.client_id)?.registration, 'dynamic');
    assert.ok(clients.some((entry) => entry.registration === 'operator'));
    assert.match(table.stdout, /^client_id\s+name\s+registration\s+redirect_uris/);
  });

  it('shows a client\'s last use and grants, ends all its grants with revoke-grants (its refresh token stops working), and records that as the OS user', async () => {
    const added = JSON.parse((await cli(['clients', 'add', '--name', 'Granted App', '--redirect-uri', 'http://127.0.0.1/cb', '--json'])).stdout) as { client_id: string };
    const config = await discover(server, added.client_id);
    const { tokens } = await codeFlow(config, server, { username: 'carol', password: TEST_PASSWORD }, {
      redirectUri: 'http://127.0.0.1:8124/cb', scope: 'notes:read', resource: NOTES_RESOURCE,
    });
    type Listed = { client_id: string; registration: string; last_used?: string; active_grants: number };
    const listed = async () => (JSON.parse((await cli(['clients', 'list', '--json'])).stdout) as Listed[]).find((entry) => entry.client_id === added.client_id)!;
    let before = await listed();
    // The last use is written beside the token response, not before it.
    for (let attempt = 0; attempt < 50 && !before.last_used; attempt += 1) before = await listed();
    assert.equal(before.active_grants, 1);
    assert.ok(before.last_used);
    assert.equal(before.registration, 'operator');

    const revoked = await cli(['clients', 'revoke-grants', added.client_id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /ended 1 grants/);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
    assert.equal((await listed()).active_grants, 0);

    const [unknown, noIdleDays, preview] = await Promise.all([
      cli(['clients', 'revoke-grants', 'no-such-client']),
      cli(['clients', 'clean-up', '--idle-days', '0']),
      cli(['clients', 'clean-up', '--idle-days', '30', '--dry-run']),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /there is no client no-such-client/);
    assert.equal(noIdleDays.code, 2);
    assert.match(preview.stdout, /^0 registered clients have not been used for 30 days/);

    let recorded: Array<Record<string, unknown>> = [];
    // The server drains the command's events from the Store into the audit log every 2 seconds.
    for (let attempt = 0; attempt < 200 && recorded.length === 0; attempt += 1) {
      recorded = (await allEvents(server.config.auditDir!, { type: 'admin.client.grants_revoked' })).map((record) => record.event);
      if (recorded.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual([recorded[0]?.client, recorded[0]?.grants, recorded[0]?.via, recorded[0]?.recorded_by], [added.client_id, 1, 'cli', 'cli']);
    assert.match(String(recorded[0]?.subject), /^cli:/);
  });

  it('makes an initial access token, printing it once, and refuses nonsense durations and counts', async () => {
    const nonsense = [['--uses', '0'], ['--uses', 'many'], ['--expires-in', 'soon'], ['--expires-in', '0h']];
    const [made, ...refusals] = await Promise.all([cli(['clients', 'token']), ...nonsense.map((args) => cli(['clients', 'token', ...args]))]);
    assert.equal(made!.code, 0, made!.stderr);
    assert.match(made!.stdout, /^initial access token: [\w-]{43}\nexpires: +\d{4}-/);
    for (const [index, args] of nonsense.entries()) {
      assert.equal(refusals[index]!.code, 2, args.join(' '));
      assert.match(refusals[index]!.stderr, new RegExp(`^portcullis: ${args[0]}: `));
    }
  });
});
