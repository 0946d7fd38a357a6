import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';
import { recordEvent } from '../audit-trail.ts';
import { FEDERATION_CALLBACK_PATH, FederationError, type Federation, type PendingChecks } from '../federation/index.ts';
import { isStoreUnavailable } from '../store-unavailable.ts';
import { csrfTokenValid } from './csrf.ts';
import { renderFederationFailurePage } from './federation-views.ts';
import { FormError, readForm } from './form.ts';

export interface FederationRouteDependencies {
  provider: Provider;
  store: Store;
  log: Logger;
  audit: AuditSink;
  csrfSecret: string;
  federation: Federation;
}

interface PendingSignIn extends PendingChecks {
  uid: string;
  providerId: string;
}

/** Long enough to sign in at the company, short enough that a leaked link soon means nothing. */
const PENDING_SECONDS = 600;
const pendingKey = (state: string) => `federation-state:${state}`;

/**
 * Company sign-in: the sign-in page's button starts an upstream code flow, the upstream sends
 * the browser to the callback, which hands it back to the interaction it belongs to (whose
 * cookie proves it is the same browser); there the code is exchanged and the account found.
 */
export function federationRoutes(deps: FederationRouteDependencies): Router {
  const { provider, store, log, audit, csrfSecret, federation } = deps;
  const router = new Router();

  router.post('/interaction/:uid/federation/:providerId', async (ctx) => {
    await failingOnAPage(ctx, ctx.params.providerId, async () => {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const form = await readForm(ctx);
      if (!csrfTokenValid(csrfSecret, details.uid, form.get('csrf'))) throw new FormError(400, 'the form expired or was not sent from this page; go back and try again');
      if (details.prompt.name !== 'login') throw new FormError(400, 'this sign-in request is already past the sign-in step');
      const upstream = federation.provider(ctx.params.providerId!);
      const { url, checks } = await upstream.begin();
      await store.put(pendingKey(checks.state), { ...checks, uid: details.uid, providerId: upstream.config.id } satisfies PendingSignIn, { ttlSeconds: PENDING_SECONDS });
      ctx.status = 303;
      ctx.redirect(url.href);
    });
  });

  router.get(FEDERATION_CALLBACK_PATH, async (ctx) => {
    await failingOnAPage(ctx, undefined, async () => {
      const pending = await pendingFor(ctx);
      ctx.status = 303;
      ctx.redirect(`/interaction/${encodeURIComponent(pending.uid)}/federation-return?${ctx.querystring}`);
    });
  });

  router.get('/interaction/:uid/federation-return', async (ctx) => {
    let providerId: string | undefined;
    await failingOnAPage(ctx, () => providerId, async () => {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const pending = await pendingFor(ctx);
      providerId = pending.providerId;
      if (pending.uid !== details.uid) throw new FederationError('state_mismatch', 'state of another interaction');
      if (!(await store.consume(pendingKey(pending.state)))) throw new FederationError('state_used', 'callback replayed');
      if (details.prompt.name !== 'login') throw new FormError(400, 'this sign-in request is already past the sign-in step');
      const upstream = federation.provider(pending.providerId);
      const query = new URLSearchParams(ctx.querystring);
      if (query.has('error')) throw new FederationError('upstream_refused', `${query.get('error')}: ${query.get('error_description') ?? ''}`);
      const identity = await upstream.finish(query, pending);
      const user = await federation.accounts.signIn(upstream.config, identity);
      const clientId = String(details.params.client_id);
      await recordEvent(audit, log, { type: 'login.succeeded', subject: user.id, username: user.name, client: clientId, method: 'upstream', provider: upstream.config.id });
      log.info({ event: 'login_succeeded', subject: user.id, client: clientId, provider: upstream.config.id }, 'signed in with a company provider');
      const location = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.id, amr: ['fed'], remember: false } }, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(location);
    });
  });

  async function pendingFor(ctx: Context): Promise<PendingSignIn> {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const record = state ? await store.get<PendingSignIn>(pendingKey(state)) : undefined;
    if (!record) throw new FederationError('state_unknown', state ? 'unknown or expired state' : 'no state');
    if (record.consumedAt !== undefined) throw new FederationError('state_used', 'callback replayed');
    return record.value;
  }

  /** Runs a step; any failure ends on a page in plain words, logged and audited, with nothing signed in. */
  async function failingOnAPage(ctx: Context, providerId: string | undefined | (() => string | undefined), step: () => Promise<void>): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    try {
      await step();
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      const failure = asFailure(error);
      const provider = typeof providerId === 'function' ? providerId() : providerId;
      if (failure.status >= 500 && !(error instanceof FederationError)) log.error({ err: error, path: ctx.path }, 'company sign-in failed');
      else log.warn({ event: 'upstream_login_failed', provider, reason: failure.reason, detail: failure.detail }, 'company sign-in failed');
      await recordEvent(audit, log, { type: 'login.failed', method: 'upstream', provider, reason: failure.reason, ip: ctx.ip });
      ctx.status = failure.status;
      ctx.type = 'html';
      const uid = ctx.params.uid;
      ctx.body = renderFederationFailurePage(failure.message, uid && failure.reason !== 'interaction_expired' ? `/interaction/${encodeURIComponent(uid)}` : undefined);
    }
  }

  return router;
}

interface Failure {
  status: number;
  reason: string;
  message: string;
  detail?: string | undefined;
}

function asFailure(error: unknown): Failure {
  if (error instanceof FederationError) return { status: error.status, reason: error.reason, message: error.message, detail: error.detail };
  if (error instanceof FormError) return { status: error.status, reason: 'bad_form', message: `The sign-in form was not accepted: ${error.message}.` };
  const name = (error as { name?: string })?.name;
  if (name === 'SessionNotFound' || name === 'InvalidRequest') {
    return { status: 400, reason: 'interaction_expired', message: 'This sign-in request has expired or was opened in another browser. Start again from the application.' };
  }
  return { status: 500, reason: 'server_error', message: 'The server could not finish this step. Try again.' };
}
