import Router from '@koa/router';
import type { Context } from 'koa';
import { currentStatus } from '../../authorization-server/elevation/records.ts';
import type { DecisionOutcome } from '../../authorization-server/elevation/service.ts';
import { ConsoleRefusal, guardedForm, requireApprover, type ConsoleViewer } from '../console-guard.ts';
import type { ConsolePage } from '../console-page.ts';
import type { ConsoleMessage } from '../layout.ts';
import { renderApprovals } from '../approvals-views.ts';

/** Fixed texts for the page shown after a change (the query names one; nothing from it is echoed). */
const DONE: Record<string, string> = {
  approved: 'Approved. The requester continues on their own page.',
  denied: 'Denied. The requester has been told.',
  revoked: 'Ended. Calls with this access stop working within a few seconds.',
  acknowledged: 'Marked as reviewed.',
};

const REFUSED: Record<Exclude<DecisionOutcome, 'approved' | 'denied'>, [number, string]> = {
  own_request: [403, 'You cannot decide on your own request; another approver must.'],
  expired: [410, 'This request expired before it was decided; nothing was approved.'],
  already_decided: [409, 'This request has already been decided; nothing changed.'],
  not_found: [404, 'There is no such request.'],
  external: [409, 'An external approval system decides these requests; nothing changed.'],
};

/** Approvals of elevated access, active elevations, break-glass review: for approvers and admins. */
export const approvalsPage: ConsolePage = (deps) => {
  const { elevation } = deps;
  const router = new Router({ prefix: '/admin' });

  router.get('/approvals', async (ctx) => {
    const viewer = requireApprover(ctx);
    const done = DONE[String(ctx.query.done ?? '')];
    await showApprovals(ctx, viewer, done ? { text: done, kind: 'notice' } : undefined);
  });

  router.post('/approvals/:id', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'approver' });
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') throw new ConsoleRefusal(400, 'Choose approve or deny.');
    const outcome = await elevation.decide(ctx.params.id!, viewer.user, decision);
    if (outcome === 'approved' || outcome === 'denied') return doneAndBack(ctx, outcome);
    const [status, text] = REFUSED[outcome];
    ctx.status = status;
    await showApprovals(ctx, viewer, { text, kind: 'error' });
  });

  router.post('/elevations/:id/revoke', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'approver' });
    const outcome = await elevation.revoke(ctx.params.id!, viewer.user.name);
    if (outcome === 'revoked') return doneAndBack(ctx, outcome);
    ctx.status = outcome === 'not_found' ? 404 : 409;
    await showApprovals(ctx, viewer, { text: 'This access is not active any more; nothing changed.', kind: 'error' });
  });

  router.post('/elevations/:id/acknowledge', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'approver' });
    if (!viewer.isAdmin) throw new ConsoleRefusal(403, 'Only an administrator can mark emergency access as reviewed.');
    const outcome = await elevation.acknowledge(ctx.params.id!, viewer.user);
    if (outcome === 'acknowledged') return doneAndBack(ctx, outcome);
    ctx.status = outcome === 'not_found' ? 404 : 409;
    await showApprovals(ctx, viewer, { text: 'This emergency access was already reviewed; nothing changed.', kind: 'error' });
  });

  async function showApprovals(ctx: Context, viewer: ConsoleViewer, message?: ConsoleMessage): Promise<void> {
    const now = elevation.nowSeconds();
    const pending = [];
    for (const request of await elevation.records.list('pending')) {
      const current = await elevation.current(request);
      if (current.status === 'pending') pending.push(current);
    }
    ctx.type = 'html';
    ctx.body = renderApprovals({
      viewer, pending, message,
      active: (await elevation.records.list('active')).filter((active) => currentStatus(active, now) === 'active'),
      breakGlass: await elevation.records.unacknowledgedBreakGlass(),
      resourceName: (uri) => deps.resources.find(uri)?.name ?? uri,
    });
  }

  function doneAndBack(ctx: Context, done: string): void {
    ctx.status = 303;
    ctx.redirect(`/admin/approvals?done=${done}`);
  }

  return router;
};
