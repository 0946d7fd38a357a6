import Router from '@koa/router';
import { applyImport, exportConfiguration, previewImport, type TransferDependencies } from '../config-transfer/index.ts';
import { heldImport, holdImport, releaseImport } from '../config-transfer/pending.ts';
import { ConsoleRefusal, guardedForm, requireAdmin } from '../console-guard.ts';
import type { ConsoleDeps, ConsolePage } from '../console-page.ts';
import { renderApplied, renderPreview, renderTransferPage, type SigningState } from '../export-views.ts';

/** An exported configuration is a few hundred kilobytes at most; the textarea may carry that much. */
const IMPORT_LIMIT_BYTES = 2 * 1024 * 1024;

/** Export and import: download the signed configuration; paste one, see every change, confirm with the password, applied all or nothing. */
export const exportPage: ConsolePage = (deps) => {
  const router = new Router({ prefix: '/admin/export' });
  const key = deps.config.configSignatureKey;
  const signing: SigningState = { verifies: key !== undefined, signs: key?.privateKey !== undefined, keyId: key?.keyId };

  router.get('/', (ctx) => {
    ctx.body = renderTransferPage({ viewer: requireAdmin(ctx), signing });
  });

  router.post('/download', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    const exported = await exportConfiguration(transferDependencies(deps), viewer.actor);
    ctx.type = 'application/json';
    ctx.attachment(exported.fileName);
    ctx.body = exported.text;
  });

  router.post('/preview', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin', limitBytes: IMPORT_LIMIT_BYTES });
    const text = form.get('document') ?? '';
    const preview = await previewImport(text, transferDependencies(deps));
    if (!preview.ok && preview.sections.length === 0) {
      ctx.status = 400;
      ctx.body = renderTransferPage({ viewer, signing, refused: { text, preview }, message: { kind: 'error', text: 'The document was not imported; see below.' } });
      return;
    }
    if (!preview.ok) ctx.status = 400;
    const pendingId = preview.ok ? await holdImport(deps.store, viewer.sessionId, text, preview.basis) : undefined;
    ctx.body = renderPreview({ viewer, preview, ...(pendingId ? { pendingId } : {}) });
  });

  router.post('/apply', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin', reauth: true });
    const pendingId = form.get('pending') ?? '';
    const pending = await heldImport(deps.store, viewer.sessionId, pendingId);
    if (!pending) throw new ConsoleRefusal(409, 'This import was applied already or its preview expired (after 15 minutes). Paste the document again; nothing was changed.');
    const outcome = await applyImport(pending.text, transferDependencies(deps), { basis: pending.basis, actor: viewer.actor });
    if (outcome.status === 'conflict') throw new ConsoleRefusal(409, outcome.message);
    await releaseImport(deps.store, pendingId);
    if (outcome.status === 'refused') {
      ctx.status = 400;
      ctx.body = renderPreview({ viewer, preview: outcome.preview });
      return;
    }
    ctx.body = renderApplied({ viewer, preview: outcome.preview, newSecrets: outcome.newSecrets });
  });

  return router;
};

function transferDependencies(deps: ConsoleDeps): TransferDependencies {
  if (!deps.settings) throw new ConsoleRefusal(503, 'Export and import are not available: the live settings are not running on this server.');
  return { config: deps.config, store: deps.store, users: deps.users, settings: deps.settings, audit: deps.audit, log: deps.log };
}
