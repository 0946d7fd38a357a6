import Router from '@koa/router';
import { requireAdmin } from '../console-guard.ts';
import type { ConsolePage } from '../console-page.ts';
import { renderOverview } from '../overview-views.ts';
import { overviewFacts } from '../services/overview.ts';
import { auditStatusLine } from './overview-audit-line.ts';

/** The console's first page: health of the store and the audit log, signing keys, counts, recent events. */
export const overviewPage: ConsolePage = (deps) => new Router().get('/admin', async (ctx) => {
  const viewer = requireAdmin(ctx);
  ctx.body = renderOverview(viewer, await overviewFacts(deps), await auditStatusLine(deps));
});
