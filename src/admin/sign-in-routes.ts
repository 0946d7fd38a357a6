import Router from '@koa/router';
import type { Context } from 'koa';
import { addressSubject } from '../http/ip-address.ts';
import { secondFactorRequired } from '../authorization-server/accounts/second-factor-policy.ts';
import type { PublicUser } from '../authorization-server/accounts/users.ts';
import { recordEvent } from '../authorization-server/audit-trail.ts';
import { readForm } from '../authorization-server/interactions/form.ts';
import { consoleActor, recordAdminEvent } from './admin-events.ts';
import type { ConsoleDeps } from './console-page.ts';
import type { ConsoleMessage } from './layout.ts';
import { hasRole, roleForPath } from './navigation.ts';
import { SIGN_IN_SECONDS } from './session.ts';
import { renderSecondFactorForm, renderSecondFactorMissing, renderSignIn } from './sign-in-views.ts';

const CONSOLE_CLIENT = 'admin-console';
/** Between a correct password and the second factor, bound to the sign-in cookie. */
const pendingKey = (binding: string) => `admin-sign-in:${binding}`;

interface PendingSignIn {
  userId: string;
  username: string;
  next?: string | undefined;
}

/** A console page to go back to after sign-in: a plain /admin path, nothing else (no open redirect). */
export function returnPath(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/admin(\/[A-Za-z0-9_-]+)*$/.test(value) && !value.startsWith('/admin/sign-') ? value : undefined;
}

/**
 * Signing in to the console: username and password, then (when the user has one or must have
 * one) the authenticator-app code or a recovery code. Wrong passwords and wrong codes share the
 * sign-in lockout. Only admins and approvers get a session.
 */
export function signInRoutes(deps: ConsoleDeps): Router {
  const { users, sessions, limits, log, audit, secondFactors } = deps;
  const router = new Router({ prefix: '/admin' });
  const newCsrf = (ctx: Context) => sessions.csrfToken(sessions.signInBinding(ctx, true)!);

  router.get('/sign-in', (ctx) => {
    const ended = ctx.query.ended === '1' ? { kind: 'notice' as const, text: 'Your console session ended. Sign in again.' } : undefined;
    ctx.body = renderSignIn({ csrf: newCsrf(ctx), message: ended, next: returnPath(ctx.query.next) });
  });

  router.post('/sign-in', async (ctx) => {
    const form = await readForm(ctx);
    const username = form.get('username') ?? '';
    const next = returnPath(form.get('next'));
    const again = (status: number, text: string) => {
      ctx.status = status;
      ctx.body = renderSignIn({ csrf: newCsrf(ctx), username, next, message: { kind: 'error', text } });
    };
    const binding = sessions.signInBinding(ctx, false);
    if (!binding || !sessions.csrfValid(binding, form.get('csrf'))) return again(403, 'The form expired. Sign in again.');
    const paused = await pausedFor(ctx, username);
    if (paused !== undefined) return again(429, pausedText(ctx, paused));
    const user = await users.authenticate(username, form.get('password') ?? '');
    await recordEvent(audit, log, user
      ? { type: 'login.succeeded', subject: user.id, username: user.name, client: CONSOLE_CLIENT }
      : { type: 'login.failed', username, client: CONSOLE_CLIENT, ip: ctx.ip });
    if (!user) {
      await failed(ctx, username);
      return again(401, 'The username or password is not correct.');
    }
    await limits.loginLockout.succeeded(username, ctx.ip);
    if (!hasRole(user.roles, 'approver')) {
      await recordEvent(audit, log, { type: 'admin.refused', subject: user.id, actor: user.name, via: 'console', reason: 'role', ip: ctx.ip });
      return again(403, 'This account cannot use the console.');
    }
    const factors = await secondFactors.status(user.id);
    const usable = factors.totp || factors.recoveryCodesLeft > 0;
    if (usable) {
      await deps.store.put(pendingKey(binding), { userId: user.id, username: user.name, next } satisfies PendingSignIn, { ttlSeconds: SIGN_IN_SECONDS });
      ctx.body = renderSecondFactorForm({ csrf: newCsrf(ctx) });
      return;
    }
    if (secondFactorRequired(deps.secondFactorRule(), user.roles)) {
      await recordEvent(audit, log, { type: 'admin.refused', subject: user.id, actor: user.name, via: 'console', reason: 'second_factor_missing', ip: ctx.ip });
      ctx.status = 403;
      ctx.body = renderSecondFactorMissing(new URL('/account', deps.config.issuer).href);
      return;
    }
    await startSession(ctx, user, undefined, next);
  });

  router.post('/sign-in/second-factor', async (ctx) => {
    const form = await readForm(ctx);
    const binding = sessions.signInBinding(ctx, false);
    const pending = binding ? (await deps.store.get<PendingSignIn>(pendingKey(binding)))?.value : undefined;
    const startAgain = (text: string) => {
      ctx.status = 403;
      ctx.body = renderSignIn({ csrf: newCsrf(ctx), message: { kind: 'error', text } });
    };
    if (!binding || !pending || !sessions.csrfValid(binding, form.get('csrf'))) return startAgain('The sign-in expired. Sign in again.');
    const again = (status: number, message: ConsoleMessage) => {
      ctx.status = status;
      ctx.body = renderSecondFactorForm({ csrf: newCsrf(ctx), message });
    };
    const paused = await pausedFor(ctx, pending.username);
    if (paused !== undefined) return again(429, { kind: 'error', text: pausedText(ctx, paused) });
    const code = (form.get('code') ?? '').trim();
    const method = await checkCode(pending.userId, code);
    if (!method) {
      await recordEvent(audit, log, { type: 'second_factor.failed', subject: pending.userId, client: CONSOLE_CLIENT, ip: ctx.ip });
      await failed(ctx, pending.username);
      return again(401, { kind: 'error', text: 'That code is not right, or it was already used. Enter the current code.' });
    }
    await deps.store.delete(pendingKey(binding));
    const user = await users.findActiveById(pending.userId);
    if (!user || !hasRole(user.roles, 'approver')) return startAgain('This account cannot use the console.');
    await limits.loginLockout.succeeded(pending.username, ctx.ip);
    await startSession(ctx, user, method, pending.next);
  });

  router.post('/sign-out', async (ctx) => {
    const current = await sessions.current(ctx);
    const form = await readForm(ctx);
    if (typeof current === 'object' && sessions.csrfValid(current.id, form.get('csrf'))) {
      const user = await users.findActiveById(current.userId);
      await sessions.end(ctx);
      if (user) await recordEvent(audit, log, { type: 'admin.signed_out', subject: user.id, actor: user.name, via: 'console' });
    }
    ctx.status = 303;
    ctx.redirect('/admin/sign-in');
  });

  async function checkCode(userId: string, code: string): Promise<'totp' | 'recovery_code' | undefined> {
    if (/^\d{6}$/.test(code.replace(/\s+/g, ''))) return (await secondFactors.checkTotp(userId, code)) === 'ok' ? 'totp' : undefined;
    return (await secondFactors.useRecoveryCode(userId, code)) ? 'recovery_code' : undefined;
  }

  /** The session starts only once its sign-in is on the record. */
  async function startSession(ctx: Context, user: PublicUser, method: 'totp' | 'recovery_code' | undefined, next: string | undefined): Promise<void> {
    await recordAdminEvent(audit, log, { type: 'admin.signed_in', actor: consoleActor(user), ...(method ? { second_factor: method } : {}), ip: ctx.ip });
    await sessions.start(ctx, user.id, method);
    const role = next ? roleForPath(next) : undefined;
    ctx.status = 303;
    ctx.redirect(next && role && hasRole(user.roles, role) ? next : user.roles.includes('admin') ? '/admin' : '/admin/approvals');
  }

  async function pausedFor(ctx: Context, username: string): Promise<number | undefined> {
    return await limits.loginFailuresPerAddress.exhaustedFor(addressSubject(ctx.ip)) ?? await limits.loginLockout.pausedFor(username, ctx.ip);
  }

  function pausedText(ctx: Context, seconds: number): string {
    ctx.set('Retry-After', String(seconds));
    return `Too many failed sign-ins. Try again in ${seconds} seconds.`;
  }

  async function failed(ctx: Context, username: string): Promise<void> {
    await limits.loginFailuresPerAddress.hit(addressSubject(ctx.ip));
    await limits.loginLockout.failed(username, ctx.ip);
  }

  return router;
}
