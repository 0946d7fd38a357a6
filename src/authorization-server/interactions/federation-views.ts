import { html, type SafeHtml } from './html.ts';
import { page } from './views.ts';

/** One "Sign in with <name>" button per company provider; plain forms, so they work without JavaScript. */
export function renderUpstreamChoices(uid: string, csrf: string, choices: ReadonlyArray<{ id: string; name: string }>): SafeHtml {
  return html`${choices.map((choice) => html`
<form method="post" action="/interaction/${uid}/federation/${choice.id}" class="upstream">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit">Sign in with ${choice.name}</button>
</form>`)}`;
}

/** A company sign-in that ended without signing in: what happened, in plain words, and the way back. */
export function renderFederationFailurePage(message: string, retryUrl: string | undefined): string {
  return page('Sign-in failed', html`
<h1>You are not signed in</h1>
<p class="error" role="alert">${message}</p>
${retryUrl ? html`<p><a href="${retryUrl}">Back to the sign-in page</a></p>` : html`<p class="muted">Close this window and start again from the application you came from.</p>`}`);
}
