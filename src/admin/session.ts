import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Store } from '../storage/index.ts';

export const SESSION_COOKIE = 'portcullis_admin';
export const SIGN_IN_COOKIE = 'portcullis_admin_signin';
/** A console session ends after this long without a request (sliding)... */
export const IDLE_SECONDS = 15 * 60;
/** ...and in any case this long after sign-in. */
export const ABSOLUTE_SECONDS = 8 * 60 * 60;
/** The sign-in form and the step between password and second factor last this long. */
export const SIGN_IN_SECONDS = 10 * 60;

export interface StoredAdminSession {
  userId: string;
  /** Unix seconds. */
  startedAt: number;
  lastSeenAt: number;
  /** How the second step was passed, when there was one: `totp` or `recovery_code`. */
  secondFactor?: string | undefined;
}

export interface AdminSession extends StoredAdminSession {
  id: string;
}

export const sessionKey = (id: string) => `admin-session:${id}`;
export const sessionsOfUser = (userId: string) => `admin-sessions:${userId}`;

/**
 * The console's own session: a random id in a cookie signed with the cookie key (HMAC), its
 * record in the Store (so every instance knows it, and signing out ends it everywhere). Idle
 * timeout and absolute lifetime are checked here, the Store's TTL only cleans up.
 * Cookies are HttpOnly, SameSite=Strict, limited to /admin, and Secure over https.
 */
export class AdminSessions {
  readonly #store: Store;
  readonly #secret: string;
  readonly #now: () => number;
  constructor(store: Store, cookieKey: string, now = () => Math.floor(Date.now() / 1000)) {
    this.#store = store;
    this.#secret = createHmac('sha256', cookieKey).update('portcullis admin console').digest('base64url');
    this.#now = now;
  }

  async start(ctx: Context, userId: string, secondFactor?: string): Promise<AdminSession> {
    const id = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: StoredAdminSession = { userId, startedAt: now, lastSeenAt: now, ...(secondFactor ? { secondFactor } : {}) };
    await this.#store.put(sessionKey(id), session, { ttlSeconds: IDLE_SECONDS, tags: [sessionsOfUser(userId)] });
    this.#setCookie(ctx, SESSION_COOKIE, this.#sign(id), ABSOLUTE_SECONDS);
    return { id, ...session };
  }

  /**
   * The signed-in session, its idle time reset; undefined without one, and `expired` when the
   * cookie names a session that timed out or was ended (so the sign-in page can say why).
   */
  async current(ctx: Context): Promise<AdminSession | 'expired' | undefined> {
    const id = this.#verified(ctx.cookies.get(SESSION_COOKIE));
    if (!id) return undefined;
    const record = (await this.#store.get<StoredAdminSession>(sessionKey(id)))?.value;
    const now = this.#now();
    if (!record || now - record.lastSeenAt > IDLE_SECONDS || now - record.startedAt > ABSOLUTE_SECONDS) {
      if (record) await this.#store.delete(sessionKey(id));
      this.#setCookie(ctx, SESSION_COOKIE, '', 0);
      return 'expired';
    }
    const touched = { ...record, lastSeenAt: now };
    const ttlSeconds = Math.max(1, Math.min(IDLE_SECONDS, record.startedAt + ABSOLUTE_SECONDS - now));
    await this.#store.put(sessionKey(id), touched, { ttlSeconds, tags: [sessionsOfUser(record.userId)] });
    return { id, ...touched };
  }

  async end(ctx: Context): Promise<void> {
    const id = this.#verified(ctx.cookies.get(SESSION_COOKIE));
    if (id) await this.#store.delete(sessionKey(id));
    this.#setCookie(ctx, SESSION_COOKIE, '', 0);
  }

  /** Every console session of a user (disabled, password reset, roles changed). */
  async endAllOf(userId: string): Promise<void> {
    await this.#store.deleteByTag(sessionsOfUser(userId));
  }

  /** A form token bound to this session (or, before sign-in, to the sign-in cookie). */
  csrfToken(bound: string): string {
    return createHmac('sha256', this.#secret).update(`admin-csrf:${bound}`).digest('base64url');
  }

  csrfValid(bound: string, presented: string | null): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfToken(bound));
    const actual = Buffer.from(presented);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** The random value the sign-in form's CSRF token (and the pending second step) is bound to; set on first view. */
  signInBinding(ctx: Context, create: boolean): string | undefined {
    const existing = this.#verified(ctx.cookies.get(SIGN_IN_COOKIE));
    if (existing || !create) return existing;
    const value = randomBytes(16).toString('base64url');
    this.#setCookie(ctx, SIGN_IN_COOKIE, this.#sign(value), SIGN_IN_SECONDS);
    return value;
  }

  #sign(value: string): string {
    return `${value}.${createHmac('sha256', this.#secret).update(value).digest('base64url')}`;
  }

  #verified(cookie: string | undefined): string | undefined {
    const [value, signature] = (cookie ?? '').split('.');
    if (!value || !signature) return undefined;
    const expected = Buffer.from(this.#sign(value));
    const actual = Buffer.from(cookie!);
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? value : undefined;
  }

  #setCookie(ctx: Context, name: string, value: string, maxAgeSeconds: number): void {
    ctx.cookies.set(name, value, {
      path: '/admin', httpOnly: true, sameSite: 'strict', secure: ctx.secure, overwrite: true,
      ...(maxAgeSeconds > 0 ? { maxAge: maxAgeSeconds * 1000 } : { expires: new Date(0) }),
    });
  }
}
