import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { ClientService } from '../../src/admin/clients/index.ts';
import { DISABLED_AUDIT } from '../../src/audit/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { captureLog, type CapturedLog } from '../support/captured-log.ts';
import { addUser, client, codeFlow } from '../support/oauth-client.ts';
import { authorizeUrl, pkce, signInByHand } from '../support/registration.ts';
import { makeTestCertificates, startHttpsFixture, type HttpsFixture, type TestCertificates } from '../support/tls.ts';

const CHATGPT_REDIRECT = 'https://chatgpt.com/connector_platform_oauth_redirect';

const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
  .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');

/**
 * The authorization endpoint cannot redirect for a client it could not load, so it shows our
 * error page; this reads the OAuth error and its description off that page.
 */
async function errorPageFor(server: TestServer, clientId: string): Promise<{ status: number; error: string; error_description: string }> {
  const response = await fetch(authorizeUrl(server, { client_id: clientId, redirect_uri: CHATGPT_REDIRECT, scope: 'notes:read', code_challenge: pkce().challenge }), { redirect: 'manual' });
  const page = await response.text();
  const match = /<p class="error"><code>([^<]*)<\/code><\/p>\s*<p>([^<]*)<\/p>/.exec(page);
  assert.ok(match, `an error page, got ${response.status}: ${page.slice(0, 200)}`);
  return { status: response.status, error: unescape(match[1]!), error_description: unescape(match[2]!) };
}

describe('client ID metadata documents', () => {
  let certificates: TestCertificates;
  let fixture: HttpsFixture;
  let server: TestServer;
  let captured: CapturedLog;
  let user: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    certificates = makeTestCertificates();
    fixture = await startHttpsFixture(certificates);
    captured = captureLog('info');
    server = await startTestServer({ OUTBOUND_ALLOW_LOOPBACK: 'true', OUTBOUND_CA_FILE: certificates.caFile }, undefined, [], captured.log);
    user = await addUser(server);
  });
  after(async () => {
    await server?.destroy();
    await fixture?.close();
    certificates?.remove();
  });

  /** Serves a metadata document at `path` whose client_id is its own URL, plus `fields`. */
  function publish(path: string, fields: Record<string, unknown>, headers: Record<string, string> = {}): string {
    const clientId = `${fixture.origin}${path}`;
    fixture.json(path, {
      client_id: clientId, client_name: 'Doc client', redirect_uris: [CHATGPT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...fields,
    }, headers);
    return clientId;
  }

  const fetchesOf = (path: string) => fixture.requests.filter((request) => request === `GET ${path}`).length;

  /** The error page the authorization endpoint shows for a request naming `clientId` (it cannot redirect to an unknown client). */
  async function authorizationError(clientId: string) {
    return errorPageFor(server, clientId);
  }

  it('signs in a ChatGPT-style client that authenticates with private_key_jwt against its jwks_uri', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    fixture.json('/chatgpt/jwks.json', { keys: [{ ...await exportJWK(publicKey), kid: 'chatgpt-1', alg: 'ES256', use: 'sig' }] });
    const clientId = publish('/chatgpt/client.json', {
      client_name: 'ChatGPT', token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${fixture.origin}/chatgpt/jwks.json`,
    });
    const config = await client.discovery(new URL(server.issuer), clientId, undefined, client.PrivateKeyJwt({ key: privateKey, kid: 'chatgpt-1' }), {
      execute: [client.allowInsecureRequests],
    });
    const { tokens, callback } = await codeFlow(config, server, user, { redirectUri: CHATGPT_REDIRECT, scope: 'notes:read', resource: NOTES_RESOURCE });
    assert.equal(callback.searchParams.get('iss'), server.issuer);
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.client_id, clientId);
    assert.equal(claims.aud, NOTES_RESOURCE);
    assert.equal(fetchesOf('/chatgpt/jwks.json'), 1, 'the keys came from jwks_uri, through the outbound fetch');

    // Nothing stores such a client; the console and `clients list` know it from its last use (written beside the token response).
    const clients = new ClientService({ store: server.store, staticClients: server.config.clients, audit: DISABLED_AUDIT, log: silentLogger() });
    let listed = (await clients.list()).find((entry) => entry.clientId === clientId);
    for (let attempt = 0; attempt < 200 && !listed; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      listed = (await clients.list()).find((entry) => entry.clientId === clientId);
    }
    assert.deepEqual([listed?.kind, listed?.name, listed?.activeGrants], ['metadata-document', 'ChatGPT', 1]);
  });

  it('caches a document for as long as its Cache-Control allows', async () => {
    const clientId = publish('/cached/client.json', { redirect_uris: ['http://127.0.0.1/callback'] }, { 'cache-control': 'public, max-age=600' });
    const first = await signInByHand(server, user, { clientId, redirectUri: 'http://127.0.0.1:41000/callback' });
    assert.equal(first.token.status, 200, JSON.stringify(first.token.body));
    const second = await signInByHand(server, user, { clientId, redirectUri: 'http://127.0.0.1:41001/callback' });
    assert.equal(second.token.status, 200);
    assert.equal(fetchesOf('/cached/client.json'), 1);
  });

  it('follows the live settings: a lower size limit, a host allowlist or CIMD off refuse documents, cached ones too', async () => {
    const change = async (changes: Record<string, unknown>) => {
      assert.equal((await server.settings.apply(changes, { expectedVersion: server.settings.version, actor: 'test' })).ok, true);
    };
    const cached = `${fixture.origin}/cached/client.json`;
    const clientId = publish('/live/client.json', { client_uri: `https://chatgpt.com/${'x'.repeat(600)}` });
    const loads = async (id: string) => (await fetch(authorizeUrl(server, { client_id: id, redirect_uri: CHATGPT_REDIRECT, scope: 'notes:read', code_challenge: pkce().challenge }), { redirect: 'manual' })).status === 303;
    try {
      await change({ cimdMaxBytes: 512 });
      assert.match((await authorizationError(clientId)).error_description, /larger than CIMD_MAX_BYTES \(512 bytes\)/);
      await change({ cimdMaxBytes: 5120, cimdAllowedHosts: 'chatgpt.com' });
      assert.match((await authorizationError(clientId)).error_description, /not in CIMD_ALLOWED_HOSTS/);
      assert.match((await authorizationError(cached)).error_description, /not in CIMD_ALLOWED_HOSTS/, 'a cached document is refused too');
      await change({ cimd: 'off', cimdAllowedHosts: '' });
      assert.match((await authorizationError(clientId)).error_description, /CIMD is off/);
      await change({ cimd: 'on' });
      assert.ok(await loads(clientId), 'the document is accepted again');
    } finally {
      await change({ cimd: 'on', cimdAllowedHosts: '', cimdMaxBytes: 5120 });
    }
  });

  it('honours application_type in a document: native signs in on loopback (beside its own scheme), web on https', async () => {
    const native = publish('/native/client.json', { application_type: 'native', redirect_uris: ['http://127.0.0.1/callback', 'myapp://oauth/callback'] });
    const nativeSignIn = await signInByHand(server, user, { clientId: native, redirectUri: 'http://127.0.0.1:41002/callback' });
    assert.equal(nativeSignIn.token.status, 200, JSON.stringify(nativeSignIn.token.body));
    const web = publish('/web/client.json', { application_type: 'web' });
    const webSignIn = await signInByHand(server, user, { clientId: web, redirectUri: CHATGPT_REDIRECT });
    assert.equal(webSignIn.token.status, 200, JSON.stringify(webSignIn.token.body));
  });

  const REFUSED: Array<{ case: string; path: string; serve: () => string; error: string; description: RegExp }> = [
    { case: 'a document naming another client_id', path: '/mismatch.json', error: 'invalid_client_metadata', description: /client_id does not match/,
      serve: () => { fixture.json('/mismatch.json', { client_id: 'https://elsewhere.example/client.json', client_name: 'x', redirect_uris: [CHATGPT_REDIRECT] }); return `${fixture.origin}/mismatch.json`; } },
    { case: 'a shared-secret authentication method', path: '/secret.json', error: 'invalid_client_metadata', description: /shared-secret/,
      serve: () => publish('/secret.json', { token_endpoint_auth_method: 'client_secret_post' }) },
    { case: 'no client_name', path: '/nameless.json', error: 'invalid_client_metadata', description: /client_name/,
      serve: () => publish('/nameless.json', { client_name: undefined }) },
    { case: 'an http redirect URI off loopback', path: '/http-redirect.json', error: 'invalid_redirect_uri', description: /^redirect_uris: http:\/\/evil\.example\/cb uses http/,
      serve: () => publish('/http-redirect.json', { redirect_uris: [CHATGPT_REDIRECT, 'http://evil.example/cb'] }) },
    { case: 'application_type native with an https redirect URI', path: '/native-https.json', error: 'invalid_redirect_uri', description: /native application must use/,
      serve: () => publish('/native-https.json', { application_type: 'native', redirect_uris: ['http://127.0.0.1/callback', CHATGPT_REDIRECT] }) },
    { case: 'application_type web with a loopback http redirect URI', path: '/web-loopback.json', error: 'invalid_redirect_uri', description: /web application must use/,
      serve: () => publish('/web-loopback.json', { application_type: 'web', redirect_uris: [CHATGPT_REDIRECT, 'http://127.0.0.1/callback'] }) },
    { case: 'the client_credentials grant', path: '/service.json', error: 'invalid_client_metadata', description: /client_credentials/,
      serve: () => publish('/service.json', { grant_types: ['authorization_code', 'client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${fixture.origin}/none` }) },
    { case: 'a document over CIMD_MAX_BYTES', path: '/large.json', error: 'invalid_client', description: /larger than CIMD_MAX_BYTES/,
      serve: () => publish('/large.json', { client_uri: `https://chatgpt.com/${'x'.repeat(6000)}` }) },
    { case: 'a missing document', path: '/missing.json', error: 'invalid_client', description: /unexpected response status 404/,
      serve: () => `${fixture.origin}/missing.json` },
    { case: 'a redirect', path: '/moved.json', error: 'invalid_client', description: /redirects are not followed/,
      serve: () => { fixture.route('/moved.json', (_req, res) => res.writeHead(301, { location: '/cached/client.json' }).end()); return `${fixture.origin}/moved.json`; } },
    { case: 'a document that is not JSON', path: '/page.json', error: 'invalid_client', description: /not JSON/,
      serve: () => { fixture.route('/page.json', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>')); return `${fixture.origin}/page.json`; } },
  ];

  for (const refused of REFUSED) {
    it(`refuses ${refused.case} with ${refused.error}, saying why, and logs it`, async () => {
      const clientId = refused.serve();
      const answer = await authorizationError(clientId);
      assert.equal(answer.status, 400);
      assert.equal(answer.error, refused.error);
      assert.match(answer.error_description, refused.description);
      const logged = captured.lines.find((line) => line.msg === 'client metadata document refused' && line.client_id === clientId);
      assert.ok(logged, 'the refusal is logged with the client_id');
      assert.equal(logged.level, 40);
    });
  }

  for (const [what, clientId, reason] of [
    ['a private address', 'https://10.0.0.1/client.json', /not a public address: private/],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/client.json', /not a public address: link-local/],
    ['an internal host name', 'https://metadata.google.internal/computeMetadata/client.json', /internal host name/],
  ] as const) {
    it(`never fetches a document from ${what}, even with the test-only loopback switch on`, async () => {
      const answer = await authorizationError(clientId);
      assert.equal(answer.error, 'invalid_client');
      assert.match(answer.error_description, reason);
      assert.ok(captured.lines.some((line) => line.msg === 'outbound request refused' && (line.outbound as { url: string }).url === clientId));
    });
  }

  it('refuses a private_key_jwt client whose jwks_uri points inside the network', async () => {
    const clientId = publish('/inside-jwks.json', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://192.168.0.10/jwks.json', redirect_uris: ['http://127.0.0.1/callback'] });
    const { privateKey } = await generateKeyPair('ES256');
    const config = await client.discovery(new URL(server.issuer), clientId, undefined, client.PrivateKeyJwt({ key: privateKey, kid: 'k' }), {
      execute: [client.allowInsecureRequests],
    });
    await assert.rejects(
      codeFlow(config, server, user, { redirectUri: 'http://127.0.0.1:41002/callback', scope: 'notes:read', resource: NOTES_RESOURCE }),
      (error: client.ResponseBodyError) => error.error === 'invalid_client',
    );
    assert.ok(captured.lines.some((line) => line.msg === 'outbound request refused' && (line.outbound as { url: string }).url === 'https://192.168.0.10/jwks.json'));
  });
});

describe('client ID metadata document policy', () => {
  it('CIMD_ALLOWED_HOSTS: refuses a document from any other host without fetching it', async () => {
    const certificates = makeTestCertificates();
    const fixture = await startHttpsFixture(certificates);
    const server = await startTestServer({
      OUTBOUND_ALLOW_LOOPBACK: 'true', OUTBOUND_CA_FILE: certificates.caFile, CIMD_ALLOWED_HOSTS: 'chatgpt.com, *.example.com',
    });
    try {
      const body = await errorPageFor(server, `${fixture.origin}/client.json`);
      assert.equal(body.error, 'invalid_client');
      assert.match(body.error_description, /not in CIMD_ALLOWED_HOSTS/);
      assert.deepEqual(fixture.requests, []);
    } finally {
      await server.destroy();
      await fixture.close();
      certificates.remove();
    }
  });
});
