import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { allEvents, type AuditEvent } from '../../src/audit/index.ts';
import { launchBrowser, openLoopbackPage } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { addConsoleUser, consoleSession, signInToConsole, type ConsoleSession, type ConsoleUser } from '../support/console.ts';

const WRITTEN: AuditEvent[] = [
  { type: 'tool.executed', subject: 'audit-alice', client: 'audit-client-a', tool: 'create_note' },
  { type: 'tool.executed', subject: 'audit-bob', client: 'audit-client-b', tool: 'delete_note' },
  { type: 'token.issued', subject: 'audit-alice', client: 'audit-client-b', jti: 'audit-jti-1' },
  { type: 'tool.executed', subject: 'audit-alice', client: 'audit-client-b', tool: 'create_note', title_sha256: '<script>alert(1)</script>' },
];

const today = () => new Date().toISOString().slice(0, 10);
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('the console Audit page: find records, open one with its proof, see and run the log check', () => {
  let server: TestServer;
  let browser: Browser;
  let adminUser: ConsoleUser;
  let admin: ConsoleSession;

  before(async () => {
    server = await startTestServer({ AUDIT_VERIFY_SECONDS: '0' });
    for (const event of WRITTEN) await server.audit.log!.append(event);
    await server.audit.log!.checkpoint();
    adminUser = await addConsoleUser(server);
    admin = await consoleSession(server.consoleUrl, adminUser);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  /** The events of the records the page lists, in the order shown. */
  async function listed(query: Record<string, string>): Promise<{ status: number; text: string; events: AuditEvent[] }> {
    const response = await admin.agent.get(`/admin/audit?${new URLSearchParams(query).toString()}`);
    const text = await response.text();
    const bySeq = new Map((await allEvents(server.config.auditDir)).map((record) => [record.seq, record.event]));
    const events = [...text.matchAll(/href="\/admin\/audit\/records\/(\d+)"/g)].map((match) => bySeq.get(Number(match[1]))!);
    return { status: response.status, text, events };
  }

  it('finds records by event type, subject, client, tool and date, newest first', async () => {
    const byType = await listed({ type: 'tool.executed', subject: 'audit-alice' });
    assert.equal(byType.status, 200);
    assert.deepEqual(byType.events.map((event) => event.tool), ['create_note', 'create_note']);
    assert.equal(byType.events[0]!.title_sha256, '<script>alert(1)</script>', 'newest first');
    assert.deepEqual((await listed({ client: 'audit-client-b' })).events.map((event) => event.type), ['tool.executed', 'token.issued', 'tool.executed']);
    assert.deepEqual((await listed({ tool: 'delete_note' })).events.map((event) => event.subject), ['audit-bob']);
    assert.equal((await listed({ subject: 'audit-bob', from: today(), to: today() })).events.length, 1);
    assert.equal((await listed({ subject: 'audit-bob', from: tomorrow() })).events.length, 0);
  });

  it('pages through matches with an Older records link that keeps the filters', async () => {
    const first = await listed({ subject: 'audit-alice', size: '2' });
    assert.equal(first.events.length, 2);
    const older = /href="(\/admin\/audit\?[^"]*before=\d+[^"]*)">Older records/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(older, 'a link to the older records');
    const second = await listed(Object.fromEntries(new URL(older, server.issuer).searchParams));
    assert.deepEqual(second.events.map((event) => event.jti ?? event.tool), ['create_note']);
    assert.doesNotMatch(second.text, /Older records/);
  });

  it('names the field of a bad filter value, keeps what was typed, and searches nothing', async () => {
    for (const [query, problem] of [
      [{ from: 'last tuesday' }, /From: not a date/],
      [{ to: '2026-02-30' }, /To: not a date/],
      [{ from: tomorrow(), to: today() }, /To: must not be before From/],
      [{ type: '<b>login</b>' }, /Event type: an event type such as login.failed/],
      [{ size: '0' }, /Records per page: a number from 1 to 200/],
      [{ subject: 'x'.repeat(201) }, /Subject: at most 200 characters/],
    ] as const) {
      const page = await listed(query);
      assert.equal(page.status, 400, JSON.stringify(query));
      assert.match(page.text, problem);
      assert.match(page.text, /aria-invalid="true"/);
      assert.equal(page.events.length, 0);
    }
    assert.match((await listed({ type: '<b>login</b>' })).text, /value="&lt;b&gt;login&lt;\/b&gt;"/, 'what was typed comes back escaped');
  });

  it('opens a record with its fields escaped and its inclusion proof verified against the newest checkpoint', async () => {
    const records = await allEvents(server.config.auditDir);
    const seq = records.find((record) => record.event.title_sha256)!.seq;
    const response = await admin.agent.get(`/admin/audit/records/${seq}`);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.match(text, /This record is in the signed log of \d+ records: verified just now/);
    assert.match(text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(text, /<script>alert/);
    assert.match(text, /<pre class="audit-note">[^<]+\n\n\u2014 /, 'the signed checkpoint note');
    for (const path of ['/admin/audit/records/abc', '/admin/audit/records/999999999']) {
      const missing = await admin.agent.get(path);
      assert.equal(missing.status, 404, path);
      assert.match(await missing.text(), /There is no such record in the audit log/);
    }
  });

  it('refuses an approver the Audit page, a record and Verify now, recording nothing', async () => {
    const approver = await consoleSession(server.consoleUrl, await addConsoleUser(server, { roles: ['approver'], secondFactor: false, prefix: 'audit-approver' }));
    for (const path of ['/admin/audit', '/admin/audit/records/0']) assert.equal((await approver.agent.get(path)).status, 403, path);
    const post = await approver.agent.postForm('/admin/audit/verify', { csrf: approver.csrf });
    assert.equal(post.status, 403);
    assert.equal((await allEvents(server.config.auditDir)).some((record) => record.event.type === 'admin.audit.verified'), false);
  });

  it('in Chromium, an admin checks the log, searches by type and subject, opens a record and sees it verified', async () => {
    const user = await addConsoleUser(server, { prefix: 'audit-browser' });
    const { page, blockedRequests, close } = await openLoopbackPage(browser, { viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    try {
      await signInToConsole(page, server.consoleUrl, user);
      for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
        await page.setViewportSize(viewport);
        await page.goto(`${server.consoleUrl}/audit`);
        if (name === 'desktop') {
          await page.click('button:has-text("Verify now")');
          assert.match(await page.locator('.banner').innerText(), /The log was checked just now/);
          assert.match(await page.locator('table.facts').innerText(), /verified the signed log of \d+ records is intact/);
        }
        await page.fill('#audit-type', 'tool.executed');
        await page.fill('#audit-subject', 'audit-alice');
        await page.click('button:has-text("Search")');
        const rows = page.locator('table.data tbody tr');
        assert.equal(await rows.count(), 2);
        assert.match(await rows.first().innerText(), /tool\.executed\s+audit-alice\s+audit-client-b\s+create_note/);
        await screenshot(page, `audit-${name}`);
        await rows.first().locator('a').click();
        assert.match(await page.locator('.banner').innerText(), /This record is in the signed log of \d+ records: verified just now/);
        await screenshot(page, `audit-record-${name}`);
      }
      assert.deepEqual(blockedRequests, []);
    } finally {
      await close();
    }
  });

  it('Verify now checks the log and records who asked; a changed record makes the status say failed', async () => {
    const verified = await admin.agent.postForm('/admin/audit/verify', { csrf: admin.csrf });
    assert.equal(verified.status, 303);
    const status = await (await admin.agent.get(verified.headers.get('location')!)).text();
    assert.match(status, /The log was checked just now/);
    assert.match(status, /<span class="badge ok">verified<\/span> the signed log of \d+ records is intact/);
    const recorded = (await allEvents(server.config.auditDir)).filter((record) => record.event.type === 'admin.audit.verified' && record.event.subject === adminUser.id);
    assert.deepEqual(recorded.map((record) => [record.event.subject, record.event.via, record.event.result]), [[adminUser.id, 'console', 'verified']]);

    const segment = join(server.config.auditDir, 'segment-000000000000.jsonl');
    const original = await readFile(segment, 'utf8');
    await writeFile(segment, original.replace('"subject":"audit-bob"', '"subject":"audit-eve"'));
    await admin.agent.postForm('/admin/audit/verify', { csrf: admin.csrf });
    const failed = await (await admin.agent.get('/admin/audit')).text();
    assert.match(failed, /<span class="badge bad">failed<\/span>/);
    assert.match(failed, /segment-000000000000\.jsonl line \d+ seq \d+: the leaf hash does not match/);
    await writeFile(segment, original);
  });
});

async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS === '1') await page.screenshot({ path: `/tmp/portcullis-console-${name}.png`, fullPage: true });
}

describe('the console Audit page with AUDIT=off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ AUDIT: 'off' });
  });
  after(async () => server?.destroy());

  it('says the log is off, has no records to open and refuses Verify now', async () => {
    const admin = await consoleSession(server.consoleUrl, await addConsoleUser(server, { prefix: 'audit-off' }));
    const page = await admin.agent.get('/admin/audit');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /The audit log is off \(<code>AUDIT=off<\/code>\): nothing is recorded/);
    assert.equal((await admin.agent.get('/admin/audit/records/0')).status, 404);
    const verify = await admin.agent.postForm('/admin/audit/verify', { csrf: admin.csrf });
    assert.equal(verify.status, 409);
    assert.match(await verify.text(), /there is nothing to verify/);
  });
});
