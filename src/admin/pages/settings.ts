import Router from '@koa/router';
import type { Context } from 'koa';
import { SETTING_NAMES, settingNamed, type FieldError, type SettingsService } from '../../settings/index.ts';
import { ConsoleRefusal, guardedForm, requireAdmin, type ConsoleViewer } from '../console-guard.ts';
import type { ConsolePage } from '../console-page.ts';
import { renderConsolePage, type ConsoleMessage } from '../layout.ts';
import { reviewChanges, settingsConflict, settingsForm } from '../settings/settings-views.ts';

const TITLE = 'Settings';
/** The form's own fields; every other field names a setting. */
const FORM_FIELDS = new Set(['csrf', 'version', 'password']);
const REAUTH_SETTING = 'secondFactorRequired';

/** Fixed texts for the page after a change (the query names one; nothing from it is echoed). */
const DONE: Record<string, string> = {
  applied: 'Applied. Every server uses the new values within 30 seconds.',
  unchanged: 'Nothing to change: the values are the ones in force.',
};

/**
 * The live settings: one form, a diff to confirm (carrying the version the form was made
 * against), then apply; a conflict page when someone else changed them in between.
 */
export const settingsPage: ConsolePage = (deps) => {
  const router = new Router({ prefix: '/admin/settings' });
  const service = (): SettingsService => {
    if (!deps.settings) throw new ConsoleRefusal(503, 'Live settings are not available on this server.');
    return deps.settings;
  };

  const showForm = (ctx: Context, viewer: ConsoleViewer, extra: { submitted?: Record<string, string>; errors?: FieldError[]; version?: number; message?: ConsoleMessage } = {}) => {
    const settings = service();
    ctx.body = renderConsolePage({
      title: TITLE, viewer, message: extra.message,
      body: settingsForm({ settings: settings.describe(), version: extra.version ?? settings.version, viewer, ...extra }),
    });
  };

  router.get('/', async (ctx) => {
    const viewer = requireAdmin(ctx);
    await service().refresh();
    const done = DONE[String(ctx.query.done ?? '')];
    showForm(ctx, viewer, done ? { message: { kind: 'notice', text: done } } : {});
  });

  router.post('/review', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin' });
    const settings = service();
    await settings.refresh();
    const { version, submitted } = readSubmission(form);
    if (version !== settings.version) return conflict(ctx, viewer, settings, submitted);
    const preview = settings.preview(editableOnly(settings, submitted));
    if (!preview.ok) {
      ctx.status = 400;
      return showForm(ctx, viewer, { submitted, errors: preview.errors, version });
    }
    if (preview.changes.length === 0) return seeOther(ctx, '/admin/settings?done=unchanged');
    ctx.body = renderConsolePage({ title: 'Check the changes', current: '/admin/settings', viewer, body: reviewChanges({
      changes: preview.changes, settings: settings.describe(), version, viewer, reauth: preview.changes.some((change) => change.name === REAUTH_SETTING),
    }) });
  });

  // Who must use a second factor is as sensitive as removing one: that change asks for the password again.
  for (const reauth of [false, true]) {
    router.post(reauth ? '/apply-with-password' : '/apply', async (ctx) => {
      const { viewer, form } = await guardedForm(ctx, { role: 'admin', reauth });
      const { version, submitted } = readSubmission(form);
      if (!reauth && Object.keys(submitted).some((name) => settingNamed(name) === REAUTH_SETTING)) throw new ConsoleRefusal(400, 'Changing who must use a second factor needs your password. Review the change again; nothing was changed.');
      await apply(ctx, viewer, version, submitted);
    });
  }

  const apply = async (ctx: Context, viewer: ConsoleViewer, version: number, submitted: Record<string, string>) => {
    const settings = service();
    const result = await settings.apply(submitted, { expectedVersion: version, actor: viewer.actor });
    if (result.ok) return seeOther(ctx, `/admin/settings?done=${result.changes.length ? 'applied' : 'unchanged'}`);
    if (result.reason === 'conflict') return conflict(ctx, viewer, settings, submitted);
    ctx.status = 400;
    showForm(ctx, viewer, { submitted, errors: result.errors, version });
  };

  return router;
};

/** The version the form was made against, and the setting fields (the form's other fields are its own). */
function readSubmission(form: URLSearchParams): { version: number; submitted: Record<string, string> } {
  const version = form.get('version') ?? '';
  if (!/^\d{1,12}$/.test(version)) throw new ConsoleRefusal(400, 'This form is incomplete. Reload the settings page and try again; nothing was changed.');
  const submitted: Record<string, string> = Object.create(null);
  for (const [name, value] of form) if (!FORM_FIELDS.has(name)) submitted[name] = value;
  return { version: Number(version), submitted };
}

/** The form shows fixed settings as text, so only editable ones come back; anything else is refused by the service. */
function editableOnly(settings: SettingsService, submitted: Record<string, string>): Record<string, string> {
  const fixed = settings.snapshot().fixed;
  return Object.fromEntries(Object.entries(submitted).filter(([name]) => !(SETTING_NAMES as readonly string[]).includes(name) || !fixed[name as keyof typeof fixed]));
}

function conflict(ctx: Context, viewer: ConsoleViewer, settings: SettingsService, submitted: Record<string, string>): void {
  const wanted = settings.preview(editableOnly(settings, submitted));
  ctx.status = 409;
  ctx.body = renderConsolePage({
    title: 'Settings changed meanwhile', current: '/admin/settings', viewer,
    body: settingsConflict({ wanted: wanted.ok ? wanted.changes : [], settings: settings.describe() }),
  });
}

function seeOther(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}
