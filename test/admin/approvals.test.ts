import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allEvents } from '../../src/audit/index.ts';
import type { Elevation } from '../../src/authorization-server/elevation/index.ts';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { consoleSignIn, consoleToken, reloadWaiting, walkAuthorization, type WalkEnd } from '../support/elevation.ts';
import { addUser, authorizationRequest, discover, type client } from '../support/oauth-client.ts';
import { runProject } from '../support/processes.ts';
import { UserAgent } from '../support/user-agent.ts';

const APPROVED = 'https://approved.example.test/';
const HASTY = 'https://hasty.example.test/';
const REDIRECT = 'http://127.0.0.1/callback';
const policy = { maxDurationSeconds: 900, reasonRequired: true, approval: 'one-approver' as const, breakGlass: true };

type TestUser = Awaited<ReturnType<typeof addUser>>;

describe('the approvals console and the elevations command refuse what they must and change nothing', () => {
  let server: TestServer;
  let config: client.Configuration;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  const cli = (args: string[]) => runProject('src/cli/main.ts', args, { env: { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir } });

  before(async () => {
    server = await startTestServer({}, undefined, [
      { uri: APPROVED, name: 'Approved ops', scopes: ['db:read', 'db:admin'], default: false, elevation: [{ ...policy, scopes: ['db:admin'], approvalTimeoutSeconds: 900 }] },
      { uri: HASTY, name: 'Hasty ops', scopes: ['fast:admin'], default: false, elevation: [{ ...policy, scopes: ['fast:admin'], approvalTimeoutSeconds: 3 }] },
    ]);
    config = await discover(server, PUBLIC_CLIENT.client_id);
    [alice, bob, carol, dave] = [await addUser(server, 'alice'), await addUser(server, 'bob'), await addUser(server, 'carol'), await addUser(server, 'dave')];
    await server.users.changeRoles(alice.username, { add: ['approver'] });
    await server.users.changeRoles(bob.username, { add: ['approver'] });
    await server.users.changeRoles(carol.username, { add: ['break-glass'] });
  });
  after(async () => server?.destroy());

  async function requestElevation(user: TestUser, resource: string, scope: string, choice: Parameters<typeof walkAuthorization>[3]): Promise<{ agent: UserAgent; end: WalkEnd }> {
    const agent = new UserAgent(server.issuer);
    const { url } = await authorizationRequest(config, { redirectUri: REDIRECT, scope, resource });
    return { agent, end: await walkAuthorization(agent, url, user, choice) };
  }

  async function elevationOf(requester: TestUser): Promise<Elevation> {
    const all = (await server.store.findByTag<Elevation>('elevations')).map((record) => record.value);
    return all.filter((elevation) => elevation.requester.name === requester.username).at(-1)!;
  }

  it('keeps users without the approver or admin role out of the console', async () => {
    const signedIn = await consoleSignIn(new UserAgent(server.issuer), dave);
    assert.equal(signedIn.status, 403);
    assert.match(signedIn.text, /cannot use the console/);
    const anonymous = await new UserAgent(server.issuer).postForm('/admin/approvals/anything', { csrf: 'x', decision: 'approve' });
    assert.equal(anonymous.status, 401);
  });

  it('refuses self-approval, a forged form and a replayed one; a denial reaches the requester as access_denied', async () => {
    const { agent, end } = await requestElevation(alice, APPROVED, 'db:admin', { reason: 'fix the broken replica set' });
    assert.equal(end.kind, 'waiting');
    const elevation = await elevationOf(alice);

    const self = new UserAgent(server.issuer);
    const selfPage = await consoleSignIn(self, alice);
    assert.match(selfPage.text, /This is your own request/);
    const own = await self.postForm(`/admin/approvals/${elevation.id}`, { csrf: consoleToken(selfPage.text), decision: 'approve' });
    assert.equal(own.status, 403);
    assert.match(await own.text(), /cannot decide on your own request/);

    const approver = new UserAgent(server.issuer);
    const page = await consoleSignIn(approver, bob);
    const forged = await approver.postForm(`/admin/approvals/${elevation.id}`, { csrf: 'forged', decision: 'approve' });
    assert.equal(forged.status, 403);
    assert.equal((await server.store.get<Elevation>(`elevation:${elevation.id}`))?.value.status, 'pending', 'nothing changed');

    assert.equal((await approver.postForm(`/admin/approvals/${elevation.id}`, { csrf: consoleToken(page.text), decision: 'deny' })).status, 303);
    const replayed = await approver.postForm(`/admin/approvals/${elevation.id}`, { csrf: consoleToken(page.text), decision: 'approve' });
    assert.equal(replayed.status, 409);
    assert.equal((await server.store.get<Elevation>(`elevation:${elevation.id}`))?.value.status, 'denied');

    const denied = await reloadWaiting(agent, end.kind === 'waiting' ? end.url : new URL(server.issuer), alice);
    assert.equal(denied.kind, 'page');
    assert.match(denied.kind === 'page' ? denied.text : '', /An approver denied your request/);
    const action = denied.kind === 'page' ? /action="([^"]+)"/.exec(denied.text)![1]! : '';
    const back = await agent.follow(await agent.postForm(action, { csrf: consoleToken(denied.kind === 'page' ? denied.text : ''), mode: 'cancel' }));
    assert.equal(back.url.searchParams.get('error'), 'access_denied');

    const types = (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.elevation === elevation.id).map((event) => event.type);
    assert.deepEqual(types, ['elevation.requested', 'elevation.refused', 'elevation.denied']);
  });

  it('does nothing with an approval that comes after the request expired, and says so', async () => {
    const { end } = await requestElevation(dave, HASTY, 'fast:admin', { reason: 'a quick look at the queue' });
    assert.equal(end.kind, 'waiting');
    const elevation = await elevationOf(dave);
    await new Promise((resolve) => setTimeout(resolve, (elevation.decideBy + 0.2) * 1000 - Date.now()));
    const approver = new UserAgent(server.issuer);
    const page = await consoleSignIn(approver, bob);
    assert.doesNotMatch(page.text, /a quick look at the queue/, 'an expired request is not listed');
    const late = await approver.postForm(`/admin/approvals/${elevation.id}`, { csrf: consoleToken(page.text), decision: 'approve' });
    assert.equal(late.status, 410);
    assert.match(await late.text(), /expired before it was decided; nothing was approved/);
    assert.equal((await server.store.get<Elevation>(`elevation:${elevation.id}`))?.value.status, 'expired');
  });

  it('allows one break-glass per user per day and refuses the next with a clear message, creating nothing', async () => {
    const first = await requestElevation(carol, APPROVED, 'db:admin', { reason: 'primary database down, pager says so', mode: 'emergency' });
    assert.equal(first.end.kind, 'left', 'straight on to the application (consent included)');
    const count = (await server.store.findByTag('elevations')).length;
    const second = await requestElevation(carol, APPROVED, 'db:admin', { reason: 'primary database down again, sorry', mode: 'emergency' });
    assert.equal(second.end.kind === 'page' && second.end.status, 429);
    assert.match(second.end.kind === 'page' ? second.end.text : '', /used emergency access recently/);
    assert.equal((await server.store.findByTag('elevations')).length, count);
    const notAllowed = await requestElevation(dave, APPROVED, 'db:admin', { reason: 'I would like emergency access please', mode: 'emergency' });
    assert.equal(notAllowed.end.kind === 'page' && notAllowed.end.status, 403, 'only users with the break-glass role');
  });

  it('lists and revokes elevations from the command line; the revocation reaches the audit log through the server', async () => {
    const { end } = await requestElevation(bob, APPROVED, 'db:admin', { reason: 'vacuum the big table tonight' });
    assert.equal(end.kind, 'waiting');
    const pending = await cli(['elevations', 'list', '--pending', '--json']);
    assert.equal(pending.code, 0, pending.stderr);
    const [listed] = (JSON.parse(pending.stdout) as Elevation[]).filter((elevation) => elevation.requester.name === bob.username);
    assert.equal(listed?.reason, 'vacuum the big table tonight');

    const active = (JSON.parse((await cli(['elevations', 'list', '--active', '--json'])).stdout) as Elevation[]).find((elevation) => elevation.breakGlass);
    assert.ok(active, 'the break-glass elevation is active');
    const revoked = await cli(['elevations', 'revoke', active.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await cli(['elevations', 'revoke', active.id])).code, 2, 'revoking twice changes nothing');
    assert.equal((await (await fetch(`${server.url}/elevations/${active.id}`)).json() as { active: boolean }).active, false);
    let types: string[] = [];
    for (let waited = 0; !types.includes('elevation.revoked') && waited < 6000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      types = (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.elevation === active.id).map((event) => event.type);
    }
    assert.deepEqual(types, ['elevation.break_glass', 'elevation.revoked']);
  });
});
