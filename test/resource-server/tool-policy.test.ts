import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { createTokenVerifier, decide, PolicyError, resolveToolPolicy } from '../../src/resource-server/index.ts';
import { mcpEndpoint } from '../../src/resource-server/koa.ts';
import { PUBLIC_CLIENT } from '../support/authorization-server.ts';
import { addUser, codeFlow, discover } from '../support/oauth-client.ts';
import { startNotesStack, type NotesStack } from '../support/notes-server.ts';

const ACR_MFA = 'urn:portcullis:acr:mfa';

describe('tool policy', () => {
  it('derives scopes, elevation and limits from the risk level', () => {
    assert.deepEqual(resolveToolPolicy('a', { risk: 'read' }, { scopePrefix: 'notes', rateLimited: true }),
      { risk: 'read', scopes: ['notes:read'], requiresElevation: false, timeoutMs: 30_000, maxConcurrency: 16, rateLimit: 'standard', acrValues: [] });
    assert.deepEqual(resolveToolPolicy('b', { risk: 'write' }, { scopePrefix: 'notes' }).scopes, ['notes:write']);
    const privileged = resolveToolPolicy('c', { risk: 'privileged' }, { scopePrefix: 'notes', rateLimited: true });
    assert.deepEqual(privileged.scopes, ['notes:admin']);
    assert.equal(privileged.requiresElevation, true);
    assert.equal(privileged.rateLimit, 'strict');
    assert.deepEqual(resolveToolPolicy('d', { risk: 'write', scopes: ['files:write'] }, { scopePrefix: 'notes' }).scopes, ['files:write']);
  });

  it('counts no calls where nothing can count them, and refuses a declared rate limit there at start', () => {
    assert.equal(resolveToolPolicy('e', { risk: 'write' }, { scopePrefix: 'notes' }).rateLimit, 'none');
    assert.throws(() => resolveToolPolicy('f', { risk: 'read', rateLimit: 'strict' }, { scopePrefix: 'n' }), /tool f: rateLimit strict needs a store/);
  });

  it('refuses a bad policy at start with a message naming the tool', () => {
    assert.throws(() => resolveToolPolicy('x', { risk: 'dangerous' as never }, { scopePrefix: 'n' }), (error: Error) => error instanceof PolicyError && /tool x: risk/.test(error.message));
    assert.throws(() => resolveToolPolicy('y', { risk: 'read', timeoutMs: 0 }, { scopePrefix: 'n' }), /tool y: timeoutMs/);
    assert.throws(() => resolveToolPolicy('z', { risk: 'read', scopes: ['has space'] }, { scopePrefix: 'n' }), /tool z: scopes/);
    assert.throws(() => resolveToolPolicy('w', { risk: 'read', requiresElevation: true }, { scopePrefix: 'n' }), /tool w: a read tool/);
  });

  it('decides: missing scopes first, then how recent the sign-in is', () => {
    const policy = resolveToolPolicy('p', { risk: 'privileged' }, { scopePrefix: 'notes' });
    const options = { nowSeconds: 10_000, elevationMaxAgeSeconds: 300 };
    assert.deepEqual(decide(policy, { scopes: ['notes:read'] }, options),
      { allowed: false, reason: 'insufficient_scope', missingScopes: ['notes:admin'], requiredScopes: ['notes:admin'] });
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'], authTime: 9_000 }, options), { allowed: false, reason: 'elevation_required', maxAgeSeconds: 300 });
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'] }, options), { allowed: false, reason: 'elevation_required', maxAgeSeconds: 300 });
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'], authTime: 9_800 }, options), { allowed: true });
  });

  it('decides on the kind of sign-in (acr) after the scopes, naming the recent sign-in too when that is also missing', () => {
    const policy = resolveToolPolicy('m', { risk: 'privileged', acrValues: [ACR_MFA] }, { scopePrefix: 'notes' });
    const options = { nowSeconds: 10_000, elevationMaxAgeSeconds: 300 };
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'], authTime: 9_800, acr: 'urn:portcullis:acr:password' }, options),
      { allowed: false, reason: 'stronger_sign_in_required', acrValues: [ACR_MFA] });
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'], authTime: 9_000 }, options),
      { allowed: false, reason: 'stronger_sign_in_required', acrValues: [ACR_MFA], maxAgeSeconds: 300 });
    assert.deepEqual(decide(policy, { scopes: ['notes:admin'], authTime: 9_800, acr: ACR_MFA }, options), { allowed: true });
    assert.throws(() => resolveToolPolicy('n', { risk: 'write', acrValues: ['two words'] }, { scopePrefix: 'n' }), /tool n: acrValues/);
  });
});

describe('elevation on an MCP endpoint, with a real token from Portcullis', () => {
  let stack: NotesStack;
  let url: string;
  let close: () => Promise<void>;
  let ran = 0;

  before(async () => {
    // No elevated scopes at Portcullis here: this is the weaker recent-sign-in rule other issuers get.
    stack = await startNotesStack({}, {}, { elevation: [] });
    const app = new Koa();
    app.use(mcpEndpoint({
      path: '/mcp',
      verifier: createTokenVerifier({ issuer: stack.authorizationServer.issuer, resource: stack.resource }),
      metadataUrl: 'http://localhost/.well-known/oauth-protected-resource/mcp',
      server: { name: 'elevation-test', version: '0' },
      scopePrefix: 'notes',
      tools: [
        { name: 'wipe', description: 'privileged', policy: { risk: 'privileged' }, handler: async () => { ran += 1; return { content: [] }; } },
        { name: 'purge', description: 'needs a second factor', policy: { risk: 'write', acrValues: [ACR_MFA] }, handler: async () => { ran += 1; return { content: [] }; } },
      ],
      // Ten minutes from now: the sign-in the token records is then older than the 300 s window.
      now: () => Date.now() + 600_000,
    }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  after(async () => {
    await close();
    await stack.close();
  });

  it('answers a privileged call with 401 insufficient_user_authentication and max_age, and does not run the tool', async () => {
    const user = await addUser(stack.authorizationServer);
    const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, stack.authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:admin', resource: stack.resource });
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wipe', arguments: {} } }),
    });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_user_authentication"/);
    assert.match(challenge, /max_age="?300"?/);
    assert.equal(ran, 0);
  });

  it('answers a call that needs a second factor, from a password-only sign-in, with 401 naming acr_values, and does not run the tool', async () => {
    const user = await addUser(stack.authorizationServer);
    const config = await discover(stack.authorizationServer, PUBLIC_CLIENT.client_id);
    const { tokens } = await codeFlow(config, stack.authorizationServer, user, { redirectUri: 'http://127.0.0.1/callback', scope: 'notes:write', resource: stack.resource });
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'purge', arguments: {} } }),
    });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_user_authentication"/);
    assert.match(challenge, new RegExp(`acr_values="${ACR_MFA}"`));
    assert.equal(ran, 0);
  });
});
