import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { protectedResourceMetadataRoutes, requireBearerToken, type BearerTokenState } from '../../src/resource-server/koa.ts';
import { createTokenVerifier, metadataUrlFor, protectedResourceMetadata } from '../../src/resource-server/index.ts';
import { startFixtureIssuer, type FixtureIssuer } from './support/fixture-issuer.ts';

describe('Koa middleware on a real server', () => {
  let idp: FixtureIssuer;
  let http: Server;
  let base: string;
  let resource: string;
  let metadataUrl: string;

  before(async () => {
    idp = await startFixtureIssuer();
    const app = new Koa();
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    resource = `${base}/mcp`;
    metadataUrl = metadataUrlFor(resource);

    const verifier = createTokenVerifier({ issuer: idp.issuer, resource, requireTyp: false });
    const metadata = protectedResourceMetadata({ resource, authorizationServers: [idp.issuer], scopesSupported: ['notes:read', 'notes:admin'], resourceName: 'Notes' });
    const readGuard = requireBearerToken({ verifier, metadataUrl, requiredScopes: ['notes:read'] });
    const adminGuard = requireBearerToken({ verifier, metadataUrl, requiredScopes: ['notes:read', 'notes:admin'] });

    app.use(protectedResourceMetadataRoutes(metadata));
    app.use<BearerTokenState>((ctx, next) => (ctx.path === '/admin' ? adminGuard(ctx, next) : readGuard(ctx, next)));
    app.use<BearerTokenState>((ctx) => {
      ctx.body = { subject: ctx.state.token.subject, scopes: ctx.state.token.scopes };
    });
    http.on('request', app.callback());
  });
  after(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await idp.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const token = (extra: Record<string, unknown> = {}) => idp.sign({ iss: idp.issuer, aud: resource, sub: 'alice', scp: ['notes:read'], exp: now() + 600, ...extra });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

  it('lets a valid token through and puts the verified token in ctx.state.token', async () => {
    const response = await get('/mcp', { authorization: `Bearer ${await token()}` });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { subject: 'alice', scopes: ['notes:read'] });
  });

  it('answers a request without a token with 401 and a resource_metadata challenge without error', async () => {
    const response = await get('/mcp');
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}", scope="notes:read"`);
    assert.equal(response.headers.get('access-control-expose-headers'), 'WWW-Authenticate');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
  });

  it('answers a bad or expired token with 401 invalid_token', async () => {
    const forged = await get('/mcp', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' });
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate')!, /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="[^"]+", scope="notes:read"$/);

    const expired = await get('/mcp', { authorization: `Bearer ${await token({ exp: now() - 120 })}` });
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get('www-authenticate'), `Bearer error="invalid_token", error_description="The access token expired.", resource_metadata="${metadataUrl}", scope="notes:read"`);
    assert.deepEqual(await expired.json(), { error: 'invalid_token', error_description: 'The access token expired.' });
  });

  it('answers a token without the needed scope with 403 insufficient_scope naming all needed scopes', async () => {
    const response = await get('/admin', { authorization: `Bearer ${await token()}` });
    assert.equal(response.status, 403);
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", error_description="The access token lacks the scope(s): notes:admin.", resource_metadata="${metadataUrl}", scope="notes:read notes:admin"`,
    );
    assert.equal(response.headers.get('access-control-expose-headers'), 'WWW-Authenticate');
  });

  it('answers a malformed Authorization header or a token in the query with 400 invalid_request', async () => {
    const valid = await token();
    for (const headers of [{ authorization: `Bearer ${valid} ${valid}` }, { authorization: `Token ${valid}` }, { authorization: valid }]) {
      const response = await get('/mcp', headers);
      assert.equal(response.status, 400, headers.authorization.slice(0, 12));
      assert.match(response.headers.get('www-authenticate')!, /^Bearer error="invalid_request"/);
    }
    const inQuery = await get(`/mcp?access_token=${valid}`);
    assert.equal(inQuery.status, 400);
  });

  it('answers two Authorization headers with 400', async () => {
    const valid = await token();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/mcp`, { headers: ['authorization', `Bearer ${valid}`, 'authorization', `Bearer ${valid}`] }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });

  it('serves the metadata at the root and the path-inserted well-known URLs, readable cross-origin', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await get(path, { origin: 'https://inspector.example' });
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('content-type')!, /^application\/json/);
      assert.deepEqual(await response.json(), {
        resource, authorization_servers: [idp.issuer], scopes_supported: ['notes:read', 'notes:admin'], bearer_methods_supported: ['header'], resource_name: 'Notes',
      });
    }
    const preflight = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, {
      method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.equal((await fetch(`${base}/.well-known/oauth-protected-resource`, { method: 'POST' })).status, 405);
  });
});
