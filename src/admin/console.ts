import { isIPv6 } from 'node:net';
import type { Context, Middleware } from 'koa';
import { BodyError } from '../http/body.ts';
import { unmappedAddress } from '../http/ip-address.ts';
import { allowList } from '../metrics/endpoint.ts';
import { recordEvent } from '../authorization-server/audit-trail.ts';
import { html } from '../authorization-server/interactions/html.ts';
import { isStoreUnavailable } from '../authorization-server/store-unavailable.ts';
import { ConsoleSignInNeeded, requireAdmin, requireApprover, setConsoleState, viewerFor, type ConsoleViewer } from './console-guard.ts';
import type { ConsoleDeps, ConsolePage } from './console-page.ts';
import { CONSOLE_STYLESHEET, CONSOLE_STYLESHEET_PATH } from './console-styles.ts';
import { renderConsolePage } from './layout.ts';
import { roleForPath } from './navigation.ts';
import { CONSOLE_PAGES } from './pages.ts';
import { returnPath, signInRoutes } from './sign-in-routes.ts';
import { renderSignIn } from './sign-in-views.ts';

const TITLES: Record<number, string> = { 403: 'Not allowed', 404: 'Not found' };

/**
 * The operator console under /admin: address allowlist (ADMIN_ALLOWLIST), the signed-in viewer,
 * the role each path needs, then sign-in and the registered pages; every refusal and failure is a
 * plain page. Requests outside /admin pass on untouched.
 */
export function consoleMiddleware(deps: ConsoleDeps, pages: readonly ConsolePage[] = CONSOLE_PAGES): Middleware {
  const allowed = allowList(deps.config.adminAllowlist);
  const guard = { sessions: deps.sessions, users: deps.users, limits: deps.limits, audit: deps.audit, log: deps.log };
  const routers = [signInRoutes(deps), ...pages.map((page) => page(deps))];
  const handle = chain(routers.flatMap((router) => [router.routes(), router.allowedMethods()] as Middleware[]));

  return async (ctx, next) => {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
    ctx.set('Cache-Control', 'no-store');
    const address = unmappedAddress(ctx.ip);
    if (allowed && !allowed.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) {
      deps.log.warn({ event: 'console_refused', reason: 'address', ip: ctx.ip }, 'console request from an address not in ADMIN_ALLOWLIST');
      return showError(ctx, undefined, new BodyError(403, 'The console cannot be used from this address.'));
    }
    if (ctx.path === CONSOLE_STYLESHEET_PATH) {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = CONSOLE_STYLESHEET;
      return;
    }
    let viewer: ConsoleViewer | undefined;
    try {
      const signedIn = await currentViewer(ctx);
      viewer = signedIn.viewer;
      setConsoleState(ctx, { ...signedIn, guard });
      await enforceRole(ctx, viewer);
      await handle(ctx);
      if (ctx.body === undefined && ctx.status === 404) showError(ctx, viewer, new BodyError(404, 'There is no such console page.'));
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      if (error instanceof ConsoleSignInNeeded) return toSignIn(ctx, error);
      if (error instanceof BodyError) return showError(ctx, viewer, error);
      deps.log.error({ err: error, path: ctx.path }, 'console request failed');
      showError(ctx, viewer, new BodyError(500, 'The server could not finish this step; nothing may have changed. Try again.'));
    }
  };

  async function currentViewer(ctx: Context): Promise<{ viewer: ConsoleViewer | undefined; expired: boolean }> {
    const session = await deps.sessions.current(ctx);
    if (session === undefined || session === 'expired') return { viewer: undefined, expired: session === 'expired' };
    const user = await deps.users.findActiveById(session.userId);
    if (user) return { viewer: viewerFor(user, session.id, deps.sessions), expired: false };
    await deps.sessions.end(ctx);
    return { viewer: undefined, expired: true };
  }

  async function enforceRole(ctx: Context, viewer: ConsoleViewer | undefined): Promise<void> {
    const role = roleForPath(ctx.path);
    if (!role) return;
    try {
      if (role === 'admin') requireAdmin(ctx);
      else requireApprover(ctx);
    } catch (error) {
      if (viewer && error instanceof BodyError) {
        deps.log.warn({ event: 'console_refused', subject: viewer.user.id, path: ctx.path, reason: 'role' }, 'console page refused');
        await recordEvent(deps.audit, deps.log, { type: 'admin.refused', subject: viewer.user.id, actor: viewer.user.name, via: 'console', reason: 'role', path: ctx.path, ip: ctx.ip });
      }
      throw error;
    }
  }

  function toSignIn(ctx: Context, error: ConsoleSignInNeeded): void {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      ctx.status = 303;
      const query = new URLSearchParams({ ...(error.expired ? { ended: '1' } : {}), ...(returnPath(ctx.path) ? { next: ctx.path } : {}) });
      ctx.redirect(`/admin/sign-in${query.size ? `?${query}` : ''}`);
      return;
    }
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = renderSignIn({ csrf: deps.sessions.csrfToken(deps.sessions.signInBinding(ctx, true)!), message: { kind: 'error', text: error.message } });
  }
}

function showError(ctx: Context, viewer: ConsoleViewer | undefined, error: BodyError): void {
  ctx.status = error.status;
  ctx.type = 'html';
  ctx.body = renderConsolePage({
    title: TITLES[error.status] ?? (error.status >= 500 ? 'Something went wrong' : 'Not done'), viewer, current: '', message: { kind: 'error', text: error.message },
    body: viewer ? html`<p><a href="${viewer.isAdmin ? '/admin' : '/admin/approvals'}">Back to the console</a></p>` : html`<p><a href="/admin/sign-in">Sign in to the console</a></p>`,
  });
}

/** Runs middleware in order, each reaching the next through `next`; the last one's `next` does nothing. */
function chain(middleware: Middleware[]): (ctx: Context) => Promise<void> {
  return middleware.reduceRight<(ctx: Context) => Promise<void>>(
    (rest, current) => async (ctx) => { await current(ctx as never, () => rest(ctx)); },
    async () => {},
  );
}

/** On the main listener when the console has its own (ADMIN_PORT): /admin is not here. */
export function consoleElsewhere(): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
    ctx.status = 404;
    ctx.type = 'text/plain';
    ctx.body = 'Not Found';
  };
}
