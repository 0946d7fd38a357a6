import type { PublicUser } from './users.ts';

/** Every claim the directory can tell; oidc-provider releases only those of the scopes the user consented to. */
export function profileClaims(user: PublicUser): { sub: string; [claim: string]: unknown } {
  return {
    sub: user.id,
    preferred_username: user.name,
    ...(user.displayName ? { name: user.displayName } : {}),
    ...(user.email ? { email: user.email, email_verified: user.emailVerified === true } : {}),
  };
}
