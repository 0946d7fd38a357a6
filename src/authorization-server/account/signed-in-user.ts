import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { PublicUser, UserDirectory } from '../accounts/users.ts';

/** The active user of the browser's sign-in session, with the session's uid (for CSRF tokens). */
export async function signedInUser(provider: Provider, users: Pick<UserDirectory, 'findActiveById'>, ctx: Context): Promise<{ user: PublicUser; sessionUid: string } | undefined> {
  const session = await provider.Session.get(ctx as never);
  if (!session.accountId) return undefined;
  const user = await users.findActiveById(session.accountId);
  return user ? { user, sessionUid: session.uid } : undefined;
}
