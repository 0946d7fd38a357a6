import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { AccountSession } from '../authorization-server/accounts/account-access.ts';
import { BUILT_IN_ROLES } from '../authorization-server/accounts/users.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { consoleForm, dataTable, renderConsolePage, type ConsoleMessage } from './layout.ts';
import type { UserSummary } from './services/users.ts';

/** A field that was refused, and why, to show under it. */
export type FieldErrors = Partial<Record<string, string>>;

const userPath = (name: string) => `/admin/users/${encodeURIComponent(name)}`;
const time = (value: string | number | undefined) => {
  if (value === undefined) return '-';
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

function secondFactorText(user: UserSummary): string {
  const { totp, passkeys, recoveryCodesLeft } = user.secondFactor;
  const kinds = [...(totp ? ['authenticator app'] : []), ...(passkeys.length ? [`${passkeys.length} passkey${passkeys.length > 1 ? 's' : ''}`] : [])];
  if (kinds.length === 0) return 'none';
  return `${kinds.join(', ')}; ${recoveryCodesLeft} recovery code${recoveryCodesLeft === 1 ? '' : 's'} left`;
}

const status = (user: UserSummary) => (user.disabled ? html`<span class="badge bad">disabled</span>` : html`<span class="badge ok">active</span>`);

function field(id: string, label: string, input: SafeHtml, errors: FieldErrors, hint?: string): SafeHtml {
  const error = errors[id];
  return html`<label for="${id}">${label}</label>${input}${hint ? html`<p class="muted">${hint}</p>` : ''}${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}`;
}

const invalid = (errors: FieldErrors, id: string) => (errors[id] ? html` aria-invalid="true" aria-describedby="${id}-error"` : '');

export interface UsersListView {
  viewer: ConsoleViewer;
  users: UserSummary[];
  search: string;
  message?: ConsoleMessage | undefined;
  /** The add form as it was sent, with what was wrong. */
  add?: { username: string; errors: FieldErrors };
}

export function renderUsersList(view: UsersListView): string {
  const errors = view.add?.errors ?? {};
  return renderConsolePage({ title: 'Users', viewer: view.viewer, message: view.message, body: html`
<section class="panel">
<form method="get" action="/admin/users" class="inline" role="search">
  <label for="q" class="muted">Find</label>
  <input id="q" name="q" value="${view.search}" placeholder="name or e-mail" autocapitalize="none" spellcheck="false">
  <button type="submit">Search</button>
</form>
${view.users.length === 0 ? html`<p class="muted">${view.search ? 'No user matches.' : 'No users yet.'}</p>` : dataTable(['Name', 'Status', 'Roles', 'Second factor', 'Added'], view.users.map((user) => html`
<tr><td><a href="${userPath(user.name)}">${user.name}</a></td><td>${status(user)}</td><td>${user.roles.join(', ') || html`<span class="muted">none</span>`}</td><td>${secondFactorText(user)}</td><td>${time(user.createdAt)}</td></tr>`))}
</section>
<section class="panel">
<h2>Add a user</h2>
${consoleForm(view.viewer, '/admin/users/add', html`
  ${field('new-username', 'Username', html`<input id="new-username" name="username" required autocapitalize="none" spellcheck="false" value="${view.add?.username ?? ''}"${invalid(errors, 'new-username')}>`, errors, 'Letters, digits, ".", "_", "@" and "-".')}
  ${field('new-password', 'Password', html`<input id="new-password" name="new_password" type="password" autocomplete="new-password"${invalid(errors, 'new-password')}>`, errors, 'At least 8 characters. Leave it empty to have one made and shown to you once.')}
  <button type="submit" class="primary">Add user</button>`)}
</section>` });
}

export interface UserView {
  viewer: ConsoleViewer;
  user: UserSummary;
  sessions: AccountSession[];
  message?: ConsoleMessage | undefined;
  errors?: FieldErrors;
  /** A password just made, shown this once. */
  newPassword?: string | undefined;
}

export function renderUser(view: UserView): string {
  const { viewer, user } = view;
  const errors = view.errors ?? {};
  const base = userPath(user.name);
  const roleChoices = [...new Set([...BUILT_IN_ROLES, ...user.roles])].sort();
  return renderConsolePage({ title: `User ${user.name}`, current: '/admin/users', viewer, message: view.message, body: html`
<p><a href="/admin/users">All users</a></p>
${view.newPassword ? html`<div class="once panel"><p>The new password of <strong>${user.name}</strong>, shown this once. Give it to them in a safe way:</p><p><code>${view.newPassword}</code></p></div>` : ''}
<section class="panel">
<table class="facts">
<tr><th scope="row">Status</th><td>${status(user)}</td></tr>
<tr><th scope="row">Roles</th><td>${user.roles.join(', ') || 'none'}</td></tr>
<tr><th scope="row">Second factor</th><td>${secondFactorText(user)}</td></tr>
<tr><th scope="row">E-mail</th><td>${user.email ?? '-'}</td></tr>
<tr><th scope="row">Added</th><td>${time(user.createdAt)}</td></tr>
<tr><th scope="row">Id</th><td><code>${user.id}</code></td></tr>
</table>
<div class="actions">
${user.disabled
    ? consoleForm(viewer, `${base}/enable`, html`<button type="submit" class="primary">Enable</button>`, { layout: 'inline' })
    : consoleForm(viewer, `${base}/disable`, html`<button type="submit" class="danger">Disable</button>`, { layout: 'inline' })}
</div>
<p class="muted">Disabling signs them out everywhere and ends the access they gave applications.</p>
</section>
<section class="panel">
<h2>Roles</h2>
${consoleForm(viewer, `${base}/roles`, html`
  <fieldset><legend class="muted">Tick the roles this user has</legend>
  ${roleChoices.map((role) => html`<label class="check"><input type="checkbox" name="role" value="${role}"${user.roles.includes(role) ? ' checked' : ''}> ${role}</label>`)}
  </fieldset>
  ${field('other-roles', 'Other roles', html`<input id="other-roles" name="other_roles" autocapitalize="none" spellcheck="false"${invalid(errors, 'other-roles')}>`, errors, 'Names separated by commas, e.g. support, billing.')}`,
  { reauth: true, actions: html`<button type="submit" class="primary">Save roles</button>` })}
</section>
<section class="panel">
<h2>Password</h2>
${consoleForm(viewer, `${base}/password`, html`
  ${field('reset-password', 'New password', html`<input id="reset-password" name="new_password" type="password" autocomplete="new-password"${invalid(errors, 'reset-password')}>`, errors, 'Leave it empty to have one made and shown to you once. Their sessions and application access end.')}`,
  { reauth: true, actions: html`<button type="submit">Reset password</button>` })}
</section>
<section class="panel">
<h2>Second factor</h2>
${user.secondFactor.totp || user.secondFactor.passkeys.length > 0 || user.secondFactor.recoveryCodesLeft > 0
    ? consoleForm(viewer, `${base}/second-factor/reset`, html`
  <p class="muted">Removes their authenticator app, passkeys and recovery codes, for someone who lost them. If their role needs one, they set a new one up at their next sign-in.</p>`,
  { reauth: true, actions: html`<button type="submit" class="danger">Remove second factor</button>` })
    : html`<p class="muted">None set up.</p>`}
</section>
<section class="panel">
<h2>Signed-in sessions</h2>
${view.sessions.length === 0 ? html`<p class="muted">Not signed in anywhere.</p>` : dataTable(['Signed in', 'Ends', ''], view.sessions.map((session) => html`
<tr><td>${time(session.signedInAt)}</td><td>${time(session.expiresAt)}</td><td>${consoleForm(viewer, `${base}/sessions/${session.handle}/end`, html`<button type="submit">End</button>`, { layout: 'inline' })}</td></tr>`))}
</section>` });
}

/** The page after adding a user with a made-up password: shown once. */
export function renderUserAdded(viewer: ConsoleViewer, name: string, password: string | undefined): string {
  return renderConsolePage({ title: 'Users', viewer, message: { kind: 'notice', text: `Added ${name}.` }, body: html`
${password ? html`<div class="once panel"><p>Their password, shown this once. Give it to them in a safe way:</p><p><code>${password}</code></p></div>` : ''}
<p><a href="${userPath(name)}">Open ${name}</a> · <a href="/admin/users">All users</a></p>` });
}
