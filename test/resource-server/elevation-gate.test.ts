import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { createTokenVerifier } from '../../src/resource-server/index.ts';
import { mcpEndpoint } from '../../src/resource-server/koa.ts';
import { startFixtureIssuer, type FixtureIssuer } from './support/fixture-issuer.ts';

describe('privileged tools under the elevation rule', () => {
  let idp: FixtureIssuer;
  let status: Server;
  let statusBase: string;
  let mcp: Server;
  let url: string;
  const active = new Map<string, boolean>();
  let statusRequests = 0;
  const stepUpReports: Array<{ authorization: string | undefined; body: string }> = [];
  let ran = 0;
  const resource = 'http://localhost/mcp';
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    idp = await startFixtureIssuer();
    status = createServer((request, response) => {
      if (request.method === 'POST') {
        let body = '';
        request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
        request.on('end', () => {
          stepUpReports.push({ authorization: request.headers.authorization, body });
          response.writeHead(204).end();
        });
        return;
      }
      statusRequests += 1;
      const id = request.url!.split('/').pop()!;
      response.writeHead(active.has(id) ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ active: active.get(id) === true }));
    });
    status.listen(0, '127.0.0.1');
    await once(status, 'listening');
    statusBase = `http://127.0.0.1:${(status.address() as AddressInfo).port}/elevations`;
    const app = new Koa();
    app.use(mcpEndpoint({
      path: '/mcp', metadataUrl: 'http://localhost/.well-known/oauth-protected-resource/mcp', server: { name: 'gate-test', version: '0' }, scopePrefix: 'notes',
      verifier: createTokenVerifier({ issuer: idp.issuer, resource, requireTyp: false }),
      tools: [{ name: 'wipe', description: 'privileged', policy: { risk: 'privileged' }, handler: async () => { ran += 1; return { content: [{ type: 'text', text: 'wiped' }] }; } }],
      elevation: { rule: 'elevation', statusUrl: (_issuer, id) => `${statusBase}/${id}`, stepUpUrl: () => `${statusBase}/step-up`, cacheSeconds: 1, timeoutMs: 1000 },
    }));
    mcp = app.listen(0, '127.0.0.1');
    await once(mcp, 'listening');
    url = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    mcp.closeAllConnections();
    status.closeAllConnections();
    await Promise.all([new Promise((resolve) => mcp.close(resolve)), new Promise((resolve) => status.close(resolve))]);
    await idp.close();
  });

  const token = (elevation?: Record<string, unknown>) => idp.sign({
    iss: idp.issuer, aud: resource, sub: 'alice', scope: 'notes:read notes:admin', exp: now() + 600, ...(elevation ? { elevation } : {}),
  });
  const call = async (bearer: string) => fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wipe', arguments: {} } }),
  });
  const assertStepUp = (response: Response, why: RegExp) => {
    assert.equal(response.status, 403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="notes:read notes:admin"/);
    assert.match(challenge, why);
  };

  it('runs the tool with an active elevation and answers a token without one with the step-up 403, never a 401', async () => {
    active.set('e-1', true);
    const response = await call(await token({ id: 'e-1', reason: 'cleanup', start: now(), end: now() + 300 }));
    assert.equal(response.status, 200);
    assert.equal(ran, 1);
    assertStepUp(await call(await token()), /needs an elevation of notes:admin/);
    assert.equal(ran, 1);
  });

  it('refuses an elevation the issuer no longer calls active (after at most the cache time), and one whose end has passed', async () => {
    active.set('e-2', true);
    const bearer = await token({ id: 'e-2', reason: 'cleanup', start: now(), end: now() + 300 });
    assert.equal((await call(bearer)).status, 200);
    active.set('e-2', false);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assertStepUp(await call(bearer), /no longer active/);
    const before = statusRequests;
    assertStepUp(await call(await token({ id: 'e-3', reason: 'old', start: now() - 600, end: now() - 1 })), /has ended/);
    assert.equal(statusRequests, before, 'an ended elevation is refused without asking the issuer');
  });

  it('tells the issuer about each step-up it asks for, with the refused token, before it answers 403', async () => {
    const before = stepUpReports.length;
    const bearer = await token();
    assertStepUp(await call(bearer), /needs an elevation of notes:admin/);
    const report = stepUpReports.at(-1);
    assert.equal(stepUpReports.length, before + 1, 'the report arrived before the 403 did');
    assert.equal(report?.authorization, `Bearer ${bearer}`);
    assert.equal(new URLSearchParams(report?.body).get('scope'), 'notes:admin');
  });

  it('fails closed when the issuer cannot be asked', async () => {
    const ranBefore = ran;
    status.closeAllConnections();
    await new Promise((resolve) => status.close(resolve));
    assertStepUp(await call(await token({ id: 'e-4', reason: 'cleanup', start: now(), end: now() + 300 })), /could not be asked/);
    assert.equal(ran, ranBefore);
    status.listen(0, '127.0.0.1');
    await once(status, 'listening');
  });
});
