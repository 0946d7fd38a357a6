import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Store } from '../storage/index.ts';

export const SESSION_COOKIE = 'portcullis_admin';
export const SIGN_IN_COOKIE = 'portcullis_admin_signin';
/** Console sessions are short: an approver signs in to decide, not to stay. */
export const SESSION_SECONDS = 30 * 60;

interface StoredSession {
  userId: string;
}

/**
 * The console's own session: a random id in a cookie signed with the cookie key (HMAC), its
 * record in the Store (so every instance knows it, and signing out ends it everywhere).
 * Cookies are HttpOnly, SameSite=Strict, limited to /admin, and Secure over https.
 */
export class AdminSessions {
  readonly #store: Store;
  readonly #secret: string;
  constructor(store: Store, cookieKey: string) {
    this.#store = store;
    this.#secret = createHmac('sha256', cookieKey).update('portcullis admin console').digest('base64url');
  }

  async start(ctx: Context, userId: string): Promise<void> {
    const id = randomBytes(32).toString('base64url');
    await this.#store.put(`admin-session:${id}`, { userId } satisfies StoredSession, { ttlSeconds: SESSION_SECONDS });
    this.#setCookie(ctx, SESSION_COOKIE, this.#sign(id), SESSION_SECONDS);
  }

  /** The signed-in session: its id (for CSRF tokens) and user id; undefined without a valid one. */
  async current(ctx: Context): Promise<{ id: string; userId: string } | undefined> {
    const id = this.#verified(ctx.cookies.get(SESSION_COOKIE));
    if (!id) return undefined;
    const record = await this.#store.get<StoredSession>(`admin-session:${id}`);
    return record ? { id, userId: record.value.userId } : undefined;
  }

  async end(ctx: Context): Promise<void> {
    const id = this.#verified(ctx.cookies.get(SESSION_COOKIE));
    if (id) await this.#store.delete(`admin-session:${id}`);
    this.#setCookie(ctx, SESSION_COOKIE, '', 0);
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

  /** The random value the sign-in form's CSRF token is bound to; set on first view. */
  signInBinding(ctx: Context, create: boolean): string | undefined {
    const existing = this.#verified(ctx.cookies.get(SIGN_IN_COOKIE));
    if (existing || !create) return existing;
    const value = randomBytes(16).toString('base64url');
    this.#setCookie(ctx, SIGN_IN_COOKIE, this.#sign(value), 600);
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
