import type { SecondFactorStatus } from '../accounts/second-factors.ts';
import { html, type SafeHtml } from '../interactions/html.ts';
import { passkeyArea } from '../interactions/second-factor-views.ts';
import { page } from '../interactions/views.ts';

export const ACCOUNT_SECOND_FACTOR_PATH = '/account/second-factor';

export interface AccountSecondFactorView {
  username: string;
  csrf: string;
  status: SecondFactorStatus;
  /** The user's roles or policy require a second factor, so the last one cannot be removed. */
  required: boolean;
  /** Registration options for a new passkey, as JSON for the page's script. */
  passkeyOptionsJson?: string | undefined;
  notice?: string | undefined;
  problem?: string | undefined;
}

function passwordField(id: string): SafeHtml {
  return html`<label for="${id}">Your password</label>
  <input id="${id}" name="password" type="password" autocomplete="current-password" required>`;
}

/** The second-factor section of the account: what is set up, and forms to add or remove. */
export function renderAccountSecondFactorPage(view: AccountSecondFactorView): string {
  const { status } = view;
  const onlyOne = (status.totp ? 1 : 0) + status.passkeys.length === 1;
  const removable = !(view.required && onlyOne);
  return page('Second step at sign-in', html`
<h1>Second step at sign-in</h1>
<p class="muted">Signed in as <strong>${view.username}</strong>. <a href="/account">Back to your account</a></p>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.problem ? html`<p class="error" role="alert">${view.problem}</p>` : ''}
${view.required ? html`<p>Your account must use a second step when you sign in.</p>` : ''}
<section class="resource">
<h2>Authenticator app</h2>
${status.totp
    ? html`<p class="factor-state">On.</p>${removable ? html`<form method="post" action="${ACCOUNT_SECOND_FACTOR_PATH}/app/remove">
  <input type="hidden" name="csrf" value="${view.csrf}">
  ${passwordField('remove-app-password')}
  <button type="submit">Remove the authenticator app</button>
</form>` : html`<p class="muted">Add a passkey before you remove the app.</p>`}`
    : html`<p class="factor-state">Off.</p><p><a href="${ACCOUNT_SECOND_FACTOR_PATH}/app">Set up an authenticator app</a></p>`}
</section>
<section class="resource">
<h2>Passkeys</h2>
${status.passkeys.length
    ? html`<ul class="passkeys">${status.passkeys.map((passkey) => html`<li>${passkey.name} <span class="muted">added ${passkey.createdAt.slice(0, 10)}</span>${removable ? html`
  <form method="post" action="${ACCOUNT_SECOND_FACTOR_PATH}/passkeys/remove">
    <input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="id" value="${passkey.id}">
    ${passwordField(`remove-passkey-${passkey.id}`)}
    <button type="submit">Remove this passkey</button>
  </form>` : ''}</li>`)}</ul>`
    : html`<p class="factor-state">None.</p>`}
${view.passkeyOptionsJson ? html`${passkeyArea({ mode: 'register', optionsJson: view.passkeyOptionsJson, action: `${ACCOUNT_SECOND_FACTOR_PATH}/passkeys`, csrf: view.csrf, label: 'Add a passkey' })}
<noscript><p class="muted">Adding a passkey needs JavaScript. The authenticator app works without it.</p></noscript>` : ''}
</section>
${status.totp || status.passkeys.length ? html`<section class="resource">
<h2>Recovery codes</h2>
<p class="recovery-left">${String(status.recoveryCodesLeft)} of 10 left.</p>
<form method="post" action="${ACCOUNT_SECOND_FACTOR_PATH}/recovery-codes">
  <input type="hidden" name="csrf" value="${view.csrf}">
  ${passwordField('recovery-password')}
  <button type="submit">Make new recovery codes</button>
</form>
</section>` : ''}`);
}

export function renderSignInFirstPage(): string {
  return page('Sign in first', html`
<h1>Sign in first</h1>
<p>This page shows the second step of your sign-in. <a href="/account">Sign in to your account</a> first, then come back.</p>`);
}

/** The /account page's pointer to the second-factor page. */
export async function secondFactorAccountSection(): Promise<SafeHtml> {
  return html`<section><h2>Second step at sign-in</h2>
<p><a href="/account/second-factor">Set up an authenticator app or a passkey, or make new recovery codes</a></p></section>`;
}
