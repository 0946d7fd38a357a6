import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { allEvents } from '../../src/audit/index.ts';
import { accountTag, storedModelKey } from '../../src/authorization-server/adapter.ts';
import { NOTES_RESOURCE, OTHER_RESOURCE, PUBLIC_CLIENT, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';
import { runProject } from '../support/processes.ts';

/** Polls until `check` is true: the change reaches the server by its 5-second poll, not at a fixed time. */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 250) {
    if (await check()) return;
    await sleep(250);
  }
  assert.fail(`${what} did not happen within ${limitMs / 1000} s`);
}

describe('a running server follows its live settings', () => {
  let server: TestServer;
  const cli = (args: string[]) => runProject('src/cli/main.ts', args, { env: { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir } });
  const tokenRequest = () => fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE, scope: 'api:read' }),
  });
  const change = async (changes: Record<string, unknown>) => {
    const result = await server.settings.apply(changes, { expectedVersion: server.settings.version, actor: 'test' });
    assert.equal(result.ok, true, JSON.stringify(result));
  };

  before(async () => {
    server = await startTestServer();
  });
  after(() => server.destroy());

  it('issues tokens per client only up to a lowered limit, with the new access token lifetime', async () => {
    await change({ tokenRateLimitPerClient: 2, accessTokenTtlSeconds: 120 });
    const first = await tokenRequest();
    assert.equal(first.status, 200);
    assert.equal((await first.json() as { expires_in: number }).expires_in, 120);
    assert.equal((await tokenRequest()).status, 200);
    const refused = await tokenRequest();
    assert.equal(refused.status, 429);
    assert.equal((await refused.json() as { error: string }).error, 'temporarily_unavailable');
    await change({ tokenRateLimitPerClient: 600 });
    assert.equal((await tokenRequest()).status, 200, 'raising the limit lets the client in again at once');
  });

  it('gives new refresh tokens and sign-in sessions the changed lifetimes', async () => {
    await change({ refreshTokenTtlSeconds: 7200, sessionIdleSeconds: 600 });
    const user = await addUser(server);
    const { tokens } = await codeFlow(await discover(server, PUBLIC_CLIENT.client_id), server, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:read', resource: NOTES_RESOURCE });
    const now = Math.floor(Date.now() / 1000);
    const refresh = await server.store.get(storedModelKey('RefreshToken', tokens.refresh_token!));
    assert.ok(refresh?.expiresAt && refresh.expiresAt - now > 7000 && refresh.expiresAt - now <= 7201, `refresh token lives ${refresh?.expiresAt! - now} s`);
    const session = (await server.store.findByTag(accountTag(user.id))).find((record) => record.key.startsWith('oidc:Session:'));
    assert.ok(session?.expiresAt && session.expiresAt - now > 500 && session.expiresAt - now <= 601, `session lives ${session?.expiresAt! - now} s`);
    await change({ refreshTokenTtlSeconds: 14 * 24 * 3600, sessionIdleSeconds: 3600 });
  });

  it('turns registration and client metadata documents off and on, in discovery and at /reg', async () => {
    const discovery = async () => await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    const register = () => fetch(`${server.url}/reg`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Live', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
    });
    await change({ registration: 'off', cimd: 'off' });
    const off = await discovery();
    assert.equal(off.registration_endpoint, undefined);
    assert.equal(off.client_id_metadata_document_supported, undefined);
    const refused = await register();
    assert.equal(refused.status, 404);
    assert.equal((await refused.json() as { error: string }).error, 'invalid_request');
    await change({ registration: 'open', cimd: 'on' });
    const on = await discovery();
    assert.equal(on.registration_endpoint, `${server.issuer}/reg`);
    assert.equal(on.client_id_metadata_document_supported, true);
    assert.equal((await register()).status, 201);
  });

  it('takes a change from the command line within seconds and records it in the audit log through the server', async () => {
    const set = await cli(['settings', 'set', 'BREAK_GLASS_PER_HOUR=3', 'loginLockoutThreshold=4']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /breakGlassPerHour: 5 -> 3/);
    await eventually(async () => server.settings.current().breakGlassPerHour === 3, 'the server applying the CLI change');
    assert.equal(server.settings.current().loginLockoutThreshold, 4);
    await eventually(async () => (await allEvents(server.config.auditDir)).some((record) => record.event.type === 'admin.settings.changed' && record.event.actor !== 'test'), 'the audit event');
    const recorded = (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.type === 'admin.settings.changed');
    assert.deepEqual(recorded.at(-1)!.changes, [{ name: 'loginLockoutThreshold', before: 5, after: 4 }, { name: 'breakGlassPerHour', before: 5, after: 3 }]);
    assert.match(String(recorded.at(-1)!.subject), /^cli:/);
    assert.equal(recorded.at(-1)!.via, 'cli');

    const listed = await cli(['settings', 'list']);
    assert.match(listed.stdout, /breakGlassPerHour\s+3\s+changed by \S+/);
    assert.match(listed.stdout, /dataDir|tokenRateLimitPerClient/);
  });

  it('refuses a bad value or a stale version from the command line with exit code 2, naming the setting', async () => {
    const bad = await cli(['settings', 'set', 'cimdMaxBytes=10']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /cimdMaxBytes: .*allowed: a whole number from 512 to 1048576.*nothing applied/);
    const stale = await cli(['settings', 'set', 'breakGlassPerHour=4', '--expect-version', '0']);
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /changed meanwhile/);
    assert.equal(server.settings.current().breakGlassPerHour, 3);
  });
});
