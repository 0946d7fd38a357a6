import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PUBLIC_CLIENT, SERVICE_CLIENT } from '../support/authorization-server.ts';
import { freePort } from '../support/ports.ts';
import { startProject, WITH_DEMO_MCP, type RunningProject } from '../support/processes.ts';
import { rawExchange, rawRequest, type Step } from '../support/raw-http.ts';

const RESOURCE = 'https://api.example.test/';
const METRICS_TOKEN = 'fuzz-metrics-token-0123456789abcdef';
const FORM = 'application/x-www-form-urlencoded';
/** Fixed, so every run sends the same requests; FUZZ_SEED and FUZZ_BURSTS explore further by hand. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x9e3779b9);
const BURSTS = Number(process.env.FUZZ_BURSTS ?? 6);

describe('requests no client should send', () => {
  let root: string;
  let port: number;
  let mcpPort: number;
  let server: RunningProject;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portcullis-malformed-'));
    const configFile = join(root, 'config.json');
    port = await freePort();
    mcpPort = await freePort();
    const resources = [{ uri: RESOURCE, scopes: ['api:read'] }, { uri: mcpResource(), scopes: ['notes:read', 'notes:write', 'notes:admin'] }];
    await writeFile(configFile, JSON.stringify({ clients: [PUBLIC_CLIENT, SERVICE_CLIENT], resources }));
    server = await startProject({
      PORT: String(port), HOST: '127.0.0.1', CONFIG_FILE: configFile, DEMO_MCP_PORT: String(mcpPort), METRICS_TOKEN,
      DATA_DIR: join(root, 'data'), KEYS_DIR: join(root, 'keys'), RSA_PRIVATE_KEY_PATH: join(root, 'absent'), COOKIE_KEYS_PATH: join(root, 'absent'),
      TOKEN_RATE_LIMIT_PER_ADDRESS: '100000', REGISTRATION_RATE_LIMIT: '100000', LOGIN_FAILURE_LIMIT_PER_ADDRESS: '100000',
    }, undefined, undefined, { nodeArgs: WITH_DEMO_MCP });
  });
  after(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const mcpResource = () => `http://localhost:${mcpPort}/mcp`;

  /** A token the demo MCP server accepts, so the fuzz reaches its body parsing and tools. */
  async function mcpToken(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': FORM, authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.client_id}:${SERVICE_CLIENT.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notes:read notes:write', resource: mcpResource() }),
    });
    assert.equal(response.status, 200);
    return (await response.json() as { access_token: string }).access_token;
  }

  /** A fresh sign-in request: its interaction path and the cookies that go with it. */
  async function openInteraction(): Promise<{ path: string; cookie: string }> {
    const verifier = 'a'.repeat(43);
    const query = new URLSearchParams({
      client_id: PUBLIC_CLIENT.client_id, response_type: 'code', redirect_uri: PUBLIC_CLIENT.redirect_uris[0], scope: 'openid', state: 'fuzz',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: RESOURCE,
    });
    const response = await fetch(`http://127.0.0.1:${port}/authorize?${query}`, { redirect: 'manual' });
    const path = new URL(response.headers.get('location')!, `http://127.0.0.1:${port}`).pathname;
    assert.match(path, /^\/interaction\/[\w-]+$/);
    return { path, cookie: response.headers.getSetCookie().map((value) => value.split(';')[0]).join('; ') };
  }

  /** The server still answers /readyz, is the same process, and logged no uncaught error or stack trace. */
  async function assertStillServing(context: string): Promise<void> {
    assert.ok(server.running(), `the server process exited (${context}):\n${server.output().slice(-3000)}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200, context);
    const output = server.output();
    const trace = /"stack":"[^"]|^\s+at |Uncaught|unhandled error/m.exec(output);
    assert.ok(!trace, `${context}: the server logged a stack trace:\n${output.slice(Math.max(0, (trace?.index ?? 0) - 1500), (trace?.index ?? 0) + 1500)}`);
  }

  it('answers a 9 KB sign-in form with 413 and Connection: close, and keeps serving', async () => {
    const { path, cookie } = await openInteraction();
    const exchange = await rawExchange(port, [rawRequest('POST', `${path}/login`, { 'Content-Type': FORM, Cookie: cookie }, `username=${'a'.repeat(9_000)}`)]);
    assert.deepEqual(exchange.statuses, [413]);
    assert.match(exchange.received, /\r\nConnection: close\r\n/i);
    assert.ok(exchange.closedByServer);
    await assertStillServing('after a 9 KB sign-in form');
  });

  it('answers a 2 MiB consent form with 413 and keeps serving', async () => {
    const { path, cookie } = await openInteraction();
    const exchange = await rawExchange(port, [rawRequest('POST', `${path}/consent`, { 'Content-Type': FORM, Cookie: cookie }, Buffer.alloc(2 * 1024 * 1024, 'x'))]);
    assert.deepEqual(exchange.statuses, [413]);
    await assertStillServing('after a 2 MiB consent form');
  });

  it('closes the connection after refusing an oversized token or registration request, so no next request is lost on it', async () => {
    for (const path of ['/token', '/reg', '/revoke']) {
      const contentType = path === '/reg' ? 'application/json' : FORM;
      const oversized = rawRequest('POST', path, { 'Content-Type': contentType }, Buffer.alloc(200 * 1024, 'x'));
      // The server closes once it has discarded the rest of the body (at most 2 s): wait for that, not for a quiet spell.
      const exchange = await rawExchange(port, [oversized, rawRequest('GET', '/healthz', {})], { quietMs: 3_000, maxMs: 5_000 });
      assert.equal(exchange.statuses.length, 1, `${path}: one answer, then the connection closes:\n${exchange.received.slice(0, 500)}`);
      assert.ok(exchange.statuses[0]! >= 400 && exchange.statuses[0]! < 500, `${path}: ${exchange.statuses[0]}`);
      assert.match(exchange.received, /\r\nConnection: close\r\n/i, path);
      assert.ok(exchange.closedByServer, path);
    }
    await assertStillServing('after oversized protocol requests');
  });

  it('keeps serving when a client hangs up in the middle of a body or a response', async () => {
    const { path, cookie } = await openInteraction();
    // Within every limit, so the server is reading the body when the client goes.
    const half = (target: string, headers: Record<string, string>) => rawRequest('POST', target, { ...headers, 'Content-Length': '6000' }, 'x'.repeat(3_000));
    await Promise.all([
      rawExchange(port, [half(`${path}/login`, { 'Content-Type': FORM, Cookie: cookie }), { pauseMs: 20 }, 'reset']),
      rawExchange(port, [half('/token', { 'Content-Type': FORM }), { pauseMs: 20 }, 'reset']),
      rawExchange(port, [half('/reg', { 'Content-Type': 'application/json' }), 'half-close']),
      rawExchange(port, [rawRequest('GET', '/jwks', {}), 'reset']),
      rawExchange(port, [rawRequest('GET', '/.well-known/openid-configuration', {}), 'half-close']),
    ]);
    await assertStillServing('after clients hung up');
  });

  it('survives bursts of random, oversized, truncated, slow and pipelined requests on every route', async () => {
    const random = seededRandom(SEED);
    const { path: interaction, cookie } = await openInteraction();
    const bearer = await mcpToken();
    const statuses: number[] = [];
    for (let burst = 0; burst < BURSTS; burst += 1) {
      const cases = Array.from({ length: 40 }, () => (random() < 0.2
        ? { port: mcpPort, steps: mcpFuzzCase(random, bearer) }
        : { port, steps: fuzzCase(random, { interaction, cookie }) }));
      const results = await Promise.all(cases.map((one) => rawExchange(one.port, one.steps, { quietMs: 100, maxMs: 800 })));
      statuses.push(...results.flatMap((result) => result.statuses));
      await assertStillServing(`seed ${SEED}, burst ${burst}`);
    }
    assert.ok(statuses.length > 100, `the server answered only ${statuses.length} requests`);
    assert.deepEqual(statuses.filter((status) => status >= 500), [], `no request makes the server fail (seed ${SEED})`);
  });
});

type Random = () => number;

/** mulberry32: the same cases on every run. */
function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)]!;

function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** One client's misbehaviour: a request (or several, pipelined) and the way it is delivered. */
function fuzzCase(random: Random, interaction: { interaction: string; cookie: string }): Step[] {
  const uid = interaction.interaction;
  const path = pick(random, [
    'http://evil.example/token', '*', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks', '/authorize', '/token', '/reg',
    '/revoke', '/introspect', '/userinfo', '/par', '/healthz', '/readyz', '/metrics', '/elevations/step-up', uid, `${uid}/login`, `${uid}/consent`,
    '/interaction/unknown-uid/login', '/reg/some-client', '/nowhere', '/%', '/interaction/%E0%A4%A/consent',
  ]);
  const authorize = `?response_type=code&client_id=${PUBLIC_CLIENT.client_id}&redirect_uri=${encodeURIComponent(PUBLIC_CLIENT.redirect_uris[0])}&code_challenge_method=S256&code_challenge=${'c'.repeat(43)}`;
  const query = pick(random, [
    '', '?a=%zz', '?client_id=%', `?${'q='.repeat(2_000)}`, '?response_type=code&client_id=test-public-client&redirect_uri=%ZZ', '?resource=%00',
    `${authorize}&claims=%7B`, `${authorize}&max_age=-1&prompt=none`, `${authorize}&request=a.b.c`, `${authorize}&request_uri=urn:x`,
    `${authorize}&response_mode=form_post&scope=openid%20openid`, `${authorize}&resource=${RESOURCE}&resource=x`, `${authorize}&client_id=test-public-client`,
  ]);
  const method = pick(random, ['GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH']);
  const headers: Record<string, string> = {};
  const contentType = pick(random, [FORM, FORM, 'application/json', 'text/plain', 'multipart/form-data; boundary=x', ';;;', `${FORM}; charset=utf-7`, 'application/json; charset=bogus', '']);
  if (contentType) headers['Content-Type'] = contentType;
  const cookieHeader = pick(random, [interaction.cookie, '', '_interaction=%zz; _interaction.sig=%', '=;=;;', `_session=${'c'.repeat(6_000)}`]);
  if (cookieHeader) headers.Cookie = cookieHeader;
  const authorization = pick(random, ['', 'Basic %%%', `Basic ${Buffer.from(':').toString('base64')}`, `Basic ${Buffer.from('%zz:x').toString('base64')}`, 'Bearer ', 'DPoP x.y.z']);
  if (authorization) headers.Authorization = authorization;
  if (random() < 0.3) headers['X-Forwarded-For'] = pick(random, ['not-an-ip', '::ffff:1.2.3.4, 999.1.1.1', ',,,']);
  if (random() < 0.2) headers['X-Request-Id'] = 'r'.repeat(pick(random, [10, 500]));
  if (random() < 0.2) headers.Accept = pick(random, ['text/html', '*/*;q=x', 'application/json']);
  if (random() < 0.1) headers.Origin = pick(random, ['null', 'http://127.0.0.1', 'http://evil.example']);
  if (random() < 0.05) headers['X-Huge'] = 'h'.repeat(20_000);
  if (random() < 0.1) headers.Expect = '100-continue';
  if (random() < 0.1) headers['Content-Encoding'] = pick(random, ['gzip', 'br', 'bogus']);
  if (random() < 0.1) headers.Host = pick(random, ['', 'evil.example', '[::1', 'a'.repeat(300)]);
  const body = pick(random, [
    Buffer.alloc(0), randomBytes(random, pick(random, [10, 1_000, 9_000, 60_000])), Buffer.alloc(200_000, 'a'),
    Buffer.from('{"redirect_uris": ["http://127.0.0.1/cb"'), Buffer.from('{"redirect_uris": 5, "grant_types": {}}'), Buffer.from('['.repeat(5_000)),
    Buffer.from('grant_type=refresh_token&refresh_token=%zz&resource=%'), Buffer.from('grant_type=authorization_code&code=x&code_verifier=y&client_id=test-public-client'),
    Buffer.from('grant_type=client_credentials&scope=api:read&resource=https%3A%2F%2Fapi.example.test%2F&resource=x'), Buffer.from('csrf=x&username=a&password=b&decision=approve'),
  ]);
  if (random() < 0.15) headers['Transfer-Encoding'] = 'chunked';
  if (random() < 0.1) headers['Content-Length'] = pick(random, ['-1', 'abc', '99999999999']);
  headers.Connection = random() < 0.5 ? 'close' : 'keep-alive';
  return delivered(random, method, `${path}${query}`, headers, body);
}

/** The demo MCP server in the same process: JSON-RPC bodies, good and bad tokens, odd MCP headers. */
function mcpFuzzCase(random: Random, bearer: string): Step[] {
  const path = pick(random, ['/mcp', '/mcp', '/mcp', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource', '/nowhere', '/mcp%zz']);
  const method = pick(random, ['POST', 'POST', 'GET', 'DELETE', 'OPTIONS', 'PUT']);
  const headers: Record<string, string> = {};
  const authorization = pick(random, [`Bearer ${bearer}`, `Bearer ${bearer}`, '', 'Bearer x.y.z', `Bearer ${bearer}x`, 'Basic abc', `Bearer  ${bearer}`]);
  if (authorization) headers.Authorization = authorization;
  const contentType = pick(random, ['application/json', 'application/json', 'text/plain', FORM, '']);
  if (contentType) headers['Content-Type'] = contentType;
  headers.Accept = pick(random, ['application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*']);
  if (random() < 0.3) headers['Mcp-Session-Id'] = pick(random, ['nope', 'x'.repeat(300), '%zz']);
  if (random() < 0.3) headers['Idempotency-Key'] = pick(random, ['"abc"', '??', '"' + 'k'.repeat(500) + '"', ':Zm9v:']);
  if (random() < 0.2) headers['Mcp-Protocol-Version'] = pick(random, ['2025-06-18', 'garbage', '']);
  const call = (name: string, args: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
  const body = Buffer.from(pick(random, [
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }),
    JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), call('create_note', { text: 'x'.repeat(pick(random, [1, 100_000])) }), call('create_note', 'not an object'),
    call('delete_all_notes', {}), call('no_such_tool', {}), JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, null, 5]),
    '{"jsonrpc": "2.0", "id": 1, "method":', '['.repeat(10_000), JSON.stringify({ jsonrpc: '2.0', id: { a: 1 }, method: 7 }), 'null', '',
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'create_note', arguments: { text: 'a' }, _meta: { 'idempotency-key': 5 } } }),
  ]));
  headers.Connection = random() < 0.5 ? 'close' : 'keep-alive';
  return delivered(random, method, path, headers, random() < 0.05 ? Buffer.alloc(5 * 1024 * 1024, ' ') : body);
}

/** The request as bytes, delivered whole, cut short, hung up on, slowly, or between two others on one connection. */
function delivered(random: Random, method: string, target: string, headers: Record<string, string>, body: Buffer): Step[] {
  let request = rawRequest(method, target, headers, headers['Transfer-Encoding'] ? `${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n0\r\n\r\n` : body);
  const delivery = pick(random, ['whole', 'whole', 'truncated', 'aborted', 'slow', 'pipelined']);
  switch (delivery) {
    case 'truncated':
      return [request.subarray(0, Math.floor(request.length * random())), 'half-close'];
    case 'aborted':
      return [request.subarray(0, Math.floor(request.length * random())), { pauseMs: 10 }, 'reset'];
    case 'slow': {
      const cut = Math.floor(request.length / 3);
      return [request.subarray(0, cut), { pauseMs: 40 }, request.subarray(cut, 2 * cut), { pauseMs: 40 }, request.subarray(2 * cut)];
    }
    case 'pipelined':
      request = Buffer.concat([rawRequest('GET', '/healthz', {}), request, rawRequest('GET', '/readyz', { Connection: 'close' })]);
      return [request];
    default:
      return [request];
  }
}
