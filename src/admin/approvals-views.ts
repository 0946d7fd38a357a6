import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { Elevation } from '../authorization-server/elevation/records.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { consoleForm, renderConsolePage, type ConsoleMessage } from './layout.ts';

export interface ApprovalsView {
  viewer: ConsoleViewer;
  pending: Elevation[];
  active: Elevation[];
  breakGlass: Elevation[];
  resourceName(uri: string): string;
  message?: ConsoleMessage | undefined;
}

const time = (seconds: number | undefined) => (seconds ? `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');
const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;

function facts(elevation: Elevation, resourceName: (uri: string) => string, extra: Array<[string, string]> = []): SafeHtml {
  const rows: Array<[string, string]> = [
    ['Requester', elevation.requester.name], ['Resource', resourceName(elevation.resource)], ['Rights', elevation.scopes.join(', ')],
    ['For', minutes(elevation.durationSeconds)], ['Reason', elevation.reason], ...(elevation.ticket ? [['Ticket', elevation.ticket] as [string, string]] : []),
    ['Application', elevation.client.name], ...extra,
  ];
  return html`<table class="facts">${rows.map(([name, value]) => html`<tr><th scope="row">${name}</th><td>${value}</td></tr>`)}</table>`;
}

export function renderApprovals(view: ApprovalsView): string {
  const { viewer } = view;
  const form = (action: string, body: SafeHtml) => consoleForm(viewer, action, html`<div class="actions">${body}</div>`, { layout: 'stack' });
  return renderConsolePage({ title: 'Approvals', viewer, message: view.message, body: html`
<section class="panel">
<h2>Waiting for a decision</h2>
${view.pending.length === 0 ? html`<p class="muted">Nothing waits for a decision.</p>` : view.pending.map((elevation) => html`
<section class="request" id="request-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Asked at', time(elevation.requestedAt)], ['Expires at', time(elevation.decideBy)]])}
  ${elevation.requester.id === viewer.user.id
    ? html`<p class="muted">This is your own request: another approver must decide.</p>`
    : form(`/admin/approvals/${elevation.id}`, html`<button type="submit" name="decision" value="deny">Deny</button><button type="submit" name="decision" value="approve" class="primary">Approve</button>`)}
</section>`)}
</section>
<section class="panel">
<h2>Active elevated access</h2>
${view.active.length === 0 ? html`<p class="muted">No one has elevated access now.</p>` : view.active.map((elevation) => html`
<section class="request" id="active-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Approved by', elevation.breakGlass ? 'emergency access' : elevation.approver?.name ?? 'no approval needed'], ['Ends at', time(elevation.end)]])}
  ${form(`/admin/elevations/${elevation.id}/revoke`, html`<button type="submit" name="action" value="revoke">End now</button>`)}
</section>`)}
</section>
<section class="panel">
<h2>Emergency access to review</h2>
${view.breakGlass.length === 0 ? html`<p class="muted">No emergency access waits for review.</p>` : view.breakGlass.map((elevation) => html`
<section class="request" id="break-glass-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Started at', time(elevation.start)], ['Ends at', time(elevation.end)]])}
  ${viewer.isAdmin
    ? form(`/admin/elevations/${elevation.id}/acknowledge`, html`<button type="submit" name="action" value="acknowledge">Mark as reviewed</button>`)
    : html`<p class="muted">An administrator reviews this.</p>`}
</section>`)}
</section>` });
}
