import { html } from '../authorization-server/interactions/html.ts';
import { renderConsolePage, type ConsoleMessage } from './layout.ts';

export interface SignInView {
  csrf: string;
  username?: string;
  /** The console page to open after sign-in. */
  next?: string | undefined;
  message?: ConsoleMessage | undefined;
}

export function renderSignIn(view: SignInView): string {
  return renderConsolePage({
    title: 'Console sign-in', viewer: undefined, message: view.message, body: html`
<p class="muted">For administrators and approvers.</p>
<form method="post" action="/admin/sign-in" class="stack panel">
  <input type="hidden" name="csrf" value="${view.csrf}">
  ${view.next ? html`<input type="hidden" name="next" value="${view.next}">` : ''}
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${view.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="primary">Sign in</button>
</form>`,
  });
}

export function renderSecondFactorForm(view: { csrf: string; message?: ConsoleMessage | undefined }): string {
  return renderConsolePage({
    title: 'Console sign-in', viewer: undefined, message: view.message, body: html`
<form method="post" action="/admin/sign-in/second-factor" class="stack panel">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <label for="code">Code from your authenticator app</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required autofocus>
  <p class="muted">No phone at hand? Enter one of your recovery codes instead; each works once.</p>
  <button type="submit" class="primary">Continue</button>
</form>
<p><a href="/admin/sign-in">Start again</a></p>`,
  });
}

/** The user must have a second factor for the console and has none the console can check. */
export function renderSecondFactorMissing(accountUrl: string): string {
  return renderConsolePage({
    title: 'Console sign-in', viewer: undefined, message: { kind: 'error', text: 'Your account needs a second factor to use the console.' }, body: html`
<p>Set up an authenticator app on your account page first, then sign in here again.</p>
<p><a href="${accountUrl}">Go to your account page</a></p>`,
  });
}

/** A refusal or failure shown on its own: plain words, a way on. */
export function renderConsoleError(text: string, signedIn: boolean): string {
  return renderConsolePage({
    title: 'Console', viewer: undefined, message: { kind: 'error', text }, body: signedIn
      ? html`<p><a href="/admin">Back to the console</a></p>`
      : html`<p><a href="/admin/sign-in">Sign in to the console</a></p>`,
  });
}
