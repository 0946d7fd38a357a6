import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/assets/portcullis.css';

/** A whole page around `body`; `head` adds elements to the head (a refresh, for one). */
export function page(title: string, body: SafeHtml, head: SafeHtml | '' = ''): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Portcullis</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
${head}</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>
`.value;
}

export interface LoginView {
  action: string;
  csrf: string;
  clientName: string;
  username?: string;
  failed?: boolean;
  /** Sign-in is paused for this username from this address (too many failures). */
  retryAfterSeconds?: number;
  /** Why the password is asked although the user is signed in (elevated access). */
  notice?: string | undefined;
  /** Other ways to sign in (company sign-in buttons), shown above the password form. */
  alternatives?: SafeHtml;
  /** false: password sign-in is turned off and the form is not shown. */
  passwordForm?: boolean;
}

export function renderLoginPage(view: LoginView): string {
  return page('Sign in', html`
<h1>Sign in</h1>
<p class="muted">to continue to <strong>${view.clientName}</strong></p>
${view.notice ? html`<p class="notice">${view.notice}</p>` : ''}
${view.retryAfterSeconds !== undefined
    ? html`<p class="error" role="alert">Too many failed sign-ins. Try again in ${String(view.retryAfterSeconds)} seconds.</p>`
    : view.failed ? html`<p class="error" role="alert">The username or password is not correct.</p>` : ''}
${view.alternatives ?? ''}
${view.passwordForm === false ? '' : html`<form method="post" action="${view.action}">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${view.username ?? ''}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <label class="check"><input type="checkbox" name="remember" value="on"> Keep me signed in on this device</label>
  <button type="submit" class="primary">Sign in</button>
</form>`}`);
}

/** How the server knows the client: which says how far its name can be trusted. */
export type ClientIdentity =
  | { kind: 'operator' }
  | { kind: 'dynamic' }
  | { kind: 'metadata-document'; host: string };

/** A scope as the consent page shows it: the resource's plain words when it declares them. */
export interface ScopeView {
  name: string;
  description?: string | undefined;
}

export interface ConsentView {
  action: string;
  csrf: string;
  clientName: string;
  clientId: string;
  identity: ClientIdentity;
  redirectHost: string;
  localhostOnlyRedirects: boolean;
  /** The signed-in user's name, and the form that signs them out to start again as someone else. */
  signedInAs: string;
  switchUserAction: string;
  /** Per resource: what this request adds, and what the user already allowed this application there. */
  resources: Array<{ uri: string; name?: string | undefined; scopes: ScopeView[]; alreadyGranted: ScopeView[] }>;
  openidScopes: ScopeView[];
}

export function renderConsentPage(view: ConsentView): string {
  return page('Allow access', html`
<h1>Allow access?</h1>
<form class="signed-in-as muted" method="post" action="${view.switchUserAction}">Signed in as <strong>${view.signedInAs}</strong> — <input type="hidden" name="csrf" value="${view.csrf}"><button type="submit" class="link">not you?</button></form>
<p><strong class="client-name">${view.clientName}</strong> <span class="muted">(${view.clientId})</span> asks for access to your account.</p>
${identityLine(view.identity)}
<p>After you decide, you will be sent to <strong class="redirect-host">${view.redirectHost}</strong>.</p>
${view.localhostOnlyRedirects ? localhostWarning(view.identity) : ''}
${view.resources.map((resource) => html`
<section class="resource">
  <h2>${resource.name ?? resource.uri}</h2>
  <p class="muted resource-uri">${resource.uri}</p>
  ${resource.scopes.length ? html`<p>${resource.alreadyGranted.length ? 'It asks for more:' : 'It will be able to:'}</p>` : ''}
  <ul class="scopes">${resource.scopes.map(scopeItem)}</ul>
  ${resource.alreadyGranted.length ? html`<p class="muted already-granted">You already allowed it to: ${resource.alreadyGranted.map((scope, index) => html`${index ? ', ' : ''}${scope.description ?? scope.name}`)}.</p>` : ''}
</section>`)}
${view.openidScopes.length ? html`<section class="resource"><h2>Your identity</h2><ul class="scopes">${view.openidScopes.map(scopeItem)}</ul></section>` : ''}
<form method="post" action="${view.action}" class="decision">
  <input type="hidden" name="csrf" value="${view.csrf}">
  <button type="submit" name="decision" value="deny">Deny</button>
  <button type="submit" name="decision" value="approve" class="primary">Approve</button>
</form>
<p class="muted sign-out"><a href="/session/end">Sign out</a></p>`);
}

function scopeItem(scope: ScopeView): SafeHtml {
  return scope.description
    ? html`<li><span class="scope-description">${scope.description}</span> <code class="scope-name muted">${scope.name}</code></li>`
    : html`<li><code class="scope-name">${scope.name}</code></li>`;
}

function identityLine(identity: ClientIdentity): SafeHtml {
  switch (identity.kind) {
    case 'metadata-document':
      return html`<p class="identity muted">Identified by <strong class="client-host">${identity.host}</strong>, which publishes this application's details.</p>`;
    case 'dynamic':
      return html`<p class="identity muted">This application registered itself with this server. Its name is not verified.</p>`;
    default:
      return html`<p class="identity muted">Registered by the administrator of this server.</p>`;
  }
}

// A metadata document names its redirect URIs, but any program on the user's computer can
// listen on localhost: such a client_id proves nothing about who is asking (MCP security notes).
function localhostWarning(identity: ClientIdentity): SafeHtml {
  const claim = identity.kind === 'metadata-document' ? html` Any program on your computer could claim to be ${identity.host}.` : '';
  return html`<p class="warning" role="alert">This application only redirects to your own computer (localhost).${claim} Continue only if you started it yourself.</p>`;
}

export function renderErrorPage(error: string, description?: string): string {
  return page('Something went wrong', html`
<h1>Something went wrong</h1>
<p class="error"><code>${error}</code></p>
${description ? html`<p>${description}</p>` : ''}
<p class="muted">Close this window and start again from the application you came from.</p>`);
}

export const STYLESHEET = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f4f5f7}
.card{box-sizing:border-box;background:#fff;max-width:26rem;width:calc(100% - 2rem);margin:2rem 1rem;padding:2rem;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{margin-top:0;font-size:1.5rem}h2{font-size:1.05rem;margin:.5rem 0 0}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #bbb;border-radius:.4rem}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border-radius:.4rem;border:1px solid #888;background:#fff;cursor:pointer}
button.primary{background:#1f5fd6;border-color:#1f5fd6;color:#fff}
.decision{display:flex;gap:.75rem;justify-content:flex-end}
.muted{color:#666;font-size:.9rem;overflow-wrap:anywhere}
.error{color:#b00020}.warning{background:#fff4d6;padding:.6rem;border-radius:.4rem}
.scopes{margin:.25rem 0 0;padding-left:1.25rem}
.signed-in-as button.link{margin:0;padding:0;border:0;background:none;color:#1f5fd6;text-decoration:underline;font-size:inherit}
textarea,select{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #bbb;border-radius:.4rem;font-family:inherit}
.emergency{margin-top:1.5rem;border-top:1px solid #ddd;padding-top:1rem}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.25rem .4rem .25rem 0;vertical-align:top;overflow-wrap:anywhere}
.notice{background:#e8f0fe;padding:.6rem;border-radius:.4rem}.request{border-top:1px solid #ddd;padding-top:.75rem;margin-top:.75rem}
.row{display:flex;justify-content:space-between;align-items:center;gap:.5rem}.row button{margin-top:0}
.upstream button{width:100%}label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}label.check input{width:auto}.upstream+form{margin-top:1rem;border-top:1px solid #ddd;padding-top:.5rem}
@media (prefers-color-scheme:dark){body{background:#111}.card{background:#1c1c1f;color:#eee}.muted{color:#aaa}input,button{background:#2a2a2e;color:#eee}.warning{background:#4a3b10}.error{color:#ff8a80}}
`;
