import Router from '@koa/router';
import { proveAndCheck, readPage, readRecord } from '../../audit/index.ts';
import { recordAdminEvent } from '../admin-events.ts';
import { ConsoleRefusal, guardedForm, requireAdmin } from '../console-guard.ts';
import type { ConsolePage } from '../console-page.ts';
import { renderConsolePage } from '../layout.ts';
import { parseFilters } from '../audit/filters.ts';
import { auditLogStatus } from '../audit/log-status.ts';
import { auditListBody, type AuditListView } from '../audit/list-view.ts';
import { proofMessage, recordBody } from '../audit/record-view.ts';

/**
 * The Audit page: the log's verification status with "Verify now", records found by date, type,
 * subject, client and tool (newest first, paged), and one record with its inclusion proof checked
 * on the spot. Reading is not recorded in the log; "Verify now" is (`admin.audit.verified`).
 */
export const auditPage: ConsolePage = (deps) => {
  const router = new Router({ prefix: '/admin/audit' });

  router.get('/', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const filters = parseFilters(ctx.query);
    const view: AuditListView = { viewer, status: await auditLogStatus(deps), values: filters.values };
    if (!filters.ok) {
      ctx.status = 400;
      view.invalid = { field: filters.field, problem: filters.problem };
    } else if (deps.auditLog) {
      const page = await readPage(deps.auditLog.dir, filters.query, { before: filters.before, limit: filters.size });
      view.records = page.records;
      view.next = page.next;
    }
    const message = view.invalid
      ? { kind: 'error' as const, text: `${view.invalid.problem}. Nothing was searched.` }
      : ctx.query.checked === '1' ? { kind: 'notice' as const, text: 'The log was checked just now; the result is below.' } : undefined;
    ctx.body = renderConsolePage({ title: 'Audit', viewer, body: auditListBody(view), message });
  });

  router.get('/records/:seq', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const seqText = ctx.params.seq ?? '';
    if (!deps.auditLog || !/^\d{1,15}$/.test(seqText)) throw new ConsoleRefusal(404, 'There is no such record in the audit log.');
    const seq = Number(seqText);
    const record = await readRecord(deps.auditLog.dir, seq);
    if (!record) {
      throw seq < deps.auditLog.size
        ? new ConsoleRefusal(409, `Record ${seq} is missing or damaged in the log files. Run portcullis audit verify to find what changed.`)
        : new ConsoleRefusal(404, 'There is no such record in the audit log.');
    }
    const checked = await proveAndCheck(deps.auditLog.dir, seq, deps.auditLog.verifierKey);
    ctx.body = renderConsolePage({
      title: `Audit record ${seq}`, viewer, current: '/admin/audit', message: proofMessage(checked), body: recordBody(record, checked, deps.auditLog.verifierKey),
    });
  });

  router.post('/verify', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    if (!deps.auditVerifier) throw new ConsoleRefusal(409, 'The audit log is off (AUDIT=off): there is nothing to verify.');
    const status = await deps.auditVerifier.verify(viewer.user.id);
    await recordAdminEvent(deps.audit, deps.log, {
      type: 'admin.audit.verified', actor: viewer.actor, result: status.result, tree_size: status.verified?.size, problem: status.problem,
    });
    ctx.status = 303;
    ctx.redirect('/admin/audit?checked=1');
  });

  return router;
};
