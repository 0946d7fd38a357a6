import { errors, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceRegistry } from './resources.ts';

/**
 * oidc-provider's `extraParams` validator for `scope`; it runs on every authorization request
 * after the resource is resolved. A request without `scope` gets the resource's default scopes
 * (RFC 6749 §3.3), shown on consent like any other. Without defaults it is answered with
 * `invalid_scope` at once, instead of an `access_denied` after the user has signed in.
 */
export function defaultScopesWhenMissing(resources: ResourceRegistry) {
  return async (ctx: KoaContextWithOIDC, value: unknown): Promise<void> => {
    if (typeof value === 'string' && value !== '') return;
    const indicators = Object.keys(ctx.oidc.resourceServers ?? {});
    if (indicators.length === 0) {
      throw new errors.InvalidScope('the request names no scope and no resource; name the scopes you need and the resource (RFC 8707) they are for', '');
    }
    const defaults = new Set<string>();
    for (const indicator of indicators) {
      const resource = resources.find(indicator);
      if (!resource?.defaultScopes?.length) {
        throw new errors.InvalidScope(`the request names no scope and ${indicator} has no default scopes; ask for some of: ${resource?.scopes.join(' ') ?? ''}`.trimEnd(), '');
      }
      resource.defaultScopes.forEach((scope) => defaults.add(scope));
    }
    ctx.oidc.params!.scope = [...defaults].join(' ');
  };
}

/**
 * oidc-provider's `loadExistingGrant`, as by default (the grant of this consent, or the session's
 * for this client), but a request for a resource also asks for what the user already granted this
 * client there. So a request that adds a scope shows consent only for the added one, and its token
 * carries the union: a client that steps up with just the missing scope does not lose the others.
 */
export async function loadGrantWithGrantedScopes(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client!.clientId);
  if (!grantId) return undefined;
  const grant = await oidc.provider.Grant.find(grantId);
  if (!grant || grant.accountId !== oidc.account?.accountId || grant.clientId !== oidc.client?.clientId) return grant;
  const requested = new Set(String(oidc.params?.scope ?? '').split(' ').filter(Boolean));
  for (const indicator of Object.keys(oidc.resourceServers ?? {})) {
    grant.getResourceScope(indicator).split(' ').filter(Boolean).forEach((scope) => requested.add(scope));
  }
  if (requested.size > 0) oidc.params!.scope = [...requested].join(' ');
  return grant;
}
