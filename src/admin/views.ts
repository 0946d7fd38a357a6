import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import { page } from '../authorization-server/interactions/views.ts';
import type { Elevation } from '../authorization-server/elevation/records.ts';

export interface SignInView {
  csrf: string;
  username?: string;
  error?: string;
}

export function renderSignIn(view: SignInView): string {
  return page('Console sign-in', html`
<h1>Approvals console</h1>
<p class="muted">For approvers and administrators.</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<form method="post" action="/admin/sign-in">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${view.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="primary">Sign in</button>
</form>`);
}

export interface ApprovalsView {
  csrf: string;
  viewer: { id: string; name: string; isAdmin: boolean };
  pending: Elevation[];
  active: Elevation[];
  breakGlass: Elevation[];
  resourceName(uri: string): string;
  message?: { text: string; kind: 'error' | 'notice' } | undefined;
}

const time = (seconds: number | undefined) => (seconds ? `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '-');
const minutes = (seconds: number) => `${Math.round(seconds / 60)} minutes`;

function facts(elevation: Elevation, resourceName: (uri: string) => string, extra: Array<[string, string]> = []): SafeHtml {
  const rows: Array<[string, string]> = [
    ['Requester', elevation.requester.name], ['Resource', resourceName(elevation.resource)], ['Rights', elevation.scopes.join(', ')],
    ['For', minutes(elevation.durationSeconds)], ['Reason', elevation.reason], ...(elevation.ticket ? [['Ticket', elevation.ticket] as [string, string]] : []),
    ['Application', elevation.client.name], ...extra,
  ];
  return html`<table>${rows.map(([name, value]) => html`<tr><th scope="row">${name}</th><td>${value}</td></tr>`)}</table>`;
}

export function renderApprovals(view: ApprovalsView): string {
  const form = (action: string, body: SafeHtml) => html`<form method="post" action="${action}" class="decision"><input type="hidden" name="csrf" value="${view.csrf}">${body}</form>`;
  return page('Approvals', html`
<h1>Approvals</h1>
<p class="muted">Signed in as <strong>${view.viewer.name}</strong>.</p>
${view.message ? html`<p class="${view.message.kind}" role="alert">${view.message.text}</p>` : ''}
<h2>Waiting for a decision</h2>
${view.pending.length === 0 ? html`<p class="muted">Nothing waits for a decision.</p>` : view.pending.map((elevation) => html`
<section class="request" id="request-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Asked at', time(elevation.requestedAt)], ['Expires at', time(elevation.decideBy)]])}
  ${elevation.requester.id === view.viewer.id
    ? html`<p class="muted">This is your own request: another approver must decide.</p>`
    : form(`/admin/approvals/${elevation.id}`, html`<button type="submit" name="decision" value="deny">Deny</button><button type="submit" name="decision" value="approve" class="primary">Approve</button>`)}
</section>`)}
<h2>Active elevated access</h2>
${view.active.length === 0 ? html`<p class="muted">No one has elevated access now.</p>` : view.active.map((elevation) => html`
<section class="request" id="active-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Approved by', elevation.breakGlass ? 'emergency access' : elevation.approver?.name ?? 'no approval needed'], ['Ends at', time(elevation.end)]])}
  ${form(`/admin/elevations/${elevation.id}/revoke`, html`<button type="submit" name="action" value="revoke">End now</button>`)}
</section>`)}
<h2>Emergency access to review</h2>
${view.breakGlass.length === 0 ? html`<p class="muted">No emergency access waits for review.</p>` : view.breakGlass.map((elevation) => html`
<section class="request" id="break-glass-${elevation.id}">
  ${facts(elevation, view.resourceName, [['Started at', time(elevation.start)], ['Ends at', time(elevation.end)]])}
  ${view.viewer.isAdmin
    ? form(`/admin/elevations/${elevation.id}/acknowledge`, html`<button type="submit" name="action" value="acknowledge">Mark as reviewed</button>`)
    : html`<p class="muted">An administrator reviews this.</p>`}
</section>`)}
${form('/admin/sign-out', html`<button type="submit">Sign out</button>`)}`);
}

export function renderConsoleError(text: string): string {
  return page('Console', html`
<h1>Approvals console</h1>
<p class="error" role="alert">${text}</p>
<p><a href="/admin/approvals">Back to the approvals</a></p>`);
}
