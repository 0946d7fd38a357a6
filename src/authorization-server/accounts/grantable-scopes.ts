import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { ResourceConfig } from '../../config/index.ts';
import type { ResourceRegistry } from '../resources.ts';
import type { UserDirectory } from './users.ts';

/**
 * The scopes of a resource a user with these roles may grant: every scope without a rule in
 * `scopeRoles`, and each scope with one when the user holds one of its roles.
 */
export function grantableScopes(resource: Pick<ResourceConfig, 'scopes' | 'scopeRoles'>, roles: readonly string[]): string[] {
  const rules = resource.scopeRoles ?? {};
  return resource.scopes.filter((scope) => rules[scope]?.some((role) => roles.includes(role)) ?? true);
}

/** The signed-in user the request acts for: the grant's at the token endpoint, the session's at /authorize. */
function accountIdOf(ctx: KoaContextWithOIDC): string | undefined {
  const oidc = ctx?.oidc as (KoaContextWithOIDC['oidc'] & { session?: { accountId?: string } }) | undefined;
  return oidc?.entities?.Grant?.accountId ?? oidc?.session?.accountId;
}

/** The scopes the request would put in a token for this resource, before the role rules. */
function scopesAskedFor(ctx: KoaContextWithOIDC, resource: ResourceConfig): string[] {
  const { entities, params } = ctx.oidc;
  const source = ctx.oidc.route === 'token'
    ? (typeof params?.scope === 'string' ? params.scope : (entities.AuthorizationCode ?? entities.RefreshToken)?.scope)
    : (typeof params?.scope === 'string' ? params.scope : undefined);
  return (source ?? '').split(' ').filter((scope) => resource.scopes.includes(scope));
}

/**
 * oidc-provider's getResourceServerInfo, narrowed to what the signed-in user may grant. Consent
 * then asks only for those scopes, and every token (also each refresh, after roles change) is cut
 * to them. When the user may grant none of the scopes asked for, the request is refused:
 * `access_denied` at /authorize, `invalid_grant` at the token endpoint.
 */
export async function grantableServerInfo(
  ctx: KoaContextWithOIDC, indicator: string, resources: ResourceRegistry, users: Pick<UserDirectory, 'findActiveById'>,
  baseInfo: () => Promise<ResourceServer> = async () => resources.serverInfo(indicator),
): Promise<ResourceServer> {
  const info = await baseInfo();
  const resource = resources.find(indicator)!;
  const accountId = accountIdOf(ctx);
  if (!resource.scopeRoles || accountId === undefined) return info;
  const roles = (await users.findActiveById(accountId))?.roles ?? [];
  const allowed = grantableScopes(resource, roles);
  const asked = scopesAskedFor(ctx, resource);
  if (asked.length > 0 && !asked.some((scope) => allowed.includes(scope))) {
    const description = `your account may not grant ${asked.join(' ')} for ${resource.name ?? resource.uri}`;
    throw ctx.oidc.route === 'token' ? new errors.InvalidGrant(description) : new errors.AccessDenied(description);
  }
  return { ...info, scope: (info.scope ?? '').split(' ').filter((scope) => allowed.includes(scope)).join(' ') };
}

/** The `roles` claim for access tokens of resources that ask for it (`rolesInToken`). */
export async function rolesClaim(resource: ResourceConfig | undefined, accountId: string | undefined, users: Pick<UserDirectory, 'findActiveById'>): Promise<{ roles: string[] } | undefined> {
  if (!resource?.rolesInToken || accountId === undefined) return undefined;
  return { roles: (await users.findActiveById(accountId))?.roles ?? [] };
}
