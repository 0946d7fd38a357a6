import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allEvents } from '../../src/audit/index.ts';
import { SecondFactors } from '../../src/authorization-server/accounts/second-factors.ts';
import { CONSOLE_SECTIONS } from '../../src/admin/navigation.ts';
import { ABSOLUTE_SECONDS, IDLE_SECONDS, sessionsOfUser, type StoredAdminSession } from '../../src/admin/session.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addConsoleUser, consoleSession, freshTotpCode } from '../support/console.ts';
import { freePort } from '../support/ports.ts';
import { runProject } from '../support/processes.ts';
import { UserAgent } from '../support/user-agent.ts';

describe('the operator console lets in admins with a second factor, approvers to approvals only, and refuses everything else without changing anything', () => {
  let server: TestServer;
  let url: string;
  const events = async () => (await allEvents(server.config.auditDir)).map((record) => record.event);

  before(async () => {
    server = await startTestServer({ SECOND_FACTOR_REQUIRED: 'admin' });
    url = server.consoleUrl;
  });
  after(async () => server?.destroy());

  it('sends a visitor without a session to the sign-in page on every page, and refuses their form posts', async () => {
    const visitor = new UserAgent(server.issuer);
    for (const section of CONSOLE_SECTIONS) {
      const response = await visitor.get(section.path);
      assert.equal(response.status, 303, section.path);
      assert.match(response.headers.get('location') ?? '', /^\/admin\/sign-in/);
      assert.equal(response.headers.get('cache-control'), 'no-store');
    }
    const posted = await visitor.postForm('/admin/users/add', { csrf: 'x', username: 'mallory-added' });
    assert.equal(posted.status, 401);
    assert.match(await posted.text(), /Sign in to the console first/);
    assert.equal((await server.users.list()).some((user) => user.name === 'mallory-added'), false);
  });

  it('refuses a user with neither role at sign-in, and an approver on every page but the approvals', async () => {
    const plain = await addConsoleUser(server, { roles: [], secondFactor: false, prefix: 'plain' });
    const refused = await consoleSession(url, plain);
    assert.equal(refused.status, 403);
    assert.match(refused.text, /This account cannot use the console/);

    const approver = await addConsoleUser(server, { roles: ['approver'], secondFactor: false, prefix: 'approver' });
    const session = await consoleSession(url, approver);
    assert.equal(session.status, 200);
    for (const section of CONSOLE_SECTIONS) {
      const response = await session.agent.get(section.path);
      const text = await response.text();
      if (section.role === 'approver') {
        assert.equal(response.status, 200, section.path);
        continue;
      }
      assert.equal(response.status, 403, section.path);
      assert.match(text, /This page is for administrators only/);
      assert.doesNotMatch(text, /href="\/admin\/users"/, 'the navigation offers an approver only the approvals');
    }
    const forbidden = await session.agent.postForm('/admin/users/add', { csrf: session.csrf, username: 'approver-added' });
    assert.equal(forbidden.status, 403);
    assert.equal((await server.users.list()).some((user) => user.name === 'approver-added'), false);
    assert.ok((await events()).some((event) => event.type === 'admin.refused' && event.subject === approver.id && event.reason === 'role'));
  });

  it('asks an admin for the authenticator code, counts a wrong one as a failed sign-in, takes a recovery code once, and records the sign-in', async () => {
    const admin = await addConsoleUser(server);
    const agent = new UserAgent(server.issuer);
    const form = await (await agent.get('/admin/sign-in')).text();
    const csrf = () => /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const asked = await agent.postForm('/admin/sign-in', { csrf: csrf(), username: admin.username, password: admin.password });
    assert.equal(asked.status, 200);
    assert.match(await asked.text(), /Code from your authenticator app/);
    assert.equal((await agent.get('/admin/users')).status, 303, 'no session before the second step');

    const wrong = await agent.postForm('/admin/sign-in/second-factor', { csrf: csrf(), code: '000000' === await freshTotpCode(admin.totpSecret!) ? '111111' : '000000' });
    assert.equal(wrong.status, 401);
    assert.ok((await events()).some((event) => event.type === 'second_factor.failed' && event.subject === admin.id));

    const codes = await new SecondFactors(server.store).newRecoveryCodes(admin.id);
    const recovered = await agent.postForm('/admin/sign-in/second-factor', { csrf: csrf(), code: codes[0]! });
    assert.equal(recovered.status, 303);
    assert.equal(recovered.headers.get('location'), '/admin');
    assert.equal((await agent.get('/admin')).status, 200);
    assert.equal((await agent.get('/admin/')).status, 200, 'with a trailing slash too');
    const signedIn = (await events()).find((event) => event.type === 'admin.signed_in' && event.subject === admin.id);
    assert.equal(signedIn?.second_factor, 'recovery_code');

    const again = new UserAgent(server.issuer);
    const secondForm = await (await again.get('/admin/sign-in')).text();
    const token = /name="csrf" value="([^"]+)"/.exec(secondForm)![1]!;
    await again.postForm('/admin/sign-in', { csrf: token, username: admin.username, password: admin.password });
    const reused = await again.postForm('/admin/sign-in/second-factor', { csrf: token, code: codes[0]! });
    assert.equal(reused.status, 401, 'a recovery code works once');
  });

  it('tells an admin who must have a second factor and has none to set one up first, and gives no session', async () => {
    const admin = await addConsoleUser(server, { secondFactor: false });
    const session = await consoleSession(url, admin);
    assert.equal(session.status, 403);
    assert.match(session.text, /needs a second factor/);
    assert.match(session.text, /href="[^"]*\/account"/);
    assert.equal((await session.agent.get('/admin')).status, 303);
    assert.ok((await events()).some((event) => event.type === 'admin.refused' && event.subject === admin.id && event.reason === 'second_factor_missing'));
  });

  it('refuses a forged or missing form token and records the refusal; the user stays as they were', async () => {
    const admin = await addConsoleUser(server);
    const target = await addConsoleUser(server, { roles: [], secondFactor: false, prefix: 'target' });
    const { agent } = await consoleSession(url, admin);
    for (const csrf of ['forged', '']) {
      const response = await agent.postForm(`/admin/users/${target.username}/disable`, { csrf });
      assert.equal(response.status, 403);
      assert.match(await response.text(), /did not come from this console/);
    }
    assert.equal((await server.users.findActiveById(target.id))?.disabled, false);
    assert.ok((await events()).some((event) => event.type === 'admin.refused' && event.subject === admin.id && event.reason === 'form_token'));
  });

  it('changes roles only with the admin\'s password again; a wrong or missing one, or a bad role name, changes nothing', async () => {
    const admin = await addConsoleUser(server);
    const target = await addConsoleUser(server, { roles: [], secondFactor: false, prefix: 'promoted' });
    const { agent, csrf } = await consoleSession(url, admin);
    const wrong = await agent.postForm(`/admin/users/${target.username}/roles`, { csrf, role: 'approver', password: 'not the password' });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /password is not correct; nothing was changed/);
    const missing = await agent.postForm(`/admin/users/${target.username}/roles`, { csrf, role: 'approver' });
    assert.equal(missing.status, 400);
    assert.deepEqual((await server.users.list()).find((user) => user.id === target.id)?.roles, []);

    const badName = await agent.postForm(`/admin/users/${target.username}/roles`, { csrf, role: 'approver', other_roles: 'Ops Team!', password: admin.password });
    assert.equal(badName.status, 400);
    assert.match(await badName.text(), /&quot;Ops Team!&quot; is not a role name/);
    assert.deepEqual((await server.users.list()).find((user) => user.id === target.id)?.roles, []);

    const done = await agent.postForm(`/admin/users/${target.username}/roles`, { csrf, role: 'approver', other_roles: 'support', password: admin.password });
    assert.equal(done.status, 303);
    assert.deepEqual((await server.users.list()).find((user) => user.id === target.id)?.roles, ['approver', 'support']);
    const changed = (await events()).find((event) => event.type === 'admin.user.roles_changed' && event.user === target.id);
    assert.equal(changed?.subject, admin.id, 'the admin is the subject of the event');
    assert.deepEqual(changed?.added, ['approver', 'support']);
  });

  it('ends a session that was idle too long: a page leads to sign-in, a form post changes nothing', async () => {
    const admin = await addConsoleUser(server);
    const target = await addConsoleUser(server, { roles: [], secondFactor: false, prefix: 'idle' });
    const { agent, csrf } = await consoleSession(url, admin);
    const [record] = await server.store.findByTag<StoredAdminSession>(sessionsOfUser(admin.id));
    assert.ok(record);
    const idle = { ...record.value, lastSeenAt: record.value.lastSeenAt - IDLE_SECONDS - 1 };
    await server.store.put(record.key, idle, { ttlSeconds: 60, tags: [sessionsOfUser(admin.id)] });

    const posted = await agent.postForm(`/admin/users/${target.username}/disable`, { csrf });
    assert.equal(posted.status, 401);
    assert.match(await posted.text(), /session ended/);
    assert.equal((await server.users.findActiveById(target.id))?.disabled, false);
    assert.equal(await server.store.get(record.key), undefined, 'the timed-out session is gone');
    const page = await agent.get('/admin/users');
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/admin/sign-in?next=%2Fadmin%2Fusers', 'the ended session\'s cookie was cleared by the refused post');
  });

  it('ends a session 8 hours after sign-in however busy it was', async () => {
    const approver = await addConsoleUser(server, { roles: ['approver'], secondFactor: false, prefix: 'long-day' });
    const { agent } = await consoleSession(url, approver);
    assert.equal((await agent.get('/admin/approvals')).status, 200);
    const [record] = await server.store.findByTag<StoredAdminSession>(sessionsOfUser(approver.id));
    assert.ok(record);
    await server.store.put(record.key, { ...record.value, startedAt: record.value.startedAt - ABSOLUTE_SECONDS - 1 }, { ttlSeconds: 60, tags: [sessionsOfUser(approver.id)] });
    assert.equal((await agent.get('/admin/approvals')).status, 303);
  });

  it('records a change made with the portcullis users command as an admin event of the OS user, through the running server', async () => {
    const target = await addConsoleUser(server, { roles: [], secondFactor: false, prefix: 'cli-target' });
    const disabled = await runProject('src/cli/main.ts', ['users', 'disable', target.username], { env: { DATA_DIR: server.dirs.dataDir, KEYS_DIR: server.dirs.keysDir } });
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /their sessions and app access were ended/);
    let recorded: Record<string, unknown> | undefined;
    for (let waited = 0; !recorded && waited < 10_000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      recorded = (await events()).find((event) => event.type === 'admin.user.disabled' && event.user === target.id);
    }
    assert.ok(recorded, 'the outbox event reached the log');
    assert.match(String(recorded.subject), /^cli:/);
    assert.equal(recorded.via, 'cli');
  });

  it('does not add a user when the audit log cannot record it, and says so', async () => {
    const admin = await addConsoleUser(server);
    const { agent, csrf } = await consoleSession(url, admin);
    await server.audit.close();
    const response = await agent.postForm('/admin/users/add', { csrf, username: 'unrecorded', new_password: 'a long enough password' });
    assert.equal(response.status, 503);
    assert.match(await response.text(), /could not be recorded in the audit log, so it was not made/);
    assert.equal((await server.users.list()).some((user) => user.name === 'unrecorded'), false);
  });
});

describe('ADMIN_PORT puts the console on its own listener, where ADMIN_ALLOWLIST applies', () => {
  it('serves /admin only on ADMIN_PORT (404 on the main port), shares the port with METRICS_PORT when asked, and refuses addresses outside the allowlist', async () => {
    const adminPort = await freePort();
    const separate = await startTestServer({ ADMIN_PORT: String(adminPort) });
    try {
      assert.equal(separate.consoleUrl, `http://127.0.0.1:${adminPort}/admin`);
      assert.equal((await fetch(`${separate.url}/admin/sign-in`)).status, 404);
      const page = await fetch(`${separate.consoleUrl}/sign-in`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal((await fetch(`${separate.consoleUrl}/assets/console.css`)).status, 200);
    } finally {
      await separate.destroy();
    }
    const sharedPort = await freePort();
    const shared = await startTestServer({ ADMIN_PORT: String(sharedPort), METRICS_PORT: String(sharedPort) });
    try {
      assert.equal(shared.consoleUrl, `${shared.admin!.url}/admin`);
      assert.equal((await fetch(`${shared.admin!.url}/metrics`)).status, 200);
      assert.equal((await fetch(`${shared.consoleUrl}/sign-in`)).status, 200);
    } finally {
      await shared.destroy();
    }
    const walled = await startTestServer({ ADMIN_ALLOWLIST: '192.0.2.0/24' });
    try {
      const refused = await fetch(`${walled.consoleUrl}/sign-in`);
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /cannot be used from this address/);
    } finally {
      await walled.destroy();
    }
  });
});
