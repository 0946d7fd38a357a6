import assert from 'node:assert/strict';
import type { UserAgent } from './user-agent.ts';

export interface ElevationChoice {
  reason: string;
  minutes?: number;
  ticket?: string;
  mode?: 'request' | 'emergency' | 'cancel';
}

export type WalkEnd =
  | { kind: 'left'; url: URL }
  | { kind: 'waiting'; url: URL; text: string }
  | { kind: 'page'; url: URL; status: number; text: string };

const formAt = (text: string) => ({
  action: /<form method="post" action="([^"]+)"/.exec(text)?.[1],
  csrf: /name="csrf" value="([^"]+)"/.exec(text)?.[1],
});

/**
 * Plays the user through an authorization request over HTTP: the password (every time it is
 * asked), the elevation form, then consent. Stops when the browser leaves the server, on the
 * page that waits for an approver, or on any other page (an error, the form shown again).
 */
export async function walkAuthorization(
  agent: UserAgent, start: URL, user: { username: string; password: string }, choice: ElevationChoice, seen: { passwordAsked?: number } = {},
): Promise<WalkEnd> {
  let { response, url } = await agent.follow(await agent.get(start));
  let lastAction: string | undefined;
  for (let step = 0; step < 6; step += 1) {
    if (url.origin !== new URL(start).origin || response.status >= 300 && response.status < 400) return { kind: 'left', url };
    const text = await response.text();
    if (/http-equiv="refresh"/.test(text)) return { kind: 'waiting', url, text };
    const { action, csrf } = formAt(text);
    if (response.status !== 200 || !action || !csrf || action === lastAction && action.endsWith('/elevation')) return { kind: 'page', url, status: response.status, text };
    lastAction = action;
    let fields: Record<string, string>;
    if (action.endsWith('/login')) {
      seen.passwordAsked = (seen.passwordAsked ?? 0) + 1;
      fields = { csrf, username: user.username, password: user.password };
    } else if (action.endsWith('/elevation')) {
      fields = { csrf, mode: choice.mode ?? 'request', reason: choice.reason, duration: String(choice.minutes ?? 15), ticket: choice.ticket ?? '' };
    } else {
      fields = { csrf, decision: 'approve' };
    }
    ({ response, url } = await agent.follow(await agent.postForm(action, fields)));
  }
  assert.fail('the authorization request did not finish in six steps');
}

/** Reloads the waiting page as its meta refresh would, then continues the walk. */
export async function reloadWaiting(agent: UserAgent, waiting: URL, user: { username: string; password: string }): Promise<WalkEnd> {
  return walkAuthorization(agent, waiting, user, { reason: 'unused: the request was already made' });
}

/** Signs in to the console over HTTP as an approver (no second factor); returns the page sign-in ends on. */
export async function consoleSignIn(agent: UserAgent, user: { username: string; password: string }): Promise<{ status: number; text: string }> {
  const form = await agent.get('/admin/sign-in');
  const { csrf } = formAt(await form.text());
  const { response } = await agent.follow(await agent.postForm('/admin/sign-in', { csrf: csrf!, username: user.username, password: user.password }));
  return { status: response.status, text: await response.text() };
}

/** The CSRF token of a console page's forms. */
export function consoleToken(text: string): string {
  const csrf = formAt(text).csrf;
  assert.ok(csrf, 'the console page has a form');
  return csrf;
}
