import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listClients } from '../../src/authorization-server/index.ts';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addUser, client, codeFlow, userAgentFor } from '../support/oauth-client.ts';
import { runProject } from '../support/processes.ts';
import { authorizeUrl, register, signInByHand } from '../support/registration.ts';

const PUBLIC_METADATA = {
  client_name: 'Claude Code',
  redirect_uris: ['http://localhost:53682/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

// What Claude sends: a confidential web client that wants a secret in the POST body.
const CLAUDE_METADATA = {
  client_name: 'Claude',
  redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  scope: 'notes:read notes:write',
};

const UNSAFE_REDIRECT_URIS = [
  'http://evil.example/callback',
  'http://10.0.0.5/callback',
  'javascript:alert(document.cookie)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'vbscript:msgbox(1)',
  'https://app.example/callback#fragment',
  'not a uri',
];

describe('dynamic client registration (RFC 7591) at /reg', () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof addUser>>;
  before(async () => {
    server = await startTestServer();
    user = await addUser(server);
  });
  after(() => server.destroy());

  it('is advertised in discovery, with client ID metadata documents', async () => {
    const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
    assert.match(String(metadata.registration_endpoint), /\/reg$/);
    assert.equal(metadata.client_id_metadata_document_supported, true);
  });

  it('registers a public client that then signs a user in with PKCE', async () => {
    const { status, body, headers } = await register(server, PUBLIC_METADATA);
    assert.equal(status, 201);
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(body.token_endpoint_auth_method, 'none');
    assert.equal(body.client_secret, undefined, 'a public client gets no secret');
    assert.equal(body.portcullis_registration, 'dynamic');

    const { callback, token } = await signInByHand(server, user, { clientId: body.client_id!, redirectUri: 'http://localhost:61234/callback' });
    assert.equal(callback.searchParams.get('iss'), server.issuer);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.ok(token.body.access_token);
  });

  it('still requires PKCE from a dynamically registered client', async () => {
    const { body } = await register(server, PUBLIC_METADATA);
    const response = await userAgentFor(server).get(authorizeUrl(server, {
      client_id: body.client_id!, redirect_uri: PUBLIC_METADATA.redirect_uris[0]!, scope: 'notes:read', code_challenge: '', state: 's',
    }));
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description') ?? '', /code_challenge/);
  });

  it('gives Claude the client_secret_post it asks for, and accepts the secret in the body or the Basic header', async () => {
    const { status, body } = await register(server, CLAUDE_METADATA);
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.token_endpoint_auth_method, 'client_secret_post');
    assert.ok((body.client_secret?.length ?? 0) >= 43, 'a long random secret');
    assert.equal(body.scope, undefined, 'resource scopes are granted per resource, not kept as client scope');

    const config = await client.discovery(new URL(server.issuer), body.client_id!, undefined, client.ClientSecretPost(body.client_secret!), { execute: [client.allowInsecureRequests] });
    const viaPost = await codeFlow(config, server, user, { redirectUri: CLAUDE_METADATA.redirect_uris[0]!, scope: 'notes:read', resource: NOTES_RESOURCE });
    assert.ok(viaPost.tokens.access_token);
    const basic = await client.discovery(new URL(server.issuer), body.client_id!, undefined, client.ClientSecretBasic(body.client_secret!), { execute: [client.allowInsecureRequests] });
    const viaBasic = await codeFlow(basic, server, user, { redirectUri: CLAUDE_METADATA.redirect_uris[0]!, scope: 'notes:read', resource: NOTES_RESOURCE });
    assert.ok(viaBasic.tokens.access_token);
  });

  it('replaces an authentication method it does not offer instead of refusing the client', async () => {
    const { status, body } = await register(server, { ...CLAUDE_METADATA, token_endpoint_auth_method: 'client_secret_jwt' });
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(body.client_secret);
  });

  it('makes a client with a private-use scheme a native client', async () => {
    const { status, body } = await register(server, { ...PUBLIC_METADATA, redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback'] });
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.application_type, 'native');
  });

  for (const [applicationType, allowed, refused] of [
    ['native', ['http://127.0.0.1:5000/cb', 'myapp://oauth/callback'], 'https://app.example.test/cb'],
    ['web', ['https://app.example.test/cb'], 'http://127.0.0.1:5000/cb'],
  ] as const) {
    it(`honours application_type ${applicationType}: accepts ${allowed.join(' and ')}, refuses ${refused}`, async () => {
      const accepted = await register(server, { ...PUBLIC_METADATA, application_type: applicationType, redirect_uris: allowed });
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      assert.equal(accepted.body.application_type, applicationType);
      const before = (await listClients(server.store)).length;
      const { status, body } = await register(server, { ...PUBLIC_METADATA, application_type: applicationType, redirect_uris: [refused] });
      assert.equal(status, 400);
      assert.equal(body.error, 'invalid_redirect_uri');
      assert.match(body.error_description ?? '', new RegExp(`a ${applicationType} application must use`));
      assert.equal((await listClients(server.store)).length, before);
    });
  }

  for (const uri of UNSAFE_REDIRECT_URIS) {
    it(`refuses the redirect URI ${uri} with invalid_redirect_uri and stores nothing`, async () => {
      const before = (await listClients(server.store)).length;
      const { status, body } = await register(server, { ...PUBLIC_METADATA, redirect_uris: ['http://127.0.0.1/ok', uri] });
      assert.equal(status, 400);
      assert.equal(body.error, 'invalid_redirect_uri');
      assert.match(body.error_description ?? '', /^redirect_uris/);
      assert.equal((await listClients(server.store)).length, before);
    });
  }

  it('refuses a registration without redirect URIs', async () => {
    const { status, body } = await register(server, { ...PUBLIC_METADATA, redirect_uris: [] });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_redirect_uri');
  });

  it('keeps the client_credentials grant for operator-registered clients', async () => {
    const { status, body } = await register(server, { client_name: 'Bot', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description ?? '', /client_credentials/);
  });

  it('marks every registration as dynamic, whatever the registrant claims', async () => {
    const { body } = await register(server, { ...PUBLIC_METADATA, portcullis_registration: 'operator' });
    assert.equal(body.portcullis_registration, 'dynamic');
    const listed = (await listClients(server.store)).find((entry) => entry.client_id === body.client_id);
    assert.equal(listed?.registration, 'dynamic', 'portcullis clients list shows it as dynamic');
  });

  it('answers a body that is not a JSON object with invalid_request', async () => {
    const response = await fetch(`${server.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '["not", "an", "object"]' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });
});

describe('registered clients across a restart', () => {
  it('keeps a dynamically registered client, which can still sign users in', async () => {
    const first = await startTestServer();
    try {
      const user = await addUser(first);
      const { body } = await register(first, PUBLIC_METADATA);
      await first.stop();
      const second = await first.restart();
      try {
        const { token } = await signInByHand(second, user, { clientId: body.client_id!, redirectUri: PUBLIC_METADATA.redirect_uris[0]! });
        assert.equal(token.status, 200, JSON.stringify(token.body));
      } finally {
        await second.stop();
      }
    } finally {
      await first.destroy();
    }
  });
});

describe('registration rate limit', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer({ REGISTRATION_RATE_LIMIT: '3', REGISTRATION_RATE_LIMIT_WINDOW_SECONDS: '600' }); });
  after(() => server.destroy());

  it('answers 429 with Retry-After and an OAuth error once an address has registered too often', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) assert.equal((await register(server, PUBLIC_METADATA)).status, 201, `attempt ${attempt}`);
    const limited = await register(server, PUBLIC_METADATA);
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    assert.equal(limited.body.error, 'temporarily_unavailable');
    assert.match(limited.body.error_description ?? '', /too many client registrations/);
  });

  it('counts each address on its own', async () => {
    // All of 127.0.0.0/8 is loopback on Linux: 127.0.0.2 is a second client address.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const body = JSON.stringify(PUBLIC_METADATA);
      const req = request(`${server.url}/reg`, {
        method: 'POST', localAddress: '127.0.0.2', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => res.resume().on('end', () => resolve(res.statusCode)));
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 201);
    assert.equal((await register(server, PUBLIC_METADATA)).status, 429, '127.0.0.1 is still limited');
  });
});

describe('registration modes', () => {
  it('REGISTRATION=token: needs an initial access token made with `portcullis clients token`, used as often as allowed', async () => {
    const server = await startTestServer({ REGISTRATION: 'token' });
    try {
      const missing = await register(server, PUBLIC_METADATA);
      assert.equal(missing.status, 401);
      assert.equal(missing.body.error, 'invalid_token');
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.equal((await register(server, PUBLIC_METADATA, { token: 'made-up' })).status, 401);

      const made = await runProject('src/cli/main.ts', ['clients', 'token', '--uses', '2', '--expires-in', '1h', '--json'], {
        env: { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir },
      });
      assert.equal(made.code, 0, made.stderr);
      const { initial_access_token: token } = JSON.parse(made.stdout) as { initial_access_token: string };

      const first = await register(server, PUBLIC_METADATA, { token });
      assert.equal(first.status, 201);
      // Every file under DATA_DIR: the store and the audit log.
      const files = (await readdir(server.dirs.dataDir, { withFileTypes: true, recursive: true })).filter((entry) => entry.isFile());
      const stored = Buffer.concat(await Promise.all(files.map((file) => readFile(join(file.parentPath, file.name)))));
      assert.ok(stored.includes(first.body.client_id!), 'the raw store files were read');
      assert.ok(!stored.includes(token), 'the store keeps only the token\'s hash');
      const service = await register(server, { client_name: 'Bot', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] }, { token });
      assert.equal(service.status, 201, 'a trusted registration may use client_credentials');
      const spent = await register(server, PUBLIC_METADATA, { token });
      assert.equal(spent.status, 401);
      assert.match(spent.body.error_description ?? '', /used up/);
    } finally {
      await server.destroy();
    }
  });

  it('REGISTRATION=off and CIMD=off: nothing advertised, and /reg registers nothing, however the path is spelt', async () => {
    const server = await startTestServer({ REGISTRATION: 'off', CIMD: 'off' });
    try {
      const metadata = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
      assert.equal(metadata.registration_endpoint, undefined);
      assert.equal(metadata.client_id_metadata_document_supported, undefined);
      // oidc-provider's router ignores case and a trailing slash: the gate must too.
      for (const path of ['/reg', '/reg/', '/REG']) {
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PUBLIC_METADATA) });
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
      assert.deepEqual((await listClients(server.store)).map((entry) => entry.registration), []);
    } finally {
      await server.destroy();
    }
  });
});
