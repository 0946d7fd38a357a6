import type { KoaContextWithOIDC } from 'oidc-provider';
import { rolesClaim } from './accounts/grantable-scopes.ts';
import type { UserDirectory } from './accounts/users.ts';
import type { ResourceRegistry } from './resources.ts';

interface SignInFacts {
  authTime?: number;
  amr?: string[];
  acr?: string;
}

/**
 * What an access token says beyond oidc-provider's own claims: how and when the user signed in
 * (`auth_time`, `amr`, `acr`: RFC 9068 §2.2.1, for step-up per RFC 9470) and, for resources that
 * ask for them, the user's `roles`.
 */
export async function accessTokenClaims(
  ctx: KoaContextWithOIDC | undefined, token: { accountId?: string; resourceServer?: { audience?: string } | undefined },
  resources: ResourceRegistry, users: Pick<UserDirectory, 'findActiveById'>,
): Promise<Record<string, unknown> | undefined> {
  const source = (ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken) as SignInFacts | undefined;
  const audience = token.resourceServer?.audience;
  const roles = await rolesClaim(audience === undefined ? undefined : resources.find(audience), token.accountId, users);
  const claims = {
    ...(source?.authTime ? { auth_time: source.authTime } : {}),
    ...(source?.amr?.length ? { amr: source.amr } : {}),
    ...(source?.acr ? { acr: source.acr } : {}),
    ...roles,
  };
  return Object.keys(claims).length ? claims : undefined;
}
