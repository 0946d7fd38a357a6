import { html, type SafeHtml } from '../interactions/html.ts';
import { page } from '../interactions/views.ts';

export interface AccountView {
  csrf: string;
  name: string;
  displayName: string | undefined;
  email: string | undefined;
  /** false: the account signs in only through a company provider, so it has no password to change. */
  hasPassword: boolean;
  sessions: Array<{ handle: string; signedInAt: string; current: boolean }>;
  apps: Array<{ grantId: string; name: string; scopes: string[]; lastUsed: string }>;
  /** Further sections other features add (second factors, ...), rendered in order after the built-in ones. */
  sections: SafeHtml[];
  notice?: { text: string; error: boolean } | undefined;
}

export function renderAccountPage(view: AccountView): string {
  return page('Your account', html`
<h1>Your account</h1>
<p>Signed in as <strong>${view.displayName ?? view.name}</strong>${view.email ? html` <span class="muted">(${view.email})</span>` : ''}</p>
${view.notice ? html`<p class="${view.notice.error ? 'error' : 'notice'}" role="${view.notice.error ? 'alert' : 'status'}">${view.notice.text}</p>` : ''}
<section id="apps">
  <h2>Apps with access</h2>
  ${view.apps.length === 0 ? html`<p class="muted">No app has access to your account.</p>` : view.apps.map((app) => html`
  <form method="post" action="/account/apps/revoke" class="row">
    <input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="grant" value="${app.grantId}">
    <p><strong class="app-name">${app.name}</strong><br><span class="muted">${app.scopes.join(', ') || 'sign-in only'} · last used ${app.lastUsed}</span></p>
    <button type="submit">Remove access</button>
  </form>`)}
</section>
<section id="sessions">
  <h2>Where you are signed in</h2>
  ${view.sessions.map((session) => html`
  <form method="post" action="/account/sessions/end" class="row">
    <input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="session" value="${session.handle}">
    <p>${session.current ? html`<strong>This browser</strong>` : 'Another browser'}<br><span class="muted">signed in ${session.signedInAt}</span></p>
    <button type="submit">Sign out there</button>
  </form>`)}
</section>
${view.hasPassword ? html`<section id="password">
  <h2>Change your password</h2>
  <form method="post" action="/account/password">
    <input type="hidden" name="csrf" value="${view.csrf}">
    <label for="current">Current password</label>
    <input id="current" name="current" type="password" autocomplete="current-password" required>
    <label for="new">New password (at least 8 characters)</label>
    <input id="new" name="new" type="password" autocomplete="new-password" minlength="8" required>
    <button type="submit" class="primary">Change password</button>
  </form>
</section>` : ''}
${view.sections}
<p class="muted sign-out"><a href="/session/end">Sign out</a></p>`);
}

export function renderSignedOutAccountPage(): string {
  return page('Your account', html`
<h1>Your account</h1>
<p>You are not signed in on this browser.</p>
<p class="muted">Sign in through one of your applications, then come back to this page.</p>`);
}
