import type { ElevationPolicyConfig, ResourceConfig } from '../../config/index.ts';

export type ElevationRules = Omit<ElevationPolicyConfig, 'scopes'>;

export interface ElevatedRequest {
  resource: string;
  /** The elevated scopes asked for, in the order the resource lists them. */
  scopes: string[];
  rules: ElevationRules;
}

/** Every elevated scope of a resource. */
export function elevatedScopes(resource: ResourceConfig | undefined): Set<string> {
  return new Set((resource?.elevation ?? []).flatMap((policy) => policy.scopes));
}

/**
 * The elevated scopes among `requested` and the rules that apply to them; when they come from
 * several entries, the strictest of each rule wins. Undefined when none is elevated.
 */
export function elevatedRequest(resource: ResourceConfig | undefined, requested: Iterable<string>): ElevatedRequest | undefined {
  const wanted = new Set(requested);
  const policies = (resource?.elevation ?? []).filter((policy) => policy.scopes.some((scope) => wanted.has(scope)));
  if (!resource || policies.length === 0) return undefined;
  return {
    resource: resource.uri,
    scopes: resource.scopes.filter((scope) => wanted.has(scope) && policies.some((policy) => policy.scopes.includes(scope))),
    rules: {
      maxDurationSeconds: Math.min(...policies.map((policy) => policy.maxDurationSeconds)),
      reasonRequired: policies.some((policy) => policy.reasonRequired),
      approval: policies.some((policy) => policy.approval === 'one-approver') ? 'one-approver' : 'none',
      breakGlass: policies.every((policy) => policy.breakGlass),
      approvalTimeoutSeconds: Math.min(...policies.map((policy) => policy.approvalTimeoutSeconds)),
    },
  };
}

export function withoutScopes(scope: string, removed: Set<string>): string {
  return scope.split(' ').filter((name) => name && !removed.has(name)).join(' ');
}
