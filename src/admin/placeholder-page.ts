import Router from '@koa/router';
import { html } from '../authorization-server/interactions/html.ts';
import { requireAdmin } from './console-guard.ts';
import type { ConsolePage } from './console-page.ts';
import { renderConsolePage } from './layout.ts';
import { CONSOLE_SECTIONS } from './navigation.ts';

/** A section of the navigation whose page is not built yet: it says so instead of a 404. */
export function placeholderPage(path: string): ConsolePage {
  const section = CONSOLE_SECTIONS.find((candidate) => candidate.path === path)!;
  return () => new Router().get(path, (ctx) => {
    const viewer = requireAdmin(ctx);
    ctx.body = renderConsolePage({ title: section.label, viewer, body: html`<p class="muted">This page is not part of this version yet. The command line (<code>portcullis --help</code>) has what it offers.</p>` });
  });
}
