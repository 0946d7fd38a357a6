import type { Context } from 'koa';
import type { AuditSink } from '../audit/index.ts';
import { BodyError, readBody } from '../http/body.ts';
import { addressSubject } from '../http/ip-address.ts';
import type { Logger } from '../log/index.ts';
import type { PublicUser, UserDirectory } from '../authorization-server/accounts/users.ts';
import { recordEvent } from '../authorization-server/audit-trail.ts';
import type { RateLimits } from '../authorization-server/rate-limits/limits.ts';
import { consoleActor, type AdminActor } from './admin-events.ts';
import { hasRole, type ConsoleRole } from './navigation.ts';
import type { AdminSessions } from './session.ts';

/** The signed-in console user, as every page and form handler sees them. */
export interface ConsoleViewer {
  user: PublicUser;
  /** This session's form token: every POST form carries it as the field `csrf`. */
  csrf: string;
  sessionId: string;
  /** For `recordAdminEvent`. */
  actor: AdminActor;
  isAdmin: boolean;
}

/** What the guard needs besides the request; the shell puts it on ctx.state for every /admin request. */
export interface GuardDependencies {
  sessions: AdminSessions;
  users: UserDirectory;
  limits: Pick<RateLimits, 'loginLockout' | 'loginFailuresPerAddress'>;
  audit: AuditSink;
  log: Logger;
}

export interface ConsoleState {
  viewer: ConsoleViewer | undefined;
  /** The cookie named a console session that timed out or was ended. */
  expired: boolean;
  guard: GuardDependencies;
}

const STATE = 'portcullisConsole';
export const FORM_LIMIT_BYTES = 8 * 1024;

/** No (live) console session: a GET goes to the sign-in page, anything else is refused with it; nothing changes. */
export class ConsoleSignInNeeded extends Error {
  override readonly name = 'ConsoleSignInNeeded';
  readonly expired: boolean;
  constructor(expired: boolean) {
    super(expired ? 'Your console session ended. Sign in again; nothing was changed.' : 'Sign in to the console first.');
    this.expired = expired;
  }
}

/** A refused console request: shown as a plain page with this status and text, nothing changed. */
export { BodyError as ConsoleRefusal };

export function setConsoleState(ctx: Context, state: ConsoleState): void {
  ctx.state[STATE] = state;
}

function consoleState(ctx: Context): ConsoleState {
  const state = ctx.state[STATE] as ConsoleState | undefined;
  if (!state) throw new Error('console guard used outside the console shell');
  return state;
}

/** The signed-in console user, or undefined. */
export function consoleViewer(ctx: Context): ConsoleViewer | undefined {
  return consoleState(ctx).viewer;
}

function requireRole(ctx: Context, role: ConsoleRole): ConsoleViewer {
  const { viewer, expired } = consoleState(ctx);
  if (!viewer) throw new ConsoleSignInNeeded(expired);
  if (!hasRole(viewer.user.roles, role)) {
    throw new BodyError(403, role === 'admin' ? 'This page is for administrators only.' : 'Your account cannot use the console.');
  }
  return viewer;
}

/** The signed-in admin; throws (sign-in page or 403) for anyone else. */
export function requireAdmin(ctx: Context): ConsoleViewer {
  return requireRole(ctx, 'admin');
}

/** The signed-in approver or admin; throws for anyone else. */
export function requireApprover(ctx: Context): ConsoleViewer {
  return requireRole(ctx, 'approver');
}

export interface GuardOptions {
  role: ConsoleRole;
  /** Sensitive action: the form must carry the user's `password`, checked again (wrong ones count toward the lockout). */
  reauth?: boolean;
  /** Larger forms (an import): up to this many bytes; default 8 KiB. */
  limitBytes?: number;
}

/**
 * A console form post: signed in, with the role, carrying this session's `csrf` token and, with
 * `reauth`, the right `password`. Anything else throws before the handler changes anything.
 */
export async function guardedForm(ctx: Context, options: GuardOptions): Promise<{ viewer: ConsoleViewer; form: URLSearchParams }> {
  const viewer = requireRole(ctx, options.role);
  const { guard } = consoleState(ctx);
  if (!ctx.is('application/x-www-form-urlencoded')) throw new BodyError(415, 'Expected a form submission; nothing was changed.');
  const form = new URLSearchParams((await readBody(ctx.req, options.limitBytes ?? FORM_LIMIT_BYTES)).toString('utf8'));
  if (!guard.sessions.csrfValid(viewer.sessionId, form.get('csrf'))) {
    await refused(guard, viewer, ctx, 'form_token');
    throw new BodyError(403, 'This form expired or did not come from this console. Reload the page and try again; nothing was changed.');
  }
  if (options.reauth) await checkPasswordAgain(ctx, guard, viewer, form.get('password') ?? '');
  return { viewer, form };
}

async function checkPasswordAgain(ctx: Context, guard: GuardDependencies, viewer: ConsoleViewer, password: string): Promise<void> {
  if (!password) throw new BodyError(400, 'Enter your password to confirm this change; nothing was changed.');
  const paused = await guard.limits.loginFailuresPerAddress.exhaustedFor(addressSubject(ctx.ip)) ?? await guard.limits.loginLockout.pausedFor(viewer.user.name, ctx.ip);
  if (paused !== undefined) {
    ctx.set('Retry-After', String(paused));
    throw new BodyError(429, `Too many wrong passwords. Try again in ${paused} seconds; nothing was changed.`);
  }
  if (await guard.users.authenticate(viewer.user.name, password)) return;
  await guard.limits.loginFailuresPerAddress.hit(addressSubject(ctx.ip));
  await guard.limits.loginLockout.failed(viewer.user.name, ctx.ip);
  await refused(guard, viewer, ctx, 'password_not_confirmed');
  throw new BodyError(403, 'The password is not correct; nothing was changed.');
}

async function refused(guard: GuardDependencies, viewer: ConsoleViewer, ctx: Context, reason: string): Promise<void> {
  guard.log.warn({ event: 'console_refused', subject: viewer.user.id, path: ctx.path, reason }, 'console request refused');
  await recordEvent(guard.audit, guard.log, { type: 'admin.refused', subject: viewer.user.id, actor: viewer.user.name, via: 'console', reason, path: ctx.path, ip: ctx.ip });
}

export function viewerFor(user: PublicUser, sessionId: string, sessions: AdminSessions): ConsoleViewer {
  return { user, sessionId, csrf: sessions.csrfToken(sessionId), actor: consoleActor(user), isAdmin: user.roles.includes('admin') };
}
