import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PUBLIC_CLIENT, startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, nextRedirectTo, openLoopbackPage, serveRedirectUri } from '../support/browser.ts';
import { consoleSignIn, consoleToken } from '../support/elevation.ts';
import { addUser, authorizationRequest, discover, type client } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';

const APPROVED = 'https://approved.example.test/';
const REDIRECT = 'http://127.0.0.1/callback';
const HOSTILE = '<img src=x onerror="window.__pwned=1"> restore the table';

describe('elevation pages in headless Chromium, at 390 px, without JavaScript', () => {
  let server: TestServer;
  let browser: Browser;
  let config: client.Configuration;
  let alice: Awaited<ReturnType<typeof addUser>>;
  let bob: Awaited<ReturnType<typeof addUser>>;

  before(async () => {
    server = await startTestServer({}, undefined, [{
      uri: APPROVED, name: 'Approved ops', scopes: ['db:read', 'db:admin'], default: false,
      elevation: [{ scopes: ['db:admin'], maxDurationSeconds: 1800, reasonRequired: true, approval: 'one-approver', breakGlass: false, approvalTimeoutSeconds: 900 }],
    }]);
    browser = await launchBrowser();
    config = await discover(server, PUBLIC_CLIENT.client_id);
    alice = await addUser(server, 'alice');
    bob = await addUser(server, 'bob');
    await server.users.changeRoles(bob.username, { add: ['approver'] });
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  /** Signs in on a phone-sized page without JavaScript and asks for elevated access; returns the waiting page. */
  async function requestOnPhone(t: TestContext, reason: string): Promise<Page> {
    const opened = await openLoopbackPage(browser, { javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    t.after(async () => {
      await opened.close();
      assert.deepEqual(opened.blockedRequests, []);
    });
    await serveRedirectUri(opened.context, REDIRECT);
    const { page } = opened;
    const { url } = await authorizationRequest(config, { redirectUri: REDIRECT, scope: 'db:read db:admin', resource: APPROVED });
    await page.goto(url.href);
    assert.match(await page.locator('.notice').textContent() ?? '', /enter your password again/);
    await page.locator('input[name=username]').fill(alice.username);
    await page.locator('input[name=password]').fill(alice.password);
    const elevationPage = page.waitForResponse((response) => response.request().method() === 'GET' && /\/interaction\/[^/]+$/.test(new URL(response.url()).pathname));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const response = await elevationPage;
    assert.match(response.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await page.locator('h1').textContent(), 'Elevated access');
    assert.match(await page.locator('.redirect-host').textContent() ?? '', /http:\/\/127\.0\.0\.1/);
    assert.deepEqual(await page.locator('select[name=duration] option').allTextContents(), ['5 minutes', '10 minutes', '15 minutes', '30 minutes']);
    const card = await page.locator('main.card').boundingBox();
    assert.ok(card && card.x >= 0 && card.x + card.width <= 390, 'the elevation page fits a 390px screen');
    await page.locator('textarea[name=reason]').fill(reason);
    await page.locator('select[name=duration]').selectOption('30');
    await page.getByRole('button', { name: 'Ask for approval' }).click();
    await page.waitForSelector('meta[http-equiv=refresh]', { state: 'attached' });
    assert.equal(await page.locator('h1').textContent(), 'Waiting for approval');
    assert.equal(await page.locator('meta[http-equiv=refresh]').getAttribute('content'), '3');
    return page;
  }

  async function decideInConsole(reason: string, decision: 'approve' | 'deny'): Promise<string> {
    const agent = new UserAgent(server.issuer);
    const { text } = await consoleSignIn(agent, bob);
    // The reasons end in plain words, which the page shows as they are.
    const section = text.split('<section class="request"').find((part) => part.includes(reason.slice(-15)));
    const id = /action="\/admin\/approvals\/([^"]+)"/.exec(section ?? '')?.[1];
    assert.ok(id, 'the request is listed');
    assert.equal((await agent.postForm(`/admin/approvals/${id}`, { csrf: consoleToken(text), decision })).status, 303);
    return text;
  }

  it('waits on a page that reloads itself, and continues on its own once an approver agrees', async (t) => {
    const page = await requestOnPhone(t, HOSTILE);
    const consolePage = await decideInConsole(HOSTILE, 'approve');
    assert.match(consolePage, /&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt; restore the table/, 'the reason is shown as text');
    await page.waitForSelector('button[name=decision][value=approve]', { timeout: 15_000 });
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    const redirect = nextRedirectTo(page, REDIRECT);
    await page.locator('button[name=decision][value=approve]').click();
    assert.ok((await redirect).searchParams.get('code'));
  });

  it('tells the requester when an approver denies, and goes back to the application with access_denied', async (t) => {
    const reason = 'look at the audit tables please';
    const page = await requestOnPhone(t, reason);
    await decideInConsole(reason, 'deny');
    await page.waitForSelector('text=An approver denied your request.', { timeout: 15_000 });
    const redirect = nextRedirectTo(page, REDIRECT);
    await page.getByRole('button', { name: 'Back to the application' }).click();
    assert.equal((await redirect).searchParams.get('error'), 'access_denied');
  });
});
