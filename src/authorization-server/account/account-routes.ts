import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';
import { AccountAccess, sessionHandle } from '../accounts/account-access.ts';
import { UserError, type PublicUser, type UserDirectory } from '../accounts/users.ts';
import { recordEvent } from '../audit-trail.ts';
import { csrfToken, csrfTokenValid } from '../interactions/csrf.ts';
import { FormError, readForm } from '../interactions/form.ts';
import type { SafeHtml } from '../interactions/html.ts';
import { renderAccountPage, renderSignedOutAccountPage } from './account-views.ts';

/** A section another feature adds to the account page (second factors, ...): given the signed-in user, its HTML. */
export type AccountSection = (user: PublicUser, csrf: string) => Promise<SafeHtml>;

export interface AccountRouteDependencies {
  provider: Provider;
  store: Store;
  users: UserDirectory;
  log: Logger;
  audit: AuditSink;
  csrfSecret: string;
  accountSections?: AccountSection[];
}

interface SignedIn {
  user: PublicUser;
  sessionId: string;
  csrf: string;
}

/**
 * /account: the signed-in user's own page (found by the sign-in session cookie): apps with
 * access and removing it, where they are signed in and signing out there, changing the password.
 * Every change is a form post with a CSRF token bound to the session.
 */
export function accountRoutes(deps: AccountRouteDependencies): Router {
  const { provider, users, log, audit, csrfSecret } = deps;
  const access = new AccountAccess(deps.store);
  const router = new Router();

  router.use('/account', async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/account', async (ctx) => {
    const signedIn = await signedInUser(ctx);
    if (!signedIn) return notSignedIn(ctx);
    ctx.body = await accountPage(signedIn);
  });

  router.post('/account/apps/revoke', async (ctx) => {
    await change(ctx, async ({ user }, form) => {
      const grantId = form.get('grant') ?? '';
      if (!(await access.revokeApp(user.id, grantId))) throw new FormError(400, 'That app has no access to your account.');
      await recordEvent(audit, log, { type: 'token.revoked', subject: user.id, grant: grantId, by: 'account page' });
      return 'The app no longer has access to your account.';
    });
  });

  router.post('/account/sessions/end', async (ctx) => {
    await change(ctx, async ({ user }, form) => {
      if (!(await access.endSession(user.id, form.get('session') ?? ''))) throw new FormError(400, 'That sign-in has already ended.');
      return 'You were signed out there.';
    });
  });

  router.post('/account/password', async (ctx) => {
    await change(ctx, async ({ user, sessionId }, form) => {
      if (!(await users.hasPassword(user.name))) throw new FormError(400, 'Your account signs in through your company; it has no password here.');
      if (!(await users.authenticate(user.name, form.get('current') ?? ''))) throw new FormError(400, 'The current password is not correct.');
      try {
        await users.setPassword(user.name, form.get('new') ?? '');
      } catch (error) {
        if (error instanceof UserError) throw new FormError(400, `The new password was not accepted: ${error.message}.`);
        throw error;
      }
      // Whoever knew the old password is signed out everywhere else.
      for (const session of await access.sessions(user.id)) {
        if (session.handle !== sessionHandle(sessionId)) await access.endSession(user.id, session.handle);
      }
      await recordEvent(audit, log, { type: 'password.changed', subject: user.id, username: user.name, by: 'account page' });
      return 'Your password was changed, and you were signed out on every other browser.';
    });
  });

  async function signedInUser(ctx: Context): Promise<SignedIn | undefined> {
    const sessionId = ctx.cookies.get(provider.cookieName('session'), { signed: true });
    if (!sessionId) return undefined;
    const session = await provider.Session.find(sessionId);
    const user = session?.accountId ? await users.findActiveById(session.accountId) : undefined;
    return user && { user, sessionId, csrf: csrfToken(csrfSecret, `account:${sessionId}`) };
  }

  async function accountPage(signedIn: SignedIn, notice?: { text: string; error: boolean }): Promise<string> {
    const { user, sessionId, csrf } = signedIn;
    const current = sessionHandle(sessionId);
    const apps = await access.apps(user.id);
    return renderAccountPage({
      csrf, name: user.name, displayName: user.displayName, email: user.email, hasPassword: await users.hasPassword(user.name), notice,
      sessions: (await access.sessions(user.id)).map((session) => ({ handle: session.handle, signedInAt: when(session.signedInAt), current: session.handle === current })),
      apps: await Promise.all(apps.map(async (app) => ({
        grantId: app.grantId,
        name: (await provider.Client.find(app.clientId).catch(() => undefined))?.clientName ?? app.clientId,
        scopes: [...app.scopes.filter((scope) => scope !== 'openid'), ...Object.values(app.resources).flat()],
        lastUsed: when(app.lastUsedAt),
      }))),
      sections: await Promise.all((deps.accountSections ?? []).map((section) => section(user, csrf))),
    });
  }

  /** A form post that changes something: signed in, CSRF checked, then the page again with what happened. */
  async function change(ctx: Context, step: (signedIn: SignedIn, form: URLSearchParams) => Promise<string>): Promise<void> {
    const signedIn = await signedInUser(ctx);
    if (!signedIn) return notSignedIn(ctx);
    ctx.type = 'html';
    try {
      const form = await readForm(ctx);
      if (!csrfTokenValid(csrfSecret, `account:${signedIn.sessionId}`, form.get('csrf'))) throw new FormError(400, 'The form expired or was not sent from this page. Try again.');
      const done = await step(signedIn, form);
      ctx.body = await accountPage(signedIn, { text: done, error: false });
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      ctx.status = error.status;
      ctx.body = await accountPage(signedIn, { text: error.message, error: true });
    }
  }

  return router;
}

function notSignedIn(ctx: Context): void {
  ctx.status = 401;
  ctx.type = 'html';
  ctx.body = renderSignedOutAccountPage();
}

function when(epochSeconds: number | undefined): string {
  return epochSeconds ? new Date(epochSeconds * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'unknown';
}
