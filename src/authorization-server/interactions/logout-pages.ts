import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { html } from './html.ts';
import { page } from './views.ts';

type LogoutFeature = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

/**
 * RP-initiated logout with our own pages: a confirmation in plain words (oidc-provider's form,
 * its one-time xsrf value carried over) and a "you are signed out" page. Signing out deletes the
 * session from the store, so it ends on every instance at once.
 */
export const logoutFeature: LogoutFeature = {
  enabled: true,
  logoutSource: async (ctx, form) => {
    const action = /action="([^"]+)"/.exec(form)?.[1] ?? '';
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    ctx.type = 'html';
    ctx.body = page('Sign out', html`
<h1>Sign out?</h1>
<p>${applicationName(ctx) ? html`<strong>${applicationName(ctx)}</strong> asks to sign you out.` : 'You asked to sign out.'}
Signing out ends your sign-in here for every application, on this device and wherever this session is used.</p>
<form method="post" action="${action}" class="decision">
  <input type="hidden" name="xsrf" value="${xsrf}">
  <button type="submit">Stay signed in</button>
  <button type="submit" name="logout" value="yes" class="primary">Sign out</button>
</form>`);
  },
  postLogoutSuccessSource: async (ctx) => {
    ctx.type = 'html';
    // "Stay signed in" lands here too; the session cookie, cleared by a real sign-out, tells which it was.
    if (ctx.cookies.get(ctx.oidc.provider.cookieName('session'))) {
      ctx.body = page('Still signed in', html`
<h1>You are still signed in</h1>
<p class="muted">Nothing was changed. You can close this window.</p>`);
      return;
    }
    ctx.body = page('Signed out', html`
<h1>You are signed out</h1>
<p>${applicationName(ctx) ? html`You signed out of <strong>${applicationName(ctx)}</strong> and this sign-in service.` : 'You signed out of this sign-in service.'}</p>
<p class="muted">You can close this window.</p>`);
  },
};

function applicationName(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
}
