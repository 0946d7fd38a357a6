import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOTES_RESOURCE, PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, client, codeFlow, discover, userAgentFor } from '../support/oauth-client.ts';
import { captureLog } from '../support/captured-log.ts';
import { startOwnRedis, startProxy, type CuttableProxy, type OwnRedis } from '../support/redis-server.ts';

const REDIRECT_URI = 'http://127.0.0.1/callback';

/** Readiness as the orchestrator sees it, polled until it matches (the Redis client reconnects with backoff). */
async function waitForReadiness(server: TestServer, ready: boolean): Promise<void> {
  for (;;) {
    const response = await fetch(`${server.url}/readyz`);
    await response.body?.cancel();
    if ((response.status === 200) === ready) return;
    await sleep(50);
  }
}

describe('Redis outage', () => {
  let redis: OwnRedis;
  let proxy: CuttableProxy;
  let server: TestServer;
  const captured = captureLog('info');

  before(async () => {
    redis = await startOwnRedis();
    proxy = await startProxy(redis.port);
    server = await startTestServer({ REDIS_URL: proxy.url, REDIS_PREFIX: 'outage:' }, undefined, [], captured.log);
  });

  after(async () => {
    await server?.destroy();
    await proxy?.close();
    await redis?.stop();
  });

  it('answers 503 while Redis is unreachable, reports not ready, and resumes without a restart and without losing grants', async () => {
    const user = await addUser(server);
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    const agent = userAgentFor(server);
    const started = await agent.get((await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE })).url);
    const interactionPage = new URL(started.headers.get('location')!, server.issuer);
    const openPage = () => fetch(interactionPage, { headers: { accept: 'text/html', cookie: agent.jar.header() } });

    proxy.cut();

    // openid-client reports a 5xx as an unexpected status and hands over the response.
    const refusal = await client.refreshTokenGrant(config, tokens.refresh_token!).then(() => assert.fail('refreshed'), (error: { cause?: unknown }) => error.cause);
    assert.ok(refusal instanceof Response);
    assert.equal(refusal.status, 503);
    assert.equal(refusal.headers.get('retry-after'), '5');
    assert.equal((await refusal.json() as { error: string }).error, 'temporarily_unavailable');
    const page = await openPage();
    assert.equal(page.status, 503);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /temporarily_unavailable/);
    const authorization = await agent.get((await authorizationRequest(config, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE })).url);
    const toClient = new URL(authorization.headers.get('location') ?? 'about:blank');
    assert.equal(toClient.searchParams.get('error'), 'temporarily_unavailable', 'the authorization endpoint tells the client (RFC 6749 4.1.2.1)');
    const registration = await fetch(`${server.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }) });
    assert.equal(registration.status, 503);
    assert.equal((await registration.json() as { error: string }).error, 'temporarily_unavailable');
    const readiness = await fetch(`${server.url}/readyz`);
    assert.equal(readiness.status, 503);
    assert.equal((await readiness.json() as { status_detail: string }).status_detail, 'not_ready');

    proxy.restore();
    await waitForReadiness(server, true);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token, 'the grant made before the outage still works');
    assert.equal((await openPage()).status, 200, 'the sign-in started before the outage continues');

    const messages = captured.lines.map((line) => line.msg);
    assert.equal(messages.filter((msg) => msg === 'lost the connection to Redis; answering 503 until it is back').length, 1, 'one warning per outage');
    assert.ok(messages.includes('connected to Redis again'));
    assert.doesNotMatch(JSON.stringify(captured.lines), new RegExp(tokens.refresh_token!), 'no token in the log');
  });
});
