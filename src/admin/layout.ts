import { html, type SafeHtml } from '../authorization-server/interactions/html.ts';
import type { ConsoleViewer } from './console-guard.ts';
import { CONSOLE_STYLESHEET_PATH } from './console-styles.ts';
import { CONSOLE_SECTIONS, hasRole } from './navigation.ts';

export interface ConsoleMessage {
  kind: 'notice' | 'error';
  text: string;
}

export interface ConsolePageView {
  title: string;
  /** Undefined on the sign-in pages: no navigation, no sign-out. */
  viewer: ConsoleViewer | undefined;
  body: SafeHtml;
  message?: ConsoleMessage | undefined;
  /** The navigation entry to mark as current (its path); by default the one whose label is the title. */
  current?: string;
}

/** A whole console page: header with sign-out, navigation for the viewer's role, message banner, then `body`. */
export function renderConsolePage(view: ConsolePageView): string {
  const { viewer } = view;
  const current = view.current ?? CONSOLE_SECTIONS.find((section) => section.label === view.title)?.path;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${view.title} · Portcullis console</title>
<link rel="stylesheet" href="${CONSOLE_STYLESHEET_PATH}">
</head>
<body>
<header class="console-header">
  <a class="brand" href="/admin">Portcullis console</a>
  ${viewer ? html`<form method="post" action="/admin/sign-out">${csrfField(viewer)}<span>Signed in as <strong>${viewer.user.name}</strong></span><button type="submit">Sign out</button></form>` : ''}
</header>
${viewer ? html`<nav class="console-nav" aria-label="Console pages"><ul>${CONSOLE_SECTIONS.filter((section) => hasRole(viewer.user.roles, section.role)).map((section) => html`
  <li><a href="${section.path}"${section.path === current ? html` aria-current="page"` : ''}>${section.label}</a></li>`)}
</ul></nav>` : ''}
<main class="console-main${viewer ? '' : ' narrow'}">
<h1>${view.title}</h1>
${view.message ? html`<p class="banner ${view.message.kind}" role="${view.message.kind === 'error' ? 'alert' : 'status'}">${view.message.text}</p>` : ''}
${view.body}
</main>
</body>
</html>
`.value;
}

/** The hidden form-token field every console POST form carries. */
export function csrfField(viewer: ConsoleViewer): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${viewer.csrf}">`;
}

/** The "your password again" field of a sensitive action (`guardedForm(ctx, { reauth: true })`). */
export function passwordAgainField(id = 'password-again'): SafeHtml {
  return html`<label for="${id}">Your password, to confirm</label>
<input id="${id}" name="password" type="password" autocomplete="current-password" required>`;
}

export interface FormOptions {
  /** `inline` for a small form inside a table row, `stack` for a form of labelled fields. */
  layout?: 'inline' | 'stack';
  reauth?: boolean;
  /** The submit button(s), placed after the password field of a `reauth` form. */
  actions?: SafeHtml;
}

/** A POST form with the token (and, for a sensitive action, the password field) already in it. */
export function consoleForm(viewer: ConsoleViewer, action: string, body: SafeHtml, options: FormOptions = {}): SafeHtml {
  const password = options.reauth ? passwordAgainField(`password${action.replace(/[^a-z0-9]+/gi, '-')}`) : '';
  return html`<form method="post" action="${action}" class="${options.layout ?? 'stack'}">${csrfField(viewer)}${body}${password}${options.actions ?? ''}</form>`;
}

/** A table of records with a header row, scrolling sideways on a narrow screen. */
export function dataTable(headers: string[], rows: SafeHtml[]): SafeHtml {
  return html`<div class="table-wrap"><table class="data"><thead><tr>${headers.map((header) => html`<th scope="col">${header}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
