import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditSink } from '../audit/index.ts';
import type { PublicUser, UserDirectory } from '../authorization-server/accounts/users.ts';
import { recordEvent } from '../authorization-server/audit-trail.ts';
import { FormError, readForm } from '../authorization-server/interactions/form.ts';
import type { RateLimits } from '../authorization-server/rate-limits/limits.ts';
import type { ResourceRegistry } from '../authorization-server/resources.ts';
import { isStoreUnavailable } from '../authorization-server/store-unavailable.ts';
import { currentStatus } from '../authorization-server/elevation/records.ts';
import { mayApprove, type DecisionOutcome, type ElevationService } from '../authorization-server/elevation/service.ts';
import { addressSubject } from '../http/ip-address.ts';
import type { Logger } from '../log/index.ts';
import type { AdminSessions } from './session.ts';
import { renderApprovals, renderConsoleError, renderSignIn } from './views.ts';

export interface ConsoleDependencies {
  users: UserDirectory;
  elevation: ElevationService;
  sessions: AdminSessions;
  resources: ResourceRegistry;
  limits: Pick<RateLimits, 'loginLockout' | 'loginFailuresPerAddress'>;
  audit: AuditSink;
  log: Logger;
}

/** Fixed texts for the page shown after a change (the query names one; nothing from it is echoed). */
const DONE: Record<string, string> = {
  approved: 'Approved. The requester continues on their own page.',
  denied: 'Denied. The requester has been told.',
  revoked: 'Ended. Calls with this access stop working within a few seconds.',
  acknowledged: 'Marked as reviewed.',
};

const REFUSED: Record<Exclude<DecisionOutcome, 'approved' | 'denied'>, [number, string]> = {
  own_request: [403, 'You cannot decide on your own request; another approver must.'],
  expired: [410, 'This request expired before it was decided; nothing was approved.'],
  already_decided: [409, 'This request has already been decided; nothing changed.'],
  not_found: [404, 'There is no such request.'],
  external: [409, 'An external approval system decides these requests; nothing changed.'],
};

const CONSOLE_CLIENT = 'admin-console';

/** The operator console's first page: approvals of elevated access, active elevations, break-glass review. */
export function consoleRoutes(deps: ConsoleDependencies): Router {
  const { users, elevation, sessions, limits, log, audit } = deps;
  const router = new Router({ prefix: '/admin' });

  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      const status = error instanceof FormError ? error.status : 500;
      if (status >= 500) log.error({ err: error, path: ctx.path }, 'console request failed');
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = renderConsoleError(status < 500 ? (error as Error).message : 'The server could not finish this step. Try again.');
    }
  });

  router.get('/', (ctx) => {
    ctx.status = 303;
    ctx.redirect('/admin/approvals');
  });

  router.get('/sign-in', (ctx) => {
    ctx.body = renderSignIn({ csrf: sessions.csrfToken(sessions.signInBinding(ctx, true)!) });
  });

  router.post('/sign-in', async (ctx) => {
    const form = await readForm(ctx);
    const username = form.get('username') ?? '';
    const binding = sessions.signInBinding(ctx, false);
    const again = (status: number, error: string) => {
      ctx.status = status;
      ctx.body = renderSignIn({ csrf: sessions.csrfToken(sessions.signInBinding(ctx, true)!), username, error });
    };
    if (!binding || !sessions.csrfValid(binding, form.get('csrf'))) return again(403, 'The form expired. Sign in again.');
    const paused = await limits.loginFailuresPerAddress.exhaustedFor(addressSubject(ctx.ip)) ?? await limits.loginLockout.pausedFor(username, ctx.ip);
    if (paused !== undefined) {
      ctx.set('Retry-After', String(paused));
      return again(429, `Too many failed sign-ins. Try again in ${paused} seconds.`);
    }
    const user = await users.authenticate(username, form.get('password') ?? '');
    await recordEvent(audit, log, user
      ? { type: 'login.succeeded', subject: user.id, username: user.name, client: CONSOLE_CLIENT }
      : { type: 'login.failed', username, client: CONSOLE_CLIENT, ip: ctx.ip });
    if (!user) {
      await limits.loginFailuresPerAddress.hit(addressSubject(ctx.ip));
      await limits.loginLockout.failed(username, ctx.ip);
      return again(401, 'The username or password is not correct.');
    }
    await limits.loginLockout.succeeded(username, ctx.ip);
    if (!mayApprove(user)) return again(403, 'This account cannot use the approvals console.');
    await sessions.start(ctx, user.id);
    ctx.status = 303;
    ctx.redirect('/admin/approvals');
  });

  router.get('/approvals', async (ctx) => {
    const viewer = await signedIn(ctx);
    if (!viewer) {
      ctx.status = 303;
      ctx.redirect('/admin/sign-in');
      return;
    }
    const done = DONE[String(ctx.query.done ?? '')];
    await showApprovals(ctx, viewer.user, viewer.csrf, done ? { text: done, kind: 'notice' } : undefined);
  });

  router.post('/approvals/:id', async (ctx) => {
    const { user, csrf, form } = await guardedForm(ctx);
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') throw new FormError(400, 'Choose approve or deny.');
    const outcome = await elevation.decide(ctx.params.id!, user, decision);
    if (outcome === 'approved' || outcome === 'denied') return doneAndBack(ctx, outcome);
    const [status, text] = REFUSED[outcome];
    ctx.status = status;
    await showApprovals(ctx, user, csrf, { text, kind: 'error' });
  });

  router.post('/elevations/:id/revoke', async (ctx) => {
    const { user, csrf } = await guardedForm(ctx);
    const outcome = await elevation.revoke(ctx.params.id!, user.name);
    if (outcome === 'revoked') return doneAndBack(ctx, outcome);
    ctx.status = outcome === 'not_found' ? 404 : 409;
    await showApprovals(ctx, user, csrf, { text: 'This access is not active any more; nothing changed.', kind: 'error' });
  });

  router.post('/elevations/:id/acknowledge', async (ctx) => {
    const { user, csrf } = await guardedForm(ctx);
    if (!user.roles.includes('admin')) throw new FormError(403, 'Only an administrator can mark emergency access as reviewed.');
    const outcome = await elevation.acknowledge(ctx.params.id!, user);
    if (outcome === 'acknowledged') return doneAndBack(ctx, outcome);
    ctx.status = outcome === 'not_found' ? 404 : 409;
    await showApprovals(ctx, user, csrf, { text: 'This emergency access was already reviewed; nothing changed.', kind: 'error' });
  });

  router.post('/sign-out', async (ctx) => {
    await guardedForm(ctx);
    await sessions.end(ctx);
    ctx.status = 303;
    ctx.redirect('/admin/sign-in');
  });

  /** The signed-in approver or admin and the session's form token; undefined without a session. */
  async function signedIn(ctx: Context): Promise<{ user: PublicUser; csrf: string; sessionId: string } | undefined> {
    const session = await sessions.current(ctx);
    if (!session) return undefined;
    const user = await users.findActiveById(session.userId);
    if (!user || !mayApprove(user)) {
      log.warn({ event: 'console_refused', subject: session.userId }, 'console session of a user who may no longer approve');
      throw new FormError(403, 'Your account cannot approve requests.');
    }
    return { user, csrf: sessions.csrfToken(session.id), sessionId: session.id };
  }

  /** A console form post: signed in, allowed, and carrying this session's token; otherwise nothing happens. */
  async function guardedForm(ctx: Context): Promise<{ user: PublicUser; csrf: string; form: URLSearchParams }> {
    const viewer = await signedIn(ctx);
    if (!viewer) throw new FormError(401, 'Sign in to the console first.');
    const form = await readForm(ctx);
    if (!sessions.csrfValid(viewer.sessionId, form.get('csrf'))) {
      log.warn({ event: 'console_form_refused', subject: viewer.user.id, path: ctx.path }, 'console form with a missing or wrong token');
      throw new FormError(403, 'This form expired or did not come from this console. Reload the page and try again.');
    }
    return { user: viewer.user, csrf: viewer.csrf, form };
  }

  async function showApprovals(ctx: Context, user: PublicUser, csrf: string, message?: { text: string; kind: 'error' | 'notice' }): Promise<void> {
    const now = elevation.nowSeconds();
    const pending = [];
    for (const request of await elevation.records.list('pending')) {
      const current = await elevation.current(request);
      if (current.status === 'pending') pending.push(current);
    }
    ctx.type = 'html';
    ctx.body = renderApprovals({
      csrf, viewer: { id: user.id, name: user.name, isAdmin: user.roles.includes('admin') }, pending,
      active: (await elevation.records.list('active')).filter((active) => currentStatus(active, now) === 'active'),
      breakGlass: await elevation.records.unacknowledgedBreakGlass(),
      resourceName: (uri) => deps.resources.find(uri)?.name ?? uri,
      message,
    });
  }

  function doneAndBack(ctx: Context, done: string): void {
    ctx.status = 303;
    ctx.redirect(`/admin/approvals?done=${done}`);
  }

  return router;
}
