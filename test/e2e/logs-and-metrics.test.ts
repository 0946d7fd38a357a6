import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOTES_RESOURCE, OTHER_RESOURCE, PUBLIC_CLIENT, SERVICE_CLIENT, TEST_PASSWORD, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { captureLog, type CapturedLog } from '../support/captured-log.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

async function serviceToken(server: TestServer): Promise<Response> {
  return fetch(new URL('/token', server.url), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE, scope: 'api:read' }),
  });
}

/** Parses Prometheus text exposition: every sample line, by metric name with its labels. */
function parseExposition(text: string): Array<{ name: string; labels: string; value: number }> {
  return text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?(?:[0-9.e+-]+|Inf|NaN))$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    return { name: match[1]!, labels: match[2] ?? '', value: Number(match[3]) };
  });
}

async function scrape(url: string, token = METRICS_TOKEN) {
  const response = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

const issuedTo = (samples: ReturnType<typeof parseExposition>, clientId: string) =>
  samples.find((sample) => sample.name === 'portcullis_tokens_issued_total' && sample.labels.includes(`client="${clientId}"`))?.value ?? 0;

describe('logs', () => {
  let server: TestServer;
  let captured: CapturedLog;

  before(async () => {
    captured = captureLog('debug');
    server = await startTestServer({}, undefined, [], captured.log);
  });
  after(() => server.destroy());

  it('never writes a token, code, password or client secret, through a whole sign-in, refresh and service grant', async () => {
    const user = await addUser(server, 'logged');
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { tokens, callback } = await codeFlow(config, server, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'openid offline_access notes:read', resource: NOTES_RESOURCE, extra: { prompt: 'consent' } });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: NOTES_RESOURCE });
    const service = await (await serviceToken(server)).json() as { access_token: string };
    const secrets = [
      tokens.access_token, tokens.refresh_token!, tokens.id_token!, refreshed.access_token, refreshed.refresh_token!, service.access_token,
      callback.searchParams.get('code')!, user.password, TEST_PASSWORD, SERVICE_CLIENT.client_secret,
    ];
    const written = JSON.stringify(captured.lines);
    for (const secret of secrets) assert.ok(!written.includes(secret), 'a credential reached the log');
    assert.ok(!written.includes('code='), 'no query string is logged');

    const issued = captured.lines.filter((line) => line.event === 'token_issued');
    assert.deepEqual(issued.map((line) => line.grantType), ['authorization_code', 'refresh_token', 'client_credentials']);
    assert.equal(issued[0]!.subject, user.id);
    assert.equal(issued[0]!.client, PUBLIC_CLIENT.client_id);
    const signIn = captured.lines.find((line) => line.event === 'login_succeeded');
    assert.equal(signIn?.subject, user.id);
    const tokenRequest = captured.lines.find((line) => line.msg === 'request' && line.path === '/token' && line.client === SERVICE_CLIENT.client_id);
    assert.ok(tokenRequest, 'the request line names the client');
    assert.equal(tokenRequest.status, 200);
  });

  it('honours a well-formed X-Request-Id, replaces a malformed one, and logs the request under it', async () => {
    const given = await fetch(new URL('/healthz', server.url), { headers: { 'x-request-id': 'edge-7f3a.42' } });
    assert.equal(given.headers.get('x-request-id'), 'edge-7f3a.42');
    assert.ok(captured.lines.some((line) => line.msg === 'request' && line.reqId === 'edge-7f3a.42' && line.path === '/healthz' && line.status === 200));
    const malformed = await fetch(new URL('/healthz', server.url), { headers: { 'x-request-id': 'a b "c"' } });
    assert.match(malformed.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('/metrics', () => {
  it('needs the metrics token, parses as Prometheus text, and moves when a token is issued', async () => {
    const server = await startTestServer({ METRICS_TOKEN });
    try {
      const anonymous = await fetch(new URL('/metrics', server.url));
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('content-type'), 'application/problem+json');
      assert.equal((await fetch(new URL('/metrics', server.url), { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);

      const before = issuedTo(await scrape(server.url), SERVICE_CLIENT.client_id);
      assert.equal((await serviceToken(server)).status, 200);
      const samples = await scrape(server.url);
      assert.equal(issuedTo(samples, SERVICE_CLIENT.client_id), before + 1);
      const names = new Set(samples.map((sample) => sample.name));
      for (const name of ['portcullis_http_requests_total', 'portcullis_http_request_duration_seconds_bucket', 'portcullis_store_operation_duration_seconds_count', 'portcullis_audit_append_duration_seconds_count']) {
        assert.ok(names.has(name), `${name} is exported`);
      }
      assert.ok(samples.some((sample) => sample.name === 'portcullis_http_requests_total' && sample.labels.includes('route="/token"') && sample.labels.includes('status="200"')));
    } finally {
      await server.destroy();
    }
  });

  it('counts rate-limit refusals by limit', async () => {
    const server = await startTestServer({ METRICS_TOKEN, TOKEN_RATE_LIMIT_PER_ADDRESS: '1' });
    try {
      await serviceToken(server);
      assert.equal((await serviceToken(server)).status, 429);
      const refused = (await scrape(server.url)).find((sample) => sample.name === 'portcullis_rate_limit_rejections_total' && sample.labels.includes('limit="token-address"'));
      assert.equal(refused?.value, 1);
    } finally {
      await server.destroy();
    }
  });

  it('can live on a separate admin port instead, with an address allow-list', async () => {
    const server = await startTestServer({ METRICS_PORT: '0', ADMIN_ALLOWLIST: '127.0.0.0/8, ::1' });
    const walledOff = await startTestServer({ METRICS_PORT: '0', ADMIN_ALLOWLIST: '10.0.0.0/8' });
    try {
      assert.equal((await fetch(new URL('/metrics', server.url))).status, 404, 'not on the public port');
      assert.ok(server.admin);
      assert.ok((await scrape(server.admin.url, '')).length > 0);
      assert.equal((await fetch(new URL('/metrics', walledOff.admin!.url))).status, 403);
    } finally {
      await server.destroy();
      await walledOff.destroy();
    }
  });
});
