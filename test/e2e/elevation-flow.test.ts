import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { consoleSignIn, consoleToken, reloadWaiting, walkAuthorization } from '../support/elevation.ts';
import { addUser, authorizationRequest, client, discover } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';

const SELF_SERVICE = 'https://self-service.example.test/';
const APPROVED = 'https://approved.example.test/';
const REDIRECT = 'http://127.0.0.1/callback';

describe('elevated scopes at the authorization server', () => {
  let server: TestServer;
  let config: client.Configuration;
  let alice: Awaited<ReturnType<typeof addUser>>;
  let bob: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer({}, undefined, [
      { uri: SELF_SERVICE, name: 'Self-service ops', scopes: ['ops:read', 'ops:admin'], default: false,
        elevation: [{ scopes: ['ops:admin'], maxDurationSeconds: 1800, reasonRequired: true, approval: 'none', breakGlass: false, approvalTimeoutSeconds: 900 }] },
      { uri: APPROVED, name: 'Approved ops', scopes: ['db:read', 'db:admin'], default: false,
        elevation: [{ scopes: ['db:admin'], maxDurationSeconds: 900, reasonRequired: true, approval: 'one-approver', breakGlass: false, approvalTimeoutSeconds: 900 }] },
    ]);
    config = await discover(server, PUBLIC_CLIENT.client_id);
    alice = await addUser(server, 'alice');
    bob = await addUser(server, 'bob');
    await server.users.changeRoles(bob.username, { add: ['approver'] });
  });
  after(async () => server?.destroy());

  async function authorize(agent: UserAgent, scope: string, resource: string, choice: Parameters<typeof walkAuthorization>[3], seen = {}) {
    const request = await authorizationRequest(config, { redirectUri: REDIRECT, scope, resource });
    return { request, end: await walkAuthorization(agent, request.url, alice, choice, seen) };
  }

  async function redeem(end: Awaited<ReturnType<typeof walkAuthorization>>, request: Awaited<ReturnType<typeof authorizationRequest>>, resource: string) {
    assert.equal(end.kind, 'left', `expected a redirect to the client, got ${end.kind === 'page' ? `${end.status}: ${end.text.slice(0, 400)}` : end.kind}`);
    return client.authorizationCodeGrant(config, end.url, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { resource });
  }

  it('asks for the password again and a reason, and issues a token that ends with the elevation and is never refreshed into one', async () => {
    const agent = new UserAgent(server.issuer);
    const everyday = await authorize(agent, 'ops:read', SELF_SERVICE, { reason: '' });
    await redeem(everyday.end, everyday.request, SELF_SERVICE);

    const seen: { passwordAsked?: number } = {};
    const { request, end } = await authorize(agent, 'ops:read ops:admin', SELF_SERVICE, { reason: 'rotate the leaked deploy key', minutes: 10, ticket: 'INC-42' }, seen);
    assert.equal(seen.passwordAsked, 1, 'the password is asked again although the session is signed in');
    const tokens = await redeem(end, request, SELF_SERVICE);
    const claims = decodeJwt(tokens.access_token);
    const elevation = claims.elevation as { id: string; reason: string; start: number; end: number; approver?: string };
    assert.equal(claims.aud, SELF_SERVICE);
    assert.match(String(claims.scope), /\bops:admin\b/);
    assert.equal(elevation.reason, 'rotate the leaked deploy key');
    assert.equal(elevation.end - elevation.start, 600);
    assert.equal(elevation.approver, undefined);
    assert.equal(claims.exp, elevation.end, 'the token lives exactly as long as the elevation');

    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: SELF_SERVICE });
    assert.doesNotMatch(String(decodeJwt(refreshed.access_token).scope), /ops:admin/, 'a refresh never yields the elevated scope');
    assert.equal(decodeJwt(refreshed.access_token).elevation, undefined);
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token!, { scope: 'ops:read ops:admin', resource: SELF_SERVICE }),
      (error: client.ResponseBodyError) => error.error === 'invalid_scope');
  });

  it('refuses a short reason and a duration over the maximum, and records nothing', async () => {
    const before = (await server.store.findByTag('elevations')).length;
    const short = await authorize(new UserAgent(server.issuer), 'ops:admin', SELF_SERVICE, { reason: 'because' });
    assert.equal(short.end.kind, 'page');
    assert.equal(short.end.kind === 'page' && short.end.status, 400);
    assert.match(short.end.kind === 'page' ? short.end.text : '', /at least 10 characters/);
    const long = await authorize(new UserAgent(server.issuer), 'ops:admin', SELF_SERVICE, { reason: 'a long enough reason', minutes: 60 });
    assert.match(long.end.kind === 'page' ? long.end.text : '', /longest you can ask for is 30 minutes/);
    assert.equal((await server.store.findByTag('elevations')).length, before);
  });

  it('waits for an approver without naming one, and continues once another user approves', async () => {
    const agent = new UserAgent(server.issuer);
    const { request, end } = await authorize(agent, 'db:read db:admin', APPROVED, { reason: 'restore the orders table from backup' });
    assert.equal(end.kind, 'waiting');
    assert.doesNotMatch(end.kind === 'waiting' ? end.text : '', new RegExp(bob.username), 'the waiting page names no approver');
    const waiting = end.kind === 'waiting' ? end.url : new URL(server.issuer);
    assert.equal((await reloadWaiting(agent, waiting, alice)).kind, 'waiting', 'still waiting until someone decides');

    const approver = new UserAgent(server.issuer);
    const signedIn = await consoleSignIn(approver, bob);
    assert.equal(signedIn.status, 200);
    assert.match(signedIn.text, new RegExp(alice.username));
    assert.match(signedIn.text, /restore the orders table from backup/);
    const id = /action="\/admin\/approvals\/([^"]+)"/.exec(signedIn.text)?.[1];
    assert.ok(id);
    const approved = await approver.postForm(`/admin/approvals/${id}`, { csrf: consoleToken(signedIn.text), decision: 'approve' });
    assert.equal(approved.status, 303);

    const tokens = await redeem(await reloadWaiting(agent, waiting, alice), request, APPROVED);
    const elevation = decodeJwt(tokens.access_token).elevation as { approver?: string; id: string };
    assert.equal(elevation.approver, bob.username);
    assert.equal(elevation.id, id);
  });
});
