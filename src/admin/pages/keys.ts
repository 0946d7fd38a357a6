import Router from '@koa/router';
import type { Context } from 'koa';
import { html, type SafeHtml } from '../../authorization-server/interactions/html.ts';
import { KeyChangeRefusedError, type KeyRefusal, type KeyView, type RecordKeyChange, type SigningKeys } from '../../keys/index.ts';
import { recordAdminEvent } from '../admin-events.ts';
import { guardedForm, requireAdmin, type ConsoleViewer } from '../console-guard.ts';
import type { ConsoleDeps, ConsolePage } from '../console-page.ts';
import { consoleForm, renderConsolePage, type ConsoleMessage } from '../layout.ts';

const TITLE = 'Signing keys';
const STATUS: Record<KeyView['status'], SafeHtml> = {
  next: html`<span class="badge warn">next</span>`,
  signing: html`<span class="badge ok">current</span>`,
  published: html`<span class="badge">published</span>`,
  retired: html`<span class="badge bad">retired</span>`,
};
const REFUSED: Record<KeyRefusal, string> = {
  current: 'This key signs tokens now, so it cannot be retired. Make a new key first; once the new one signs, retire this one.',
  pending: 'A new key is already waiting to take over. Wait until it signs before making another.',
  fixed: 'This key is set where the server is deployed (an environment variable or a mounted file), so it can only be replaced there: rotate it where it is kept.',
  unknown: 'There is no such key; nothing was changed.',
};

/** List the keys, make a new one (password again), retire an old one; every instance follows within seconds. */
export const keysPage: ConsolePage = (deps) => {
  const router = new Router({ prefix: '/admin/keys' });
  const keys = deps.signingKeys;

  router.get('/', async (ctx) => {
    const viewer = requireAdmin(ctx);
    ctx.body = await page(deps, keys, viewer);
  });

  router.post('/rotate', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin', reauth: true });
    await change(ctx, deps, viewer, async (record) => {
      const key = await keys!.rotate(record);
      return { kind: 'notice', text: `A new key (${key.kid}) is published now and starts signing at ${shown(key.activatesAt)}. Every server follows within a few seconds.` };
    });
  });

  router.post('/:kid/retire', async (ctx) => {
    const { viewer } = await guardedForm(ctx, { role: 'admin' });
    await change(ctx, deps, viewer, async (record) => {
      const { warning } = await keys!.retire(ctx.params.kid!, record);
      return warning ? { kind: 'error', text: `Retired. ${warning}` } : { kind: 'notice', text: 'Retired. Servers stop publishing this key within a few seconds.' };
    });
  });

  return router;
};

async function change(ctx: Context, deps: ConsoleDeps, viewer: ConsoleViewer, apply: (record: RecordKeyChange) => Promise<ConsoleMessage>): Promise<void> {
  const record: RecordKeyChange = (event) => recordAdminEvent(deps.audit, deps.log, { ...event, actor: viewer.actor });
  try {
    if (!deps.signingKeys) throw new KeyChangeRefusedError('KEYS_DIR', 'fixed', 'no key service');
    const message = await apply(record);
    ctx.body = await page(deps, deps.signingKeys, viewer, message);
  } catch (error) {
    if (!(error instanceof KeyChangeRefusedError)) throw error;
    ctx.status = error.code === 'unknown' ? 404 : 409;
    ctx.body = await page(deps, deps.signingKeys, viewer, { kind: 'error', text: REFUSED[error.code] });
  }
}

async function page(deps: ConsoleDeps, keys: SigningKeys | undefined, viewer: ConsoleViewer, message?: ConsoleMessage): Promise<string> {
  const listed = keys ? await keys.list() : [{ kid: deps.keys.signingKid, createdAt: '', status: 'signing' as const }];
  const fixed = !keys || keys.fixed;
  const records = listed.slice().reverse().map((key) => html`<section class="request">
<p>${STATUS[key.status]} <code class="keys-kid">${key.kid}</code></p>
<table class="facts">
<tr><th scope="row">Created</th><td>${key.createdAt ? shown(key.createdAt) : 'set at deployment'}</td></tr>
${details(key)}
</table>
${!fixed && (key.status === 'published' || key.status === 'next')
    ? consoleForm(viewer, `/admin/keys/${key.kid}/retire`, html`<button type="submit" class="danger">Retire this key</button>`, { layout: 'inline' }) : ''}
</section>`);
  const body = html`<p>Tokens are signed with the <strong>current</strong> key. A new key is first only <strong>published</strong>
(shown to everyone who checks tokens) and starts signing a little later, so no one meets a key they do not know yet.
Retiring a key takes it off the published list: tokens it signed stop working.</p>
<section class="panel" aria-label="Keys, newest first">${records}</section>
<section class="panel">
<h2>Make a new key</h2>
${fixed
    ? html`<p class="warning">This key is set where the server is deployed (${deps.keys.source === 'env' ? 'the RSA_PRIVATE_KEY_PEM setting' : 'a mounted key file'}), so it cannot be changed here: rotate it where it is kept.</p>`
    : consoleForm(viewer, '/admin/keys/rotate', html`<p>The new key is published now and becomes the current key after the waiting time; the current key stays published until you retire it.</p>`, {
      reauth: true, actions: html`<div class="actions"><button type="submit" class="primary">Make a new key</button></div>`,
    })}
</section>`;
  return renderConsolePage({ title: TITLE, viewer, body, message });
}

function details(key: KeyView): SafeHtml | string {
  if (key.status === 'next') return html`<tr><th scope="row">Signs</th><td>from ${shown(key.activatesAt)}</td></tr>`;
  if (key.inUseUntil) {
    return html`<tr><th scope="row">Its tokens</th><td><div class="warning">valid until ${shown(key.inUseUntil)}; retiring it earlier makes them fail</div></td></tr>`;
  }
  return '';
}

function shown(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '';
}
