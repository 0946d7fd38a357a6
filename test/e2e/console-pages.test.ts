import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { allEvents } from '../../src/audit/index.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, openTestPage } from '../support/browser.ts';
import { addConsoleUser, signInToConsole } from '../support/console.ts';

const NO_JS: BrowserContextOptions = { javaScriptEnabled: false };
const PHONE: BrowserContextOptions = { ...NO_JS, viewport: { width: 390, height: 844 } };

async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS === '1') await page.screenshot({ path: `/tmp/portcullis-console-${name}.png`, fullPage: true });
}

/** Nothing sticks out sideways: the page fits the phone's width. */
async function assertFitsWidth(page: Page, width: number, label: string): Promise<void> {
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  assert.ok(scrollWidth <= width, `${label}: ${scrollWidth}px wide on a ${width}px screen`);
}

describe('the operator console in Chromium, without JavaScript', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer({ SECOND_FACTOR_REQUIRED: 'admin' }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('lets an admin sign in with an authenticator code, add a user with a password shown once, disable them, and give them a role with the password again', async (t: TestContext) => {
    const admin = await addConsoleUser(server);
    const { page } = await openTestPage(t, browser, NO_JS, []);
    await page.goto(`${server.consoleUrl}/users`);
    assert.match(page.url(), /\/admin\/sign-in\?next=%2Fadmin%2Fusers$/);
    await screenshot(page, 'sign-in-desktop');
    await signInToConsole(page, server.consoleUrl, admin);
    assert.match(page.url(), /\/admin\/users$/, 'back on the page asked for');
    assert.equal(await page.locator('h1').textContent(), 'Users');

    const newName = `dora-${process.pid}`;
    await page.fill('#new-username', newName);
    await page.click('text=Add user');
    assert.match(await page.locator('.banner').textContent() ?? '', new RegExp(`Added ${newName}`));
    const shownOnce = (await page.locator('.once code').textContent())!.trim();
    assert.ok(shownOnce.length >= 20, 'a made-up password is shown');
    assert.ok(await server.users.authenticate(newName, shownOnce), 'the shown password signs them in');
    await page.click(`text=Open ${newName}`);
    await screenshot(page, 'user-desktop');
    assert.equal(await page.locator('.once').count(), 0, 'the password is not shown again');

    await page.click('button:has-text("Disable")');
    assert.match(await page.locator('.banner').textContent() ?? '', /Disabled/);
    assert.equal(await server.users.authenticate(newName, shownOnce), undefined, 'a disabled user cannot sign in');

    await page.check('input[name=role][value=approver]');
    const rolesPassword = page.locator('form[action$="/roles"] input[name=password]');
    await rolesPassword.fill('not my password');
    await page.click('text=Save roles');
    assert.match(await page.locator('.banner').textContent() ?? '', /password is not correct; nothing was changed/);
    await page.goBack();
    await page.check('input[name=role][value=approver]');
    await rolesPassword.fill(admin.password);
    await page.click('text=Save roles');
    assert.match(await page.locator('.banner').textContent() ?? '', /Roles saved/);
    const user = (await server.users.list()).find((candidate) => candidate.name === newName)!;
    assert.deepEqual(user.roles, ['approver']);

    const types = (await allEvents(server.config.auditDir)).map((record) => record.event).filter((event) => event.subject === admin.id).map((event) => event.type);
    for (const type of ['admin.signed_in', 'admin.user.added', 'admin.user.disabled', 'admin.refused', 'admin.user.roles_changed']) assert.ok((types as string[]).includes(type), type);

    await page.goto(server.consoleUrl);
    assert.equal(await page.locator('h1').textContent(), 'Overview');
    assert.match(await page.locator('main').textContent() ?? '', /admin\.user\.roles_changed/, 'recent events list the change');
    await screenshot(page, 'overview-desktop');
    await page.goto(`${server.consoleUrl}/users`);
    await screenshot(page, 'users-desktop');
    await page.click('text=Sign out');
    assert.match(page.url(), /\/admin\/sign-in$/);
    await page.goto(`${server.consoleUrl}/users`);
    assert.match(page.url(), /\/admin\/sign-in/, 'signed out means signed out');
  });

  it('fits every page an admin and an approver see on a 390 px phone', async (t: TestContext) => {
    const admin = await addConsoleUser(server);
    const someone = await addConsoleUser(server, { roles: ['break-glass'], secondFactor: false, prefix: 'phone' });
    const { page } = await openTestPage(t, browser, PHONE, []);
    await page.goto(`${server.consoleUrl}/sign-in`);
    await assertFitsWidth(page, 390, 'sign-in');
    await screenshot(page, 'sign-in-phone');
    await signInToConsole(page, server.consoleUrl, admin);
    for (const [path, name] of [['', 'overview'], ['/users', 'users'], [`/users/${someone.username}`, 'user'], ['/approvals', 'approvals']] as const) {
      await page.goto(`${server.consoleUrl}${path}`);
      assert.equal((await page.locator('h1').count()), 1);
      await assertFitsWidth(page, 390, name);
      await screenshot(page, `${name}-phone`);
    }

    const approver = await addConsoleUser(server, { roles: ['approver'], secondFactor: false, prefix: 'phone-approver' });
    const other = await openTestPage(t, browser, PHONE, []);
    await signInToConsole(other.page, server.consoleUrl, approver);
    assert.match(other.page.url(), /\/admin\/approvals$/);
    assert.deepEqual(await other.page.locator('.console-nav a').allTextContents(), ['Approvals']);
    const refused = await other.page.goto(`${server.consoleUrl}/users`);
    assert.equal(refused?.status(), 403);
    assert.match(await other.page.locator('.banner').textContent() ?? '', /for administrators only/);
    await assertFitsWidth(other.page, 390, 'refusal');
  });
});
