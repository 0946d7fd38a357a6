import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { SecondFactors } from '../../src/authorization-server/accounts/second-factors.ts';
import { totpCode } from '../../src/authorization-server/accounts/totp.ts';
import type { TestServer } from './authorization-server.ts';
import { addUser } from './oauth-client.ts';
import { UserAgent } from './user-agent.ts';

const STEP_MS = 30_000;

export interface ConsoleUser {
  username: string;
  password: string;
  id: string;
  /** The authenticator app's secret (base32), when the user has one. */
  totpSecret?: string;
}

/** Last TOTP step used per secret: a code works once, so each sign-in takes the next step. */
const usedSteps = new Map<string, number>();

/**
 * A new user with these roles (default: admin) and, unless `secondFactor: false`, an
 * authenticator app set up, as a person would at /account.
 */
export async function addConsoleUser(server: Pick<TestServer, 'users' | 'store'>, options: { roles?: string[]; secondFactor?: boolean; prefix?: string } = {}): Promise<ConsoleUser> {
  const user = await addUser(server, options.prefix ?? 'admin');
  const roles = options.roles ?? ['admin'];
  if (roles.length > 0) await server.users.changeRoles(user.username, { add: roles });
  if (options.secondFactor === false) return user;
  const factors = new SecondFactors(server.store);
  const { secret } = await factors.startTotpEnrolment(user.id, user.username);
  // Enrolled with the previous step's code (accepted: clocks a little apart), so the next two sign-ins need not wait.
  const earlier = Date.now() - STEP_MS;
  assert.ok(await factors.confirmTotpEnrolment(user.id, totpCode(secret, earlier)), 'the authenticator app was set up');
  usedSteps.set(secret, Math.floor(earlier / STEP_MS));
  return { ...user, totpSecret: secret };
}

/**
 * A code the server has not seen yet: the current step's, or the next one's (accepted too, for
 * clocks a little apart). Waits for the clock only when both were used already.
 */
export async function freshTotpCode(secret: string): Promise<string> {
  const step = Math.max(Math.floor(Date.now() / STEP_MS), (usedSteps.get(secret) ?? -1) + 1);
  const earliest = (step - 1) * STEP_MS + 1000;
  if (Date.now() < earliest) await new Promise((resolve) => setTimeout(resolve, earliest - Date.now()));
  usedSteps.set(secret, step);
  return totpCode(secret, step * STEP_MS);
}

/**
 * Signs in to the console in a browser page: username and password, then the code when asked.
 * `consoleUrl` is the server's `consoleUrl` (on the main listener or ADMIN_PORT). Ends on the
 * page after sign-in: the one that sent the browser to sign in, else Overview for admins and
 * Approvals for approvers.
 */
export async function signInToConsole(page: Page, consoleUrl: string, user: ConsoleUser): Promise<void> {
  // Already on the sign-in page (sent there from another page): stay, so sign-in returns to that page.
  if (!page.url().startsWith(`${consoleUrl}/sign-in`)) await page.goto(`${consoleUrl}/sign-in`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('button[type=submit]');
  if (await page.locator('#code').count() > 0) {
    assert.ok(user.totpSecret, 'the console asks for a second factor this user does not have');
    await page.fill('#code', await freshTotpCode(user.totpSecret));
    await page.click('button[type=submit]');
  }
}

export interface ConsoleSession {
  agent: UserAgent;
  /** The session's form token, for posts. */
  csrf: string;
  /** The status and text of the page sign-in ended on. */
  status: number;
  text: string;
}

/** Signs in over HTTP (no browser): for tests of access rules and forms. */
export async function consoleSession(consoleUrl: string, user: ConsoleUser): Promise<ConsoleSession> {
  const agent = new UserAgent(new URL(consoleUrl).origin);
  const form = await agent.get(`${consoleUrl}/sign-in`);
  let csrf = csrfIn(await form.text());
  let { response } = await agent.follow(await agent.postForm(`${consoleUrl}/sign-in`, { csrf, username: user.username, password: user.password }));
  let text = await response.text();
  if (response.ok && text.includes('name="code"')) {
    assert.ok(user.totpSecret, 'the console asks for a second factor this user does not have');
    ({ response } = await agent.follow(await agent.postForm(`${consoleUrl}/sign-in/second-factor`, { csrf: csrfIn(text), code: await freshTotpCode(user.totpSecret) })));
    text = await response.text();
  }
  csrf = /name="csrf" value="([^"]+)"/.exec(text)?.[1] ?? '';
  return { agent, csrf, status: response.status, text };
}

function csrfIn(text: string): string {
  const csrf = /name="csrf" value="([^"]+)"/.exec(text)?.[1];
  assert.ok(csrf, 'the console page has a form');
  return csrf;
}
