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
${dataTable(['Scope', 'What it allows', 'Default', 'Who may grant it', 'Elevated'], resource.scopes.map((scope) => html`
<tr><td><code>${scope}</code></td><td>${resource.scopeDescriptions?.[scope] ?? html`<span class="muted">no description</span>`}</td><td>${defaults.has(scope) ? 'yes' : ''}</td><td>${resource.scopeRoles?.[scope]?.join(', ') ?? html`<span class="muted">anyone</span>`}</td><td>${elevated.has(scope) ? html`<span class="badge warn">elevated</span>` : ''}</td></tr>`))}
${(resource.elevation ?? []).length === 0 ? '' : html`<h3>Elevated scopes</h3>
${dataTable(['Scopes', 'Longest elevation', 'Reason', 'Approval', 'Approver waits', 'Break-glass'], resource.elevation!.map(policyRow))}`}
</section>`;
}

function policyRow(policy: ElevationPolicyConfig): SafeHtml {
  return html`<tr><td>${policy.scopes.map((scope) => html`<code>${scope}</code> `)}</td><td>${minutes(policy.maxDurationSeconds)}</td><td>${policy.reasonRequired ? 'required' : 'optional'}</td><td>${policy.approval === 'one-approver' ? 'one approver' : 'none'}</td><td>${policy.approval === 'one-approver' ? minutes(policy.approvalTimeoutSeconds) : '-'}</td><td>${policy.breakGlass ? 'allowed' : 'no'}</td></tr>`;
}
