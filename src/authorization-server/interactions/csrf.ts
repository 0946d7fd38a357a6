import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF token for an interaction's forms: an HMAC of its uid under the cookie key. A forged
 * cross-site post would also need the victim's interaction cookie for that uid, which
 * oidc-provider checks, and SameSite=Lax keeps from being sent anyway; this is the second lock.
 */
export function csrfToken(secret: string, uid: string): string {
  return createHmac('sha256', secret).update(`interaction-csrf:${uid}`).digest('base64url');
}

export function csrfTokenValid(secret: string, uid: string, presented: string | null): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfToken(secret, uid));
  const actual = Buffer.from(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The CSRF key is derived from the newest cookie key, so instances that share cookies agree on it. */
export function csrfSecretFrom(cookieKeys: readonly string[]): string {
  return createHmac('sha256', cookieKeys[0]!).update('portcullis csrf key').digest('base64url');
}
