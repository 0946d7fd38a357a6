import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OTHER_RESOURCE, PUBLIC_CLIENT, SERVICE_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, authorizationRequest, discover, userAgentFor } from '../support/oauth-client.ts';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/redis.ts';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function clientCredentials(server: TestServer, secret: string = SERVICE_CLIENT.client_secret, from?: string, path = '/token'): Promise<Response> {
  return fetch(new URL(path, server.url), {
    method: 'POST',
    headers: {
      authorization: basic(SERVICE_CLIENT.client_id, secret), 'content-type': 'application/x-www-form-urlencoded',
      ...(from ? { 'x-forwarded-for': from } : {}),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE, scope: 'api:read' }),
  });
}

async function assertTooManyRequests(response: Response, errorShape: 'json' | 'html'): Promise<void> {
  assert.equal(response.status, 429);
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After is whole seconds (got ${response.headers.get('retry-after')})`);
  if (errorShape === 'json') {
    const body = await response.json() as { error: string; error_description: string };
    assert.equal(body.error, 'temporarily_unavailable');
    assert.match(body.error_description, /try again in \d+ seconds/);
  } else {
    assert.match(await response.text(), /Too many failed sign-ins\. Try again in \d+ seconds\./);
  }
}

describe('token endpoint rate limits', () => {
  it('answers 429 with Retry-After once an address has used its requests, and counts others apart behind a trusted proxy', async () => {
    const server = await startTestServer({ TOKEN_RATE_LIMIT_PER_ADDRESS: '3', TRUST_PROXY: 'true' });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await clientCredentials(server, SERVICE_CLIENT.client_secret, '203.0.113.7')).status, 200);
      await assertTooManyRequests(await clientCredentials(server, SERVICE_CLIENT.client_secret, '203.0.113.7'), 'json');
      assert.equal((await clientCredentials(server, SERVICE_CLIENT.client_secret, '198.51.100.9')).status, 200, 'another address has its own budget');
    } finally {
      await server.destroy();
    }
  });

  it('counts every spelling of the path that oidc-provider routes to the token endpoint (case, a trailing slash)', async () => {
    const server = await startTestServer({ TOKEN_RATE_LIMIT_PER_ADDRESS: '2' });
    try {
      assert.equal((await clientCredentials(server, undefined, undefined, '/TOKEN')).status, 200, 'oidc-provider answers /TOKEN');
      assert.equal((await clientCredentials(server, undefined, undefined, '/token/')).status, 200, 'and /token/');
      for (const path of ['/token', '/TOKEN', '/Token/']) await assertTooManyRequests(await clientCredentials(server, undefined, undefined, path), 'json');
    } finally {
      await server.destroy();
    }
  });

  it('shares each limit between instances on one Redis, counting on the store', async () => {
    const prefix = uniqueRedisPrefix('ratelimit');
    // Instances on one Redis share their cookie keys (the signing-key ring there is sealed with them).
    const shared = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, TOKEN_RATE_LIMIT_PER_ADDRESS: '3', COOKIE_KEYS: randomBytes(32).toString('base64url') };
    const first = await startTestServer(shared);
    const second = await startTestServer(shared);
    try {
      assert.equal((await clientCredentials(first)).status, 200);
      assert.equal((await clientCredentials(second)).status, 200);
      assert.equal((await clientCredentials(first)).status, 200);
      await assertTooManyRequests(await clientCredentials(second), 'json');
      await assertTooManyRequests(await clientCredentials(first), 'json');
    } finally {
      await first.destroy();
      await second.destroy();
      await deleteKeysUnder(prefix);
    }
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says a proxy is in front', async () => {
    const server = await startTestServer({ TOKEN_RATE_LIMIT_PER_ADDRESS: '2' });
    try {
      assert.equal((await clientCredentials(server, SERVICE_CLIENT.client_secret, '203.0.113.1')).status, 200);
      assert.equal((await clientCredentials(server, SERVICE_CLIENT.client_secret, '203.0.113.2')).status, 200);
      await assertTooManyRequests(await clientCredentials(server, SERVICE_CLIENT.client_secret, '203.0.113.3'), 'json');
    } finally {
      await server.destroy();
    }
  });

  it('limits tokens issued per client, and failed requests naming the client do not spend its budget', async () => {
    const server = await startTestServer({ TOKEN_RATE_LIMIT_PER_CLIENT: '2' });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await clientCredentials(server, 'a wrong secret')).status, 401);
      assert.equal((await clientCredentials(server)).status, 200);
      assert.equal((await clientCredentials(server)).status, 200);
      await assertTooManyRequests(await clientCredentials(server), 'json');
    } finally {
      await server.destroy();
    }
  });
});

describe('sign-in lockout', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer({ LOGIN_LOCKOUT_THRESHOLD: '2', LOGIN_LOCKOUT_BASE_SECONDS: '60', LOGIN_LOCKOUT_MAX_SECONDS: '90', TRUST_PROXY: '1' });
    user = await addUser(server, 'locked');
  });
  after(() => server.destroy());

  /** Opens the login page of a new authorization request, as a browser at `address`. */
  async function loginForm(address: string) {
    const agent = userAgentFor(server);
    const config = await discover(server, PUBLIC_CLIENT.client_id);
    const { url } = await authorizationRequest(config, { redirectUri: 'http://127.0.0.1/callback', scope: 'openid' });
    const { response } = await agent.follow(await agent.get(url));
    const page = await response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    return async (password: string) => fetch(new URL(action, server.issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: agent.jar.header(), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
      body: new URLSearchParams({ csrf, username: user.username, password }),
    });
  }

  it('pauses sign-in for a username from an address after repeated failures, even with the right password', async () => {
    const submit = await loginForm('203.0.113.50');
    assert.equal((await submit('wrong-1')).status, 401);
    await assertTooManyRequests(await submit('wrong-2'), 'html');
    await assertTooManyRequests(await submit(user.password), 'html');
  });

  it('keeps the real user signing in from their own address while another address is paused', async () => {
    const submit = await loginForm('198.51.100.60');
    assert.equal((await submit(user.password)).status, 303);
  });
});
