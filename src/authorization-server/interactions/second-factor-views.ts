import { html, SafeHtml } from './html.ts';
import { PASSKEY_SCRIPT_PATH, WEBAUTHN_LIBRARY_PATH } from './passkey-script.ts';
import { page } from './views.ts';

/**
 * A passkey button the script reveals; it runs the ceremony and submits the hidden form with the
 * browser's response. Without JavaScript nothing of it shows.
 */
export function passkeyArea(view: { mode: 'sign-in' | 'register'; optionsJson: string; action: string; csrf: string; label: string }): SafeHtml {
  return html`<div class="passkey" data-passkey-options="${view.optionsJson}" data-passkey-mode="${view.mode}">
  <button type="button" class="primary" hidden>${view.label}</button>
  <p class="error passkey-error" role="alert" hidden></p>
  <form method="post" action="${view.action}"><input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="response" value=""></form>
</div>
<script src="${WEBAUTHN_LIBRARY_PATH}" defer></script>
<script src="${PASSKEY_SCRIPT_PATH}" defer></script>`;
}

export interface SecondFactorView {
  action: string;
  csrf: string;
  clientName: string;
  hasTotp: boolean;
  /** The passkey ceremony, when the user has a passkey. */
  passkey?: { optionsJson: string; action: string } | undefined;
  failed?: boolean;
  retryAfterSeconds?: number | undefined;
}

function problemLine(view: { failed?: boolean; retryAfterSeconds?: number | undefined }, wrong: string): SafeHtml | string {
  if (view.retryAfterSeconds !== undefined) return html`<p class="error" role="alert">Too many failed sign-ins. Try again in ${String(view.retryAfterSeconds)} seconds.</p>`;
  return view.failed ? html`<p class="error" role="alert">${wrong}</p>` : '';
}

function codeField(label: string, options: { name?: string; numeric: boolean; autofocus: boolean }): SafeHtml {
  const name = options.name ?? 'code';
  return html`<label for="${name}">${label}</label>
  <input id="${name}" name="${name}" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required${options.numeric ? html` inputmode="numeric" pattern="[0-9 ]{6,7}"` : ''}${options.autofocus ? html` autofocus` : ''}>`;
}

/** The step after the password: a code from the app, a passkey, or a recovery code. */
export function renderSecondFactorPage(view: SecondFactorView): string {
  return page('Confirm it is you', html`
<h1>Confirm it is you</h1>
<p class="muted">to continue to <strong>${view.clientName}</strong></p>
${problemLine(view, 'That code is not correct, or it was already used.')}
${view.passkey ? passkeyArea({ mode: 'sign-in', ...view.passkey, csrf: view.csrf, label: 'Use your passkey' }) : ''}
${view.hasTotp ? html`<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <input type="hidden" name="method" value="totp">
  ${codeField('Code from your authenticator app', { numeric: true, autofocus: true })}
  <button type="submit" class="primary">Continue</button>
</form>` : ''}
<details${view.hasTotp || view.passkey ? '' : html` open`}>
<summary>Use a recovery code</summary>
<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <input type="hidden" name="method" value="recovery">
  ${codeField('Recovery code', { name: 'recovery-code', numeric: false, autofocus: false })}
  <button type="submit">Continue with a recovery code</button>
</form>
</details>`);
}

export interface TotpEnrolmentView {
  action: string;
  csrf: string;
  /** The QR code as SVG markup produced by the qrcode library. */
  qrSvg: string;
  secret: string;
  /** Why the user is here: their sign-in needs it, or they chose it on the account page. */
  required: boolean;
  failed?: boolean;
  retryAfterSeconds?: number | undefined;
}

/** Adding an authenticator app: scan the QR code (or type the key), then prove it with one code. */
export function renderTotpEnrolmentPage(view: TotpEnrolmentView): string {
  const svg = view.qrSvg.replace('<svg ', '<svg width="200" height="200" role="img" aria-label="QR code for your authenticator app" ');
  return page('Set up your authenticator app', html`
<h1>Set up your authenticator app</h1>
${view.required ? html`<p>Your account needs a second step at sign-in. Set it up now to continue.</p>` : ''}
${problemLine(view, 'That code is not correct. Check the time on your phone and try the newest code.')}
<ol>
  <li>Open an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator or 1Password).</li>
  <li>Scan this code, or type the key below.</li>
</ol>
<p class="qr">${new SafeHtml(svg)}</p>
<p class="muted">Key: <code class="totp-secret">${view.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  ${codeField('Enter the 6-digit code the app shows', { numeric: true, autofocus: true })}
  <button type="submit" class="primary">Turn on</button>
</form>`);
}

/** Shown once, right after enrolment: the only time the codes can be read. */
export function renderRecoveryCodesPage(view: { codes: string[]; next: { action: string; csrf: string; label: string } | { href: string; label: string } }): string {
  return page('Save your recovery codes', html`
<h1>Save your recovery codes</h1>
<p>If you lose your phone, each of these codes lets you sign in once. Keep them somewhere safe, such as a password manager. They will not be shown again.</p>
<ul class="recovery-codes">${view.codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
${'action' in view.next
    ? html`<form method="post" action="${view.next.action}"><input type="hidden" name="csrf" value="${view.next.csrf}"><button type="submit" class="primary">${view.next.label}</button></form>`
    : html`<p><a href="${view.next.href}">${view.next.label}</a></p>`}`);
}
