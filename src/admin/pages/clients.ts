import Router from '@koa/router';
import type { Context } from 'koa';
import { ClientError } from '../../authorization-server/clients/registry.ts';
import { ClientService } from '../clients/index.ts';
import { ConsoleRefusal, guardedForm, requireAdmin, type ConsoleViewer } from '../console-guard.ts';
import { defaultAccessTokenTtl, type ConsolePage } from '../console-page.ts';
import type { ConsoleMessage } from '../layout.ts';
import { clientPath, renderCleanUpPreview, renderCleanUpRefused, renderClient, renderClientsList } from '../clients-views.ts';

/** Fixed texts for the page after a change (the query names one; nothing from it is echoed). */
const DONE: Record<string, string> = {
  revoked: 'All grants ended. Its refresh tokens no longer work; access tokens already issued run out on their own.',
  deleted: 'Client deleted, and all its grants ended.',
  cleaned: 'Unused registered clients deleted.',
};

const REFUSAL_STATUS = { invalid: 400, not_found: 404, read_only: 409, no_secret: 409 } as const;
const DEFAULT_IDLE_DAYS = 90;

/** Clients: every client with last use and grants; revoke all grants, delete, new secret, clean up idle registered clients. */
export const clientsPage: ConsolePage = (deps) => {
  const clients = new ClientService({ store: deps.store, staticClients: deps.config.clients, audit: deps.audit, log: deps.log });
  const scheduledIdleDays = deps.config.registeredClientMaxIdleDays;
  // Read at each request: the default lifetime is a live setting.
  const accessTokenMinutes = () => Math.ceil(Math.max(defaultAccessTokenTtl(deps), ...deps.config.resources.map((resource) => resource.accessTokenTtlSeconds ?? 0)) / 60);
  const router = new Router({ prefix: '/admin/clients' });

  router.get('/', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const done = DONE[String(ctx.query.done ?? '')];
    ctx.body = renderClientsList({
      viewer, clients: await clients.list(), idleDays: scheduledIdleDays ?? DEFAULT_IDLE_DAYS, scheduledIdleDays, message: done ? { kind: 'notice', text: done } : undefined,
    });
  });

  router.get('/client', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const done = DONE[String(ctx.query.done ?? '')];
    await showClient(ctx, viewer, typeof ctx.query.id === 'string' ? ctx.query.id : '', done ? { kind: 'notice', text: done } : undefined);
  });

  router.post('/revoke-grants', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin' });
    const clientId = form.get('client_id') ?? '';
    await refusedPlainly(() => clients.revokeGrants(clientId, viewer.actor));
    doneAndBack(ctx, clientPath(clientId), 'revoked');
  });

  router.post('/rotate-secret', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin', reauth: true });
    const clientId = form.get('client_id') ?? '';
    const secret = await refusedPlainly(() => clients.rotateSecret(clientId, viewer.actor));
    await showClient(ctx, viewer, clientId, { kind: 'notice', text: 'New secret made. The old one no longer works.' }, secret);
  });

  router.post('/delete', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin' });
    if (form.get('confirm') !== 'yes') throw new ConsoleRefusal(400, 'Tick the box to confirm the deletion; nothing was changed.');
    await refusedPlainly(() => clients.delete(form.get('client_id') ?? '', viewer.actor));
    doneAndBack(ctx, '/admin/clients', 'deleted');
  });

  router.get('/clean-up', async (ctx) => {
    const viewer = requireAdmin(ctx);
    const days = idleDays(typeof ctx.query.days === 'string' ? ctx.query.days : '');
    if (days === undefined) {
      ctx.status = 400;
      ctx.body = renderCleanUpRefused(viewer, 'Days: enter a whole number from 1 to 3650. Nothing was deleted.');
      return;
    }
    ctx.body = renderCleanUpPreview({ viewer, days, idle: await clients.idleRegistered(days) });
  });

  router.post('/clean-up', async (ctx) => {
    const { viewer, form } = await guardedForm(ctx, { role: 'admin' });
    const days = idleDays(form.get('days') ?? '');
    if (days === undefined) throw new ConsoleRefusal(400, 'Days: enter a whole number from 1 to 3650. Nothing was deleted.');
    await clients.cleanUpIdle(days, viewer.actor);
    doneAndBack(ctx, '/admin/clients', 'cleaned');
  });

  async function showClient(ctx: Context, viewer: ConsoleViewer, clientId: string, message?: ConsoleMessage, newSecret?: string): Promise<void> {
    const client = await clients.find(clientId);
    if (!client) throw new ConsoleRefusal(404, 'There is no such client.');
    ctx.type = 'html';
    ctx.body = renderClient({ viewer, client, message, newSecret, accessTokenMinutes: accessTokenMinutes() });
  }

  return router;
};

/** The service's refusals as console pages with their reason's status; nothing was changed. */
async function refusedPlainly<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ClientError) throw new ConsoleRefusal(REFUSAL_STATUS[error.reason], `${error.message[0]!.toUpperCase()}${error.message.slice(1)}. Nothing was changed.`);
    throw error;
  }
}

function idleDays(text: string): number | undefined {
  const days = /^\d{1,4}$/.test(text.trim()) ? Number(text) : 0;
  return days >= 1 && days <= 3650 ? days : undefined;
}

function doneAndBack(ctx: Context, path: string, done: string): void {
  ctx.status = 303;
  ctx.redirect(`${path}${path.includes('?') ? '&' : '?'}done=${done}`);
}
