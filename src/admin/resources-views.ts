import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { ElevationPolicyConfig, ResourceConfig } from '../config/index.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { dataTable, renderConsolePage } from './layout.ts';

const minutes = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

export interface ResourcesView {
  viewer: ConsoleViewer;
  resources: readonly ResourceConfig[];
  /** ACCESS_TOKEN_TTL_SECONDS, for resources without a lifetime of their own. */
  defaultAccessTokenTtlSeconds: number;
}

/** Each resource with its scopes, who may grant them, and how the elevated ones are handed out. Read-only. */
export function renderResources(view: ResourcesView): string {
  return renderConsolePage({ title: 'Resources and tool scopes', current: '/admin/resources', viewer: view.viewer, body: html`
<p class="muted">The MCP servers and APIs tokens are issued for, as the configuration file (CONFIG_FILE) declares them. They are changed there.</p>
${view.resources.map((resource) => resourceSection(resource, view.defaultAccessTokenTtlSeconds))}` });
}

function resourceSection(resource: ResourceConfig, defaultTtl: number): SafeHtml {
  const elevated = new Map((resource.elevation ?? []).flatMap((policy) => policy.scopes.map((scope) => [scope, policy] as const)));
  const defaults = new Set(resource.defaultScopes ?? []);
  return html`<section class="panel">
<h2>${resource.name ?? resource.uri}</h2>
<table class="facts">
<tr><th scope="row">Resource URI</th><td><code>${resource.uri}</code></td></tr>
<tr><th scope="row">Access tokens last</th><td>${minutes(resource.accessTokenTtlSeconds ?? defaultTtl)}${resource.accessTokenTtlSeconds ? '' : html` <span class="muted">(ACCESS_TOKEN_TTL_SECONDS)</span>`}</td></tr>
<tr><th scope="row">Default resource</th><td>${resource.default ? 'yes: used when a request names none' : 'no'}</td></tr>
<tr><th scope="row">Roles in tokens</th><td>${resource.rolesInToken ? 'yes' : 'no'}</td></tr>
</table>
${dataTable(['Scope', 'What it allows', 'Who may grant it'], resource.scopes.map((scope) => html`
<tr><td><code>${scope}</code>${defaults.has(scope) ? html` <span class="badge">default</span>` : ''}${elevated.has(scope) ? html` <span class="badge warn">elevated</span>` : ''}</td><td>${resource.scopeDescriptions?.[scope] ?? html`<span class="muted">no description</span>`}</td><td>${resource.scopeRoles?.[scope]?.join(', ') ?? html`<span class="muted">anyone</span>`}</td></tr>`))}
${(resource.elevation ?? []).map(policySection)}
</section>`;
}

/** How one group of elevated scopes is handed out: never standing, asked for with a reason, for a while. */
function policySection(policy: ElevationPolicyConfig): SafeHtml {
  return html`<h3>Elevated: ${policy.scopes.map((scope) => html`<code>${scope}</code> `)}</h3>
<table class="facts">
<tr><th scope="row">Longest elevation</th><td>${minutes(policy.maxDurationSeconds)}</td></tr>
<tr><th scope="row">Reason</th><td>${policy.reasonRequired ? 'required' : 'optional'}</td></tr>
<tr><th scope="row">Approval</th><td>${policy.approval === 'one-approver' ? `one approver, who has ${minutes(policy.approvalTimeoutSeconds)} to decide` : 'none'}</td></tr>
<tr><th scope="row">Break-glass</th><td>${policy.breakGlass ? 'users with the break-glass role may skip the approval (alerted, reviewed afterwards)' : 'no'}</td></tr>
</table>`;
}
