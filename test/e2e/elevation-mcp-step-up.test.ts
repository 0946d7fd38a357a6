import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as sdk2 from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { allEvents, type AuditEvent, type AuditSink } from '../../src/audit/index.ts';
import { alertSignature, SIGNATURE_HEADER } from '../../src/authorization-server/elevation/alert-webhook.ts';
import { launchBrowser, nextRedirectTo, openLoopbackPage, serveRedirectUri, type LoopbackPage } from '../support/browser.ts';
import { reloadWaiting, walkAuthorization } from '../support/elevation.ts';
import { ChallengeRecordingClient, InMemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { startNotesStack, type NotesStack } from '../support/notes-server.ts';
import { addUser } from '../support/oauth-client.ts';
import { UserAgent } from '../support/user-agent.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

const REDIRECT_URL = 'http://127.0.0.1:45874/callback';
const WEBHOOK_SECRET = 'webhook-secret-0123456789abcdef';
const PHONE = { javaScriptEnabled: false, viewport: { width: 390, height: 844 } };

type TestUser = Awaited<ReturnType<typeof addUser>>;

// The hosts keep every token they are given: the SDKs step up through their transports alone.
describe('step-up to an elevated scope with the official MCP SDK clients', () => {
  let stack: NotesStack;
  let browser: Browser;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const toolEvents: AuditEvent[] = [];
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let admin: TestUser;

  before(async () => {
    webhook = await startWebhookReceiver({ failFirst: 1 });
    const toolAudit: AuditSink = { append: async (event) => { toolEvents.push(event); return { seq: toolEvents.length }; } };
    stack = await startNotesStack({ ALERT_WEBHOOK_URL: webhook.url, ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET }, { audit: toolAudit });
    browser = await launchBrowser();
    const { users } = stack.authorizationServer;
    [alice, bob, carol, admin] = [await addUser(stack.authorizationServer, 'alice'), await addUser(stack.authorizationServer, 'bob'), await addUser(stack.authorizationServer, 'carol'), await addUser(stack.authorizationServer, 'admin')];
    await users.changeRoles(bob.username, { add: ['approver'] });
    await users.changeRoles(carol.username, { add: ['break-glass'] });
    await users.changeRoles(admin.username, { add: ['admin'] });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await webhook?.close();
  });

  /** An MCP host for one user, signed in with everyday scopes (a first 401, our pages, the code). */
  async function signedInHost(user: TestUser): Promise<{ oauth: ChallengeRecordingClient; agent: UserAgent }> {
    const oauth = new ChallengeRecordingClient({ redirectUrl: REDIRECT_URL, clientName: 'Step-up host' });
    const agent = new UserAgent(stack.authorizationServer.issuer);
    const transport = new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth, fetch: oauth.fetch });
    await assert.rejects(new Client({ name: 'host', version: '0' }).connect(transport), UnauthorizedError);
    const end = await walkAuthorization(agent, oauth.authorizationUrl!, user, { reason: '' });
    assert.equal(end.kind, 'left');
    await transport.finishAuth(end.kind === 'left' ? end.url.searchParams.get('code')! : '');
    return { oauth, agent };
  }

  async function connected(oauth: ChallengeRecordingClient): Promise<Client> {
    const client = new Client({ name: 'host', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth, fetch: oauth.fetch }));
    return client;
  }

  /** Calls delete_all_notes; the SDK meets the 403 and asks the host to send the user to this URL. */
  async function stepUpNeeded(oauth: ChallengeRecordingClient): Promise<URL> {
    const client = await connected(oauth);
    try {
      oauth.authorizationUrl = undefined;
      await assert.rejects(client.callTool({ name: 'delete_all_notes', arguments: {} }), UnauthorizedError);
    } finally {
      await client.close();
    }
    const challenge = oauth.challenges.at(-1)!;
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="[^"]*\bnotes:admin\b[^"]*"/);
    assert.match(challenge, /resource_metadata="/);
    const url = oauth.authorizationUrl!;
    assert.ok(url, 'the SDK started a new authorization request');
    assert.equal(oauth.tokens(), undefined, 'its refresh was refused with invalid_grant, so SDK 1.x dropped its tokens and asked the user');
    assert.match(url.searchParams.get('scope') ?? '', /\bnotes:admin\b/);
    return url;
  }

  async function finishWith(oauth: ChallengeRecordingClient, callback: URL): Promise<void> {
    const transport = new StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth, fetch: oauth.fetch });
    await transport.finishAuth(callback.searchParams.get('code')!);
  }

  async function deleteAllNotes(oauth: ChallengeRecordingClient): Promise<string> {
    const client = await connected(oauth);
    try {
      const result = await client.callTool({ name: 'delete_all_notes', arguments: {} });
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
      return JSON.stringify(result.content);
    } finally {
      await client.close();
    }
  }

  async function phonePage(): Promise<LoopbackPage> {
    const opened = await openLoopbackPage(browser, PHONE);
    await serveRedirectUri(opened.context, REDIRECT_URL);
    return opened;
  }

  async function assertFitsPhone(page: Page, label: string): Promise<void> {
    const card = await page.locator('main').boundingBox();
    assert.ok(card && card.x >= 0 && card.x + card.width <= 390, `${label}: the card fits a 390px screen`);
  }

  async function consoleSignIn(page: Page, user: TestUser): Promise<void> {
    await page.goto(`${stack.authorizationServer.issuer}/admin/approvals`);
    assert.equal(await page.locator('h1').textContent(), 'Console sign-in');
    await page.locator('input[name=username]').fill(user.username);
    await page.locator('input[name=password]').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/approvals$/);
    assert.equal(await page.locator('h1').textContent(), 'Approvals');
  }

  it('goes from the 403 through a fresh password, a reason and an approver\'s yes in Chromium to a tool call that succeeds, then stops within 5 s of revocation', async () => {
    const { oauth, agent } = await signedInHost(alice);
    const stepUp = await stepUpNeeded(oauth);

    const seen: { passwordAsked?: number } = {};
    const reason = 'clean up notes after the data-retention request';
    const waiting = await walkAuthorization(agent, stepUp, alice, { reason, minutes: 15, ticket: 'PRIV-7' }, seen);
    assert.equal(seen.passwordAsked, 1, 'the password is asked again despite the session');
    assert.equal(waiting.kind, 'waiting');
    const waitingUrl = waiting.kind === 'waiting' ? waiting.url : new URL(stack.resource);

    const approver = await phonePage();
    try {
      await consoleSignIn(approver.page, bob);
      const request = approver.page.locator('section.request', { hasText: reason });
      assert.match(await request.textContent() ?? '', new RegExp(`${alice.username}[\\s\\S]*notes:admin[\\s\\S]*15 minutes[\\s\\S]*PRIV-7[\\s\\S]*Step-up host`));
      await assertFitsPhone(approver.page, 'approvals page');
      await request.getByRole('button', { name: 'Approve' }).click();
      await approver.page.waitForURL(/done=approved/);
      assert.match(await approver.page.locator('.notice').textContent() ?? '', /Approved/);
    } finally {
      await approver.close();
    }

    const done = await reloadWaiting(agent, waitingUrl, alice);
    assert.equal(done.kind, 'left');
    await finishWith(oauth, done.kind === 'left' ? done.url : new URL(REDIRECT_URL));
    const claims = decodeJwt(oauth.tokens()!.access_token);
    const elevation = claims.elevation as { id: string; reason: string; approver: string; end: number };
    assert.equal(elevation.approver, bob.username);
    assert.equal(claims.exp, elevation.end);
    assert.match(await deleteAllNotes(oauth), /Deleted \d+ notes/);
    const requested = toolEvents.find((event) => event.type === 'tool.requested' && event.tool === 'delete_all_notes');
    assert.equal(requested?.elevation, elevation.id, 'the tool-call audit record names the elevation');
    assert.equal(requested?.elevation_reason, reason);

    // Revocation in the console: the next privileged call within 5 s is refused with the step-up challenge.
    const revoker = await phonePage();
    let revokedAt: number;
    try {
      await consoleSignIn(revoker.page, bob);
      await revoker.page.locator(`#active-${elevation.id}`).getByRole('button', { name: 'End now' }).click();
      await revoker.page.waitForURL(/done=revoked/);
      revokedAt = Date.now();
    } finally {
      await revoker.close();
    }
    let refused = false;
    while (!refused && Date.now() - revokedAt < 5000) {
      const client = await connected(oauth);
      try {
        await client.callTool({ name: 'delete_all_notes', arguments: {} });
        await new Promise((resolve) => setTimeout(resolve, 250));
      } catch (error) {
        assert.ok(error instanceof UnauthorizedError, String(error));
        refused = true;
      } finally {
        await client.close();
      }
    }
    assert.ok(refused, 'a revoked elevation is refused within 5 seconds');
    assert.match(oauth.challenges.at(-1)!, /no longer active/);

    const types = (await allEvents(stack.authorizationServer.config.auditDir)).map((record) => record.event)
      .filter((event) => event.elevation === elevation.id).map((event) => event.type);
    assert.deepEqual(types, ['elevation.requested', 'elevation.approved', 'elevation.revoked']);
  });

  async function approveInConsole(reason: string): Promise<void> {
    const approver = await phonePage();
    try {
      await consoleSignIn(approver.page, bob);
      await approver.page.locator('section.request', { hasText: reason }).getByRole('button', { name: 'Approve' }).click();
      await approver.page.waitForURL(/done=approved/);
    } finally {
      await approver.close();
    }
  }

  it('takes the MCP client 2.x from the 403 through the elevation and an approver\'s yes to a privileged tool call that succeeds', async () => {
    const agent = new UserAgent(stack.authorizationServer.issuer);
    const host = new InMemoryOAuthClient({ redirectUrl: REDIRECT_URL, clientName: 'SDK 2 step-up host' });
    const oauth = host as unknown as sdk2.OAuthClientProvider;
    const transport = () => new sdk2.StreamableHTTPClientTransport(new URL(stack.resource), { authProvider: oauth });
    const first = transport();
    await assert.rejects(new sdk2.Client({ name: 'sdk2-host', version: '0' }).connect(first), sdk2.UnauthorizedError);
    const signedIn = await walkAuthorization(agent, host.authorizationUrl!, alice, { reason: '' });
    assert.equal(signedIn.kind, 'left');
    await first.finishAuth(signedIn.kind === 'left' ? signedIn.url.searchParams : new URLSearchParams());

    const client = new sdk2.Client({ name: 'sdk2-host', version: '0' });
    const stepping = transport();
    await client.connect(stepping);
    host.authorizationUrl = undefined;
    await assert.rejects(client.callTool({ name: 'delete_all_notes', arguments: {} }), sdk2.UnauthorizedError);
    await client.close();
    const stepUp = host.authorizationUrl!;
    assert.ok(stepUp, 'the SDK started a new authorization request');
    assert.match(stepUp.searchParams.get('scope') ?? '', /\bnotes:admin\b/);
    assert.match(stepUp.searchParams.get('scope') ?? '', /\bnotes:write\b/, 'it asks for the union of what it had and what the tool needs');

    const reason = 'merge duplicate notes for the audit, SDK 2';
    const waiting = await walkAuthorization(agent, stepUp, alice, { reason, minutes: 15 });
    assert.equal(waiting.kind, 'waiting');
    await approveInConsole(reason);
    const done = await reloadWaiting(agent, waiting.kind === 'waiting' ? waiting.url : stepUp, alice);
    assert.equal(done.kind, 'left');
    await stepping.finishAuth(done.kind === 'left' ? done.url.searchParams : new URLSearchParams());
    assert.match(host.tokens()!.scope ?? '', /\bnotes:admin\b/);

    const elevated = new sdk2.Client({ name: 'sdk2-host', version: '0' });
    await elevated.connect(transport());
    try {
      const result = await elevated.callTool({ name: 'delete_all_notes', arguments: {} });
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
      assert.match(JSON.stringify(result.content), /Deleted \d+ notes/);
    } finally {
      await elevated.close();
    }
  });

  it('lets a break-glass user take emergency access at once, alerts with a signed webhook, and keeps it on the console until an admin reviews it', async () => {
    const { oauth } = await signedInHost(carol);
    const stepUp = await stepUpNeeded(oauth);
    const gauge = async () => (await stack.authorizationServer.metrics.registry.getSingleMetricAsString('portcullis_break_glass_unacknowledged')).match(/ (\d+)$/m)?.[1];
    assert.equal(await gauge(), '0');

    const requester = await phonePage();
    let callback: URL;
    try {
      const { page } = requester;
      await page.goto(stepUp.href);
      await page.locator('input[name=username]').fill(carol.username);
      await page.locator('input[name=password]').fill(carol.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('textarea[name=reason]');
      assert.equal(await page.locator('h1').textContent(), 'Elevated access');
      await assertFitsPhone(page, 'elevation page');
      await page.locator('textarea[name=reason]').fill('database on fire, no approver awake');
      await page.getByRole('button', { name: 'Use emergency access' }).click();
      // Then the usual consent page, as for any scope not granted before.
      await page.waitForSelector('button[name=decision][value=approve]');
      const redirect = nextRedirectTo(page, REDIRECT_URL);
      await page.locator('button[name=decision][value=approve]').click();
      callback = await redirect;
    } finally {
      await requester.close();
    }
    await finishWith(oauth, callback);
    const elevation = decodeJwt(oauth.tokens()!.access_token).elevation as { id: string; break_glass?: boolean };
    assert.equal(elevation.break_glass, true);
    assert.match(await deleteAllNotes(oauth), /Deleted \d+ notes/);
    assert.equal(await gauge(), '1');

    // The webhook failed once and was retried; the body is signed with the shared secret.
    for (let waited = 0; webhook.received.length === 0 && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    const [hook] = webhook.received;
    assert.ok(hook, 'the alert arrived after a retry');
    assert.equal(webhook.attempts, 2);
    assert.equal(hook.headers[SIGNATURE_HEADER.toLowerCase()], alertSignature(WEBHOOK_SECRET, hook.body));
    const alert = JSON.parse(hook.body) as Record<string, unknown>;
    assert.equal(alert.event, 'elevation.break_glass');
    assert.equal(alert.requester, carol.username);
    assert.equal(alert.elevation, elevation.id);

    const reviewer = await phonePage();
    try {
      await consoleSignIn(reviewer.page, admin);
      const entry = reviewer.page.locator(`#break-glass-${elevation.id}`);
      assert.match(await entry.textContent() ?? '', /database on fire/);
      await entry.getByRole('button', { name: 'Mark as reviewed' }).click();
      await reviewer.page.waitForURL(/done=acknowledged/);
      assert.equal(await reviewer.page.locator(`#break-glass-${elevation.id}`).count(), 0);
    } finally {
      await reviewer.close();
    }
    assert.equal(await gauge(), '0');
    const types = (await allEvents(stack.authorizationServer.config.auditDir)).map((record) => record.event)
      .filter((event) => event.elevation === elevation.id).map((event) => event.type);
    assert.deepEqual(types, ['elevation.break_glass', 'elevation.acknowledged']);
  });
});
