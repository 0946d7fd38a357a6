import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { allEvents } from '../../src/audit/index.ts';
import { loadConfigSignatureKey, signDocument } from '../../src/config/index.ts';
import { startTestServer, type TestServer } from '../support/authorization-server.ts';
import { launchBrowser, openTestPage } from '../support/browser.ts';
import { addConsoleUser, consoleSession, signInToConsole } from '../support/console.ts';

const NO_JS: BrowserContextOptions = { javaScriptEnabled: false, acceptDownloads: true };
const PHONE: BrowserContextOptions = { ...NO_JS, viewport: { width: 390, height: 844 } };
const signingPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS === '1') await page.screenshot({ path: `/tmp/portcullis-console-${name}.png`, fullPage: true });
}

/** Clicks "Download the configuration" and returns the file's text. */
async function download(page: Page): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('text=Download the configuration')]);
  assert.match(file.suggestedFilename(), /^portcullis-config-\d{8}-\d{6}\.json$/);
  return readFile((await file.path())!, 'utf8');
}

async function showChanges(page: Page, text: string): Promise<void> {
  await page.fill('#document', text);
  await page.click('text=Show the changes');
}

describe('export and import in the console (Chromium, without JavaScript)', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startTestServer({ CONFIG_SIGNATURE_KEY: signingPem }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await server?.destroy();
  });

  it('refuses an export edited by hand, saying the signature no longer matches, and changes nothing', async (t: TestContext) => {
    const admin = await addConsoleUser(server);
    const { page } = await openTestPage(t, browser, NO_JS, []);
    await page.goto(`${server.consoleUrl}/export`);
    await signInToConsole(page, server.consoleUrl, admin);
    assert.equal(await page.locator('h1').textContent(), 'Export and import');
    await screenshot(page, 'export-desktop');

    const exported = JSON.parse(await download(page)) as Record<string, any>;
    assert.equal(exported.signature.alg, 'Ed25519');
    assert.equal(exported.settings.tokenRateLimitPerClient.value, 600);
    exported.settings.tokenRateLimitPerClient.value = 100000;
    await showChanges(page, JSON.stringify(exported, null, 2));

    assert.match(await page.locator('.banner.error').textContent() ?? '', /not imported/);
    assert.match(await page.locator('#import-problems').textContent() ?? '', /signature does not match its contents: it was changed after it was signed/);
    assert.equal(await page.locator('button:has-text("Apply the import")').count(), 0, 'nothing to confirm');
    assert.equal(server.settings.current().tokenRateLimitPerClient, 600);
  });

  it('imports a signed document: shows the changes, asks for the password, applies them, and records the import', async (t: TestContext) => {
    const admin = await addConsoleUser(server);
    const { page } = await openTestPage(t, browser, NO_JS, []);
    await page.goto(`${server.consoleUrl}/export`);
    await signInToConsole(page, server.consoleUrl, admin);
    const document = JSON.parse(await download(page)) as Record<string, any>;
    document.settings.tokenRateLimitPerClient.value = 42;
    document.roles.users[admin.username] = ['admin', 'approver'];
    // What `portcullis config sign` does where the private key is.
    const signed = signDocument(document, loadConfigSignatureKey(createPrivateKey(signingPem).export({ type: 'pkcs8', format: 'pem' }).toString())!);
    await showChanges(page, JSON.stringify(signed, null, 2));

    assert.equal(await page.locator('h1').textContent(), 'Changes of the import');
    assert.match(await page.locator('main').textContent() ?? '', /The signature is valid/);
    const settingRow = page.locator('tr', { hasText: 'tokenRateLimitPerClient' });
    assert.match(await settingRow.textContent() ?? '', /Changed.*tokenRateLimitPerClient\s*600\s*42/);
    assert.match(await page.locator('tr', { hasText: admin.username }).textContent() ?? '', /admin, approver/);
    assert.equal(server.settings.current().tokenRateLimitPerClient, 600, 'a preview applies nothing');
    await screenshot(page, 'import-preview-desktop');

    await page.fill('form[action="/admin/export/apply"] input[name=password]', admin.password);
    await page.click('text=Apply the import');
    assert.match(await page.locator('.banner.notice').textContent() ?? '', /The import was applied/);
    assert.equal(server.settings.current().tokenRateLimitPerClient, 42);
    assert.deepEqual((await server.users.list()).find((user) => user.name === admin.username)?.roles, ['admin', 'approver']);
    const imported = (await allEvents(server.config.auditDir)).map((record) => record.event).find((event) => event.type === 'admin.config.imported');
    assert.equal(imported?.subject, admin.id);

  });

  it('changes nothing for a wrong password, applies a previewed import once, and explains a document that is not JSON (HTTP)', async () => {
    const admin = await addConsoleUser(server);
    const { agent, csrf } = await consoleSession(server.consoleUrl, admin);
    const exported = await agent.postForm('/admin/export/download', { csrf });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-disposition') ?? '', /attachment; filename="portcullis-config-/);
    const document = JSON.parse(await exported.text()) as Record<string, any>;
    document.settings.loginLockoutThreshold.value = 7;
    const signed = signDocument(document, loadConfigSignatureKey(signingPem)!);

    const notJson = await agent.postForm('/admin/export/preview', { csrf, document: '{"format": ' });
    assert.equal(notJson.status, 400);
    assert.match(await notJson.text(), /This is not JSON/);

    const preview = await agent.postForm('/admin/export/preview', { csrf, document: JSON.stringify(signed) });
    assert.equal(preview.status, 200);
    const pending = /name="pending" value="([^"]+)"/.exec(await preview.text())?.[1];
    assert.ok(pending, 'the changes page holds the import to confirm');

    const wrongPassword = await agent.postForm('/admin/export/apply', { csrf, pending, password: 'not my password' });
    assert.equal(wrongPassword.status, 403);
    assert.equal(server.settings.current().loginLockoutThreshold, 5, 'nothing applied');
    const applied = await agent.postForm('/admin/export/apply', { csrf, pending, password: admin.password });
    assert.equal(applied.status, 200);
    assert.equal(server.settings.current().loginLockoutThreshold, 7);
    const again = await agent.postForm('/admin/export/apply', { csrf, pending, password: admin.password });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /applied already or its preview expired/);
  });

  it('fits a 390 px screen', async (t: TestContext) => {
    const admin = await addConsoleUser(server);
    const { page } = await openTestPage(t, browser, PHONE, []);
    await page.goto(`${server.consoleUrl}/export`);
    await signInToConsole(page, server.consoleUrl, admin);
    await screenshot(page, 'export-phone');
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 390, `${width}px wide`);
  });
});
