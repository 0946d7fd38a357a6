import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { allEvents } from '../../src/audit/index.ts';
import { cliActor } from '../../src/admin/admin-events.ts';
import { ClientService } from '../../src/admin/clients/index.ts';
import { modelKey } from '../../src/authorization-server/adapter.ts';
import { auditOutbox } from '../../src/authorization-server/audit-outbox.ts';
import { silentLogger } from '../../src/log/index.ts';
import { NOTES_RESOURCE, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, openLoopbackPage } from '../support/browser.ts';
import { addConsoleUser, consoleSession, signInToConsole } from '../support/console.ts';
import { addUser, client, codeFlow, discover } from '../support/oauth-client.ts';
import { register } from '../support/registration.ts';

const REDIRECT_URI = 'https://app.example.test/callback';
const ELEVATED_RESOURCE = {
  uri: 'https://deploy.example.test/mcp', name: 'Deploy tools', scopes: ['deploy:read', 'deploy:run'], defaultScopes: ['deploy:read'], default: false,
  scopeDescriptions: { 'deploy:read': 'See deployments', 'deploy:run': 'Start a deployment' },
  scopeRoles: { 'deploy:run': ['operator'] }, accessTokenTtlSeconds: 600,
  elevation: [{ scopes: ['deploy:run'], maxDurationSeconds: 1800, reasonRequired: true, approval: 'one-approver' as const, breakGlass: true, approvalTimeoutSeconds: 900 }],
};

async function screenshots(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  await page.screenshot({ path: `/tmp/portcullis-console-${name}-desktop.png`, fullPage: true });
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `/tmp/portcullis-console-${name}-phone.png`, fullPage: true });
  if (desktop) await page.setViewportSize(desktop);
}

describe('the console\'s Clients and Resources pages', () => {
  let server: TestServer;
  let browser: Browser;
  let clients: ClientService;
  const events = async (type: string) => (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.type === type);

  before(async () => {
    server = await startTestServer({}, undefined, [ELEVATED_RESOURCE]);
    browser = await launchBrowser();
    clients = new ClientService({ store: server.store, staticClients: server.config.clients, audit: auditOutbox(server.store), log: silentLogger() });
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('lets an admin see a client\'s use, make it a new secret (shown once: the old one is refused, the new one works), revoke all its grants and delete it', async () => {
    const admin = await addConsoleUser(server);
    const user = await addUser(server);
    const added = await clients.add({ name: 'Shop assistant', redirectUris: [REDIRECT_URI], confidential: true }, cliActor());
    const withOldSecret = await discover(server, added.client_id, client.ClientSecretPost(added.client_secret!));
    const { tokens } = await codeFlow(withOldSecret, server, user, { redirectUri: REDIRECT_URI, scope: 'notes:read', resource: NOTES_RESOURCE });
    // The last use is written beside the token response; wait until it is there.
    for (let attempt = 0; attempt < 200 && !(await server.store.get(`client-last-used:${added.client_id}`)); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));

    const { page, blockedRequests, close } = await openLoopbackPage(browser, { javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    try {
      await signInToConsole(page, server.consoleUrl, admin);
      await page.goto(`${server.consoleUrl}/clients`);
      const row = page.locator('tr', { hasText: 'Shop assistant' });
      assert.match(await row.innerText(), /added by an operator\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+1$/);
      assert.match(await page.locator('tr', { hasText: 'Test Public Client' }).innerText(), /configuration file\s+not yet\s+0/);
      await screenshots(page, 'clients');

      await row.getByRole('link').click();
      await page.fill('input[name=password]', admin.password);
      await page.getByRole('button', { name: 'Make a new secret' }).click();
      const newSecret = (await page.locator('.once code').innerText()).trim();
      assert.match(newSecret, /^[\w-]{43}$/);
      await screenshots(page, 'client-secret');
      await page.goto(`${server.consoleUrl}/clients/client?id=${encodeURIComponent(added.client_id)}`);
      assert.equal(await page.locator('.once').count(), 0, 'the secret is shown once');

      await assert.rejects(client.refreshTokenGrant(withOldSecret, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_client');
      const withNewSecret = await discover(server, added.client_id, client.ClientSecretPost(newSecret));
      const refreshed = await client.refreshTokenGrant(withNewSecret, tokens.refresh_token!);
      assert.ok(refreshed.access_token, 'the new secret works at /token');

      assert.match(await page.locator('.panel', { hasText: 'Revoke all grants' }).innerText(), /keep working until they expire, within 60 minutes/);
      await page.getByRole('button', { name: 'Revoke all grants' }).click();
      assert.match(await page.locator('.banner.notice').innerText(), /All grants ended/);
      assert.match(await page.locator('tr', { hasText: 'Active grants' }).innerText(), /0$/);
      await assert.rejects(client.refreshTokenGrant(withNewSecret, refreshed.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');

      await page.check('input[name=confirm]');
      await page.getByRole('button', { name: 'Delete client' }).click();
      assert.match(await page.locator('.banner.notice').innerText(), /Client deleted/);
      assert.equal(await page.locator('tr', { hasText: 'Shop assistant' }).count(), 0);
      assert.equal(await server.store.get(modelKey('Client', added.client_id)), undefined);
      await assert.rejects(client.clientCredentialsGrant(withNewSecret), (error: client.ResponseBodyError) => error.error === 'invalid_client' || error.error === 'unauthorized_client');
      assert.deepEqual(blockedRequests, []);
    } finally {
      await close();
    }
    for (const type of ['admin.client.secret_rotated', 'admin.client.grants_revoked', 'admin.client.deleted']) {
      const [event] = await events(type);
      assert.deepEqual([event?.client, event?.subject, event?.via], [added.client_id, admin.id, 'console'], type);
    }
  });

  it('refuses an unknown client, deleting a static client, a delete without confirmation and a forged form, changing nothing', async () => {
    const admin = await addConsoleUser(server);
    const { agent, csrf } = await consoleSession(server.consoleUrl, admin);
    const unknown = await agent.get(`${server.consoleUrl}/clients/client?id=no-such-client`);
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /There is no such client/);
    const unknownRevoke = await agent.postForm(`${server.consoleUrl}/clients/revoke-grants`, { csrf, client_id: 'no-such-client' });
    assert.equal(unknownRevoke.status, 404);

    const before = await clients.list();
    const staticDelete = await agent.postForm(`${server.consoleUrl}/clients/delete`, { csrf, client_id: 'test-confidential-client', confirm: 'yes' });
    assert.equal(staticDelete.status, 409);
    assert.match(await staticDelete.text(), /configuration file \(CONFIG_FILE\).*Nothing was changed/s);
    const staticRotate = await agent.postForm(`${server.consoleUrl}/clients/rotate-secret`, { csrf, client_id: 'test-confidential-client', password: admin.password });
    assert.equal(staticRotate.status, 409);

    const operator = await clients.add({ name: 'Kept app', redirectUris: [REDIRECT_URI], confidential: false }, cliActor());
    const unconfirmed = await agent.postForm(`${server.consoleUrl}/clients/delete`, { csrf, client_id: operator.client_id });
    assert.equal(unconfirmed.status, 400);
    const forged = await agent.postForm(`${server.consoleUrl}/clients/delete`, { csrf: 'forged', client_id: operator.client_id, confirm: 'yes' });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /did not come from this console/);
    const noPassword = await agent.postForm(`${server.consoleUrl}/clients/rotate-secret`, { csrf, client_id: operator.client_id });
    assert.equal(noPassword.status, 400);
    assert.match(await noPassword.text(), /Enter your password/);
    const badDays = await agent.get(`${server.consoleUrl}/clients/clean-up?days=0`);
    assert.equal(badDays.status, 400);
    assert.match(await badDays.text(), /Days: enter a whole number from 1 to 3650/);

    const after = await clients.list();
    assert.deepEqual(after.filter((entry) => entry.clientId !== operator.client_id), before);
    assert.ok(after.some((entry) => entry.clientId === operator.client_id));
    assert.equal((await events('admin.client.deleted')).filter((event) => event.subject === admin.id).length, 0);
  });

  it('cleans up, after a preview, only the registered clients unused for the days given', async () => {
    const admin = await addConsoleUser(server);
    const idle = await register(server, { client_name: 'Forgotten connector', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
    const fresh = await register(server, { client_name: 'Fresh connector', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' });
    const operator = await clients.add({ name: 'Old operator app', redirectUris: [REDIRECT_URI], confidential: false }, cliActor());
    for (const clientId of [idle.body.client_id!, operator.client_id]) {
      const stored = (await server.store.get<Record<string, unknown>>(modelKey('Client', clientId)))!;
      await server.store.put(modelKey('Client', clientId), { ...stored.value, client_id_issued_at: Math.floor(Date.now() / 1000) - 40 * 86_400 }, { tags: ['clients'] });
    }

    const { page, close } = await openLoopbackPage(browser, { javaScriptEnabled: false });
    try {
      await signInToConsole(page, server.consoleUrl, admin);
      await page.goto(`${server.consoleUrl}/clients`);
      await page.fill('#idle-days', '30');
      await page.getByRole('button', { name: 'Show them' }).click();
      assert.match(await page.locator('main').innerText(), /1 registered client has got no tokens for 30 days/);
      assert.equal(await page.locator('tr', { hasText: 'Forgotten connector' }).count(), 1);
      assert.equal(await page.locator('tr', { hasText: 'Fresh connector' }).count(), 0);
      await page.getByRole('button', { name: 'Delete 1 client' }).click();
      assert.match(await page.locator('.banner.notice').innerText(), /Unused registered clients deleted/);
    } finally {
      await close();
    }
    const left = new Set((await clients.list()).map((entry) => entry.clientId));
    assert.deepEqual([left.has(idle.body.client_id!), left.has(fresh.body.client_id!), left.has(operator.client_id)], [false, true, true]);
    const [event] = await events('admin.client.cleaned_up');
    assert.deepEqual([event?.clients, event?.subject], [[idle.body.client_id], admin.id]);
  });

  it('shows each resource with its scopes, who may grant them and the policy of the elevated ones', async () => {
    const admin = await addConsoleUser(server);
    const { page, close } = await openLoopbackPage(browser, { javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
    try {
      await signInToConsole(page, server.consoleUrl, admin);
      await page.goto(`${server.consoleUrl}/resources`);
      const deploy = page.locator('section.panel', { hasText: 'Deploy tools' });
      assert.match(await deploy.innerText(), /https:\/\/deploy\.example\.test\/mcp/);
      assert.match(await deploy.innerText(), /Access tokens last\s+10 min/);
      assert.match(await deploy.locator('tr', { hasText: 'See deployments' }).innerText(), /deploy:read default\s+See deployments\s+anyone/);
      assert.match(await deploy.locator('tr', { hasText: 'Start a deployment' }).innerText(), /deploy:run elevated\s+Start a deployment\s+operator/);
      assert.match(await deploy.locator('table.facts').nth(1).innerText(), /Longest elevation\s+30 min\s+Reason\s+required\s+Approval\s+one approver, who has 15 min to decide\s+Break-glass\s+users with the break-glass role/);
      assert.match(await page.locator('section.panel', { hasText: 'Notes' }).innerText(), /Access tokens last\s+60 min/);
      await screenshots(page, 'resources');
    } finally {
      await close();
    }
  });
});
