import type { Grant } from 'oidc-provider';
import type { ResourceRegistry } from '../resources.ts';
import type { ConsentView, ScopeView } from './views.ts';

const OPENID_SCOPE_WORDS: Record<string, string> = {
  openid: 'Know who you are on this server',
  profile: 'See your username',
  offline_access: 'Stay connected when you are not using it',
};

/**
 * What the consent page lists for each resource of the request: the scopes this request adds, in
 * the words the resource declares, and the ones the user already allowed this application there.
 */
export function consentResources(
  resources: ResourceRegistry, requested: unknown, missing: Record<string, string[]>, grant: Grant | undefined,
): ConsentView['resources'] {
  const indicators = new Set([...Object.keys(missing), ...[requested].flat().filter((value): value is string => typeof value === 'string')]);
  return [...indicators].flatMap((uri) => {
    const resource = resources.find(uri);
    const words = (scope: string): ScopeView => ({ name: scope, description: resource?.scopeDescriptions?.[scope] });
    const added = missing[uri] ?? [];
    const alreadyGranted = (grant?.getResourceScope(uri).split(' ') ?? []).filter((scope) => scope && !added.includes(scope));
    if (added.length === 0 && alreadyGranted.length === 0) return [];
    return [{ uri, name: resource?.name, scopes: added.map(words), alreadyGranted: alreadyGranted.map(words) }];
  });
}

export function openidScopeViews(scopes: readonly string[]): ScopeView[] {
  return scopes.map((scope) => ({ name: scope, description: OPENID_SCOPE_WORDS[scope] }));
}
