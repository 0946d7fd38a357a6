import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { ClientKind, ClientSummary } from './clients/index.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { consoleForm, dataTable, renderConsolePage, type ConsoleMessage } from './layout.ts';

const KNOWN_FROM: Record<ClientKind, string> = {
  static: 'configuration file',
  operator: 'added by an operator',
  registered: 'registered itself',
  'metadata-document': 'metadata document',
};

export const clientPath = (clientId: string) => `/admin/clients/client?id=${encodeURIComponent(clientId)}`;
const when = (seconds: number | undefined, none: string) => (seconds === undefined ? html`<span class="muted">${none}</span>` : `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`);

export interface ClientsListView {
  viewer: ConsoleViewer;
  clients: ClientSummary[];
  message?: ConsoleMessage | undefined;
  /** The idle days the clean-up form starts with. */
  idleDays: number;
  /** REGISTERED_CLIENT_MAX_IDLE_DAYS, when the hourly clean-up is on. */
  scheduledIdleDays: number | undefined;
}

export function renderClientsList(view: ClientsListView): string {
  return renderConsolePage({ title: 'Clients', viewer: view.viewer, message: view.message, body: html`
<section class="panel">
<p class="muted">Every application that can ask for access: from the configuration file, added by an operator with <code>portcullis clients add</code>, registered by itself at /reg, or described by a metadata document at its address (those are listed once they have got tokens, for 90 days).</p>
${view.clients.length === 0 ? html`<p class="muted">No clients yet.</p>` : dataTable(['Name', 'Known from', 'Last got tokens', 'Active grants'], view.clients.map((client) => html`
<tr><td><a href="${clientPath(client.clientId)}">${client.name ?? client.clientId}</a></td><td>${KNOWN_FROM[client.kind]}</td><td>${when(client.lastUsedAt, 'not yet')}</td><td>${client.activeGrants}</td></tr>`))}
</section>
<section class="panel">
<h2>Clean up unused registered clients</h2>
<p class="muted">${view.scheduledIdleDays === undefined
    ? 'Registered clients are kept however long they go unused (REGISTERED_CLIENT_MAX_IDLE_DAYS is not set).'
    : `Every hour, registered clients that got no tokens for ${view.scheduledIdleDays} days are deleted (REGISTERED_CLIENT_MAX_IDLE_DAYS).`}
Only clients that registered themselves are cleaned up; you see the list before anything is deleted.</p>
<form method="get" action="/admin/clients/clean-up" class="inline">
  <label for="idle-days" class="muted">Not used for</label>
  <input id="idle-days" name="days" type="number" min="1" max="3650" required value="${view.idleDays}">
  <span class="muted">days</span>
  <button type="submit">Show them</button>
</form>
</section>` });
}

export interface ClientView {
  viewer: ConsoleViewer;
  client: ClientSummary;
  message?: ConsoleMessage | undefined;
  /** A secret just made, shown this once. */
  newSecret?: string | undefined;
  /** The longest access-token lifetime, in minutes: how long tokens already issued keep working. */
  accessTokenMinutes: number;
}

export function renderClient(view: ClientView): string {
  const { viewer, client } = view;
  const hidden = html`<input type="hidden" name="client_id" value="${client.clientId}">`;
  return renderConsolePage({ title: `Client ${client.name ?? client.clientId}`, current: '/admin/clients', viewer, message: view.message, body: html`
<p><a href="/admin/clients">All clients</a></p>
${view.newSecret ? html`<div class="once panel"><p>The new client secret, shown this once. Put it into the application's settings now; the old secret no longer works:</p><p><code>${view.newSecret}</code></p></div>` : ''}
<section class="panel">
<table class="facts">
<tr><th scope="row">Client ID</th><td><code>${client.clientId}</code></td></tr>
<tr><th scope="row">Known from</th><td>${KNOWN_FROM[client.kind]}</td></tr>
<tr><th scope="row">Signs in with</th><td>${client.confidential ? 'a client secret' : 'no secret (PKCE or a key of its own)'}</td></tr>
<tr><th scope="row">Redirect URIs</th><td>${client.redirectUris.length ? client.redirectUris.map((uri) => html`<code>${uri}</code><br>`) : html`<span class="muted">none</span>`}</td></tr>
<tr><th scope="row">Added</th><td>${when(client.createdAt, 'unknown')}</td></tr>
<tr><th scope="row">Last got tokens</th><td>${when(client.lastUsedAt, 'not yet')}</td></tr>
<tr><th scope="row">Active grants</th><td>${client.activeGrants}</td></tr>
</table>
${readOnlyNote(client.kind)}
</section>
<section class="panel">
<h2>Revoke all grants</h2>
<p class="muted">Every user's permission for this application ends and its refresh tokens stop working now; users are asked again next time. Access tokens already issued are signed and cannot be called back: they keep working until they expire, within ${view.accessTokenMinutes} minutes.</p>
${consoleForm(viewer, '/admin/clients/revoke-grants', html`${hidden}<button type="submit" class="danger">Revoke all grants</button>`, { layout: 'inline' })}
</section>
${client.confidential && changeable(client.kind) ? html`<section class="panel">
<h2>New client secret</h2>
<p class="muted">Makes a new secret and shows it once; the old one stops working at once.</p>
${consoleForm(viewer, '/admin/clients/rotate-secret', hidden, { reauth: true, actions: html`<button type="submit" class="primary">Make a new secret</button>` })}
</section>` : ''}
${changeable(client.kind) ? html`<section class="panel">
<h2>Delete</h2>
${consoleForm(viewer, '/admin/clients/delete', html`${hidden}
  <label class="check"><input type="checkbox" name="confirm" value="yes" required> Delete this client and end all its grants</label>
  <button type="submit" class="danger">Delete client</button>`)}
</section>` : ''}` });
}

const changeable = (kind: ClientKind) => kind === 'operator' || kind === 'registered';

function readOnlyNote(kind: ClientKind): SafeHtml | string {
  if (kind === 'static') return html`<p class="warning">This client is defined in the configuration file (CONFIG_FILE): change or remove it there. Here you can only revoke its grants.</p>`;
  if (kind === 'metadata-document') return html`<p class="warning">This client describes itself in a document at its client ID address; it cannot be changed or deleted here. To refuse it, narrow CIMD_ALLOWED_HOSTS or set CIMD=off.</p>`;
  return '';
}

export interface CleanUpView {
  viewer: ConsoleViewer;
  days: number;
  idle: ClientSummary[];
}

/** What a clean-up would delete, with the button that does it. */
export function renderCleanUpPreview(view: CleanUpView): string {
  const { viewer, days, idle } = view;
  return renderConsolePage({ title: 'Clean up unused clients', current: '/admin/clients', viewer, body: html`
<p><a href="/admin/clients">All clients</a></p>
<section class="panel">
<p><strong>${idle.length}</strong> registered client${idle.length === 1 ? ' has' : 's have'} got no tokens for ${days} days.</p>
${idle.length === 0 ? '' : html`${dataTable(['Name', 'Added', 'Last got tokens'], idle.map((client) => html`
<tr><td>${client.name ?? client.clientId}</td><td>${when(client.createdAt, 'unknown')}</td><td>${when(client.lastUsedAt, 'never')}</td></tr>`))}
${consoleForm(viewer, '/admin/clients/clean-up', html`<input type="hidden" name="days" value="${days}">
  <button type="submit" class="danger">Delete ${idle.length} client${idle.length === 1 ? '' : 's'}</button>`)}`}
</section>` });
}

/** The clean-up form again, with what was wrong with the number of days. */
export function renderCleanUpRefused(viewer: ConsoleViewer, problem: string): string {
  return renderConsolePage({ title: 'Clean up unused clients', current: '/admin/clients', viewer, message: { kind: 'error', text: problem }, body: html`
<p><a href="/admin/clients">Back to all clients</a></p>` });
}
