import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults, PromptDetail } from 'oidc-provider';
import type { AuditSink } from '../../audit/index.ts';
import type { Logger } from '../../log/index.ts';
import { recordEvent } from '../audit-trail.ts';
import type { UserDirectory } from '../accounts/users.ts';
import type { ResourceRegistry } from '../resources.ts';
import { isLoopbackHttp } from '../clients/redirect-uris.ts';
import { addressSubject } from '../../http/ip-address.ts';
import type { RateLimits } from '../rate-limits/limits.ts';
import type { Metrics } from '../../metrics/index.ts';
import { DYNAMIC_REGISTRATION } from '../clients/registration-policy.ts';
import { isStoreUnavailable } from '../store-unavailable.ts';
import { consentResources, openidScopeViews } from './consent-scopes.ts';
import { csrfToken, csrfTokenValid } from './csrf.ts';
import { FormError, readForm } from './form.ts';
import { elevationStep, freshLoginNotice } from './elevation-routes.ts';
import type { ElevationService } from '../elevation/service.ts';
import type { SecondFactorStep } from './second-factor-routes.ts';
import { renderConsentPage, renderErrorPage, renderLoginPage, STYLESHEET, STYLESHEET_PATH, type ClientIdentity } from './views.ts';
import type { Federation } from '../federation/index.ts';
import { renderUpstreamChoices } from './federation-views.ts';

export interface InteractionDependencies {
  provider: Provider;
  log: Logger;
  users: UserDirectory;
  resources: ResourceRegistry;
  csrfSecret: string;
  limits: Pick<RateLimits, 'loginLockout' | 'loginFailuresPerAddress'>;
  metrics: Pick<Metrics, 'loginFailures'>;
  audit: AuditSink;
  elevation: ElevationService;
  /** Company sign-in providers offered on the sign-in page. */
  federation?: Federation | undefined;
  /** false: PASSWORD_LOGIN=off, the password form is neither shown nor accepted. */
  passwordLogin?: boolean;
  /** The second step of sign-in (second factor); without it a password alone signs in. */
  secondFactor?: SecondFactorStep;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** Our login and consent pages; oidc-provider decides when they are needed. */
export function interactionRoutes(deps: InteractionDependencies): Router {
  const { provider, users, resources, csrfSecret, log, limits, metrics, audit } = deps;
  const router = new Router();
  const signInChoices = (uid: string) => ({
    alternatives: renderUpstreamChoices(uid, csrfToken(csrfSecret, uid), deps.federation?.choices ?? []),
    passwordForm: deps.passwordLogin !== false,
  });

  router.get(STYLESHEET_PATH, (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });

  router.use('/interaction/:uid', async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (error) {
      if (isStoreUnavailable(error)) throw error; // the app's boundary answers 503 with a page
      const { status, message } = interactionError(error);
      if (status >= 500) log.error({ err: error, path: ctx.path }, 'interaction failed');
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = renderErrorPage(status < 500 ? 'invalid_request' : 'server_error', message);
    }
  });

  const elevation = elevationStep(router, {
    provider, users, resources, csrfSecret, elevation: deps.elevation, redirectHost,
    finish: (ctx, result) => finish(ctx, result, true), checkedForm: (ctx, details) => checkedForm(ctx, csrfSecret, details),
  });

  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = client?.clientName ?? String(details.params.client_id);
    if (details.prompt.name === 'login') {
      ctx.body = renderLoginPage({ action: `/interaction/${details.uid}/login`, csrf: csrfToken(csrfSecret, details.uid), clientName, notice: freshLoginNotice(details), ...signInChoices(details.uid) });
      return;
    }
    if (details.prompt.name === 'elevation') return elevation.show(ctx, details, clientName);
    const signedIn = details.session?.accountId ? await users.findActiveById(details.session.accountId) : undefined;
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    ctx.body = renderConsentPage({
      action: `/interaction/${details.uid}/consent`,
      signedInAs: signedIn?.name ?? '',
      switchUserAction: `/interaction/${details.uid}/switch-user`,
      csrf: csrfToken(csrfSecret, details.uid),
      clientName,
      clientId: String(details.params.client_id),
      identity: clientIdentity(client),
      redirectHost: redirectHost(String(details.params.redirect_uri)),
      localhostOnlyRedirects: (client?.redirectUris ?? []).every((uri) => { const url = URL.parse(uri); return url !== null && isLoopbackHttp(url); }),
      resources: consentResources(resources, details.params.resource, missingResourceScopes(details.prompt.details), grant),
      openidScopes: openidScopeViews((details.prompt.details.missingOIDCScope as string[] | undefined) ?? []),
    });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const form = await checkedForm(ctx, csrfSecret, details);
    if (details.prompt.name !== 'login') throw new FormError(400, 'this sign-in request is already past the sign-in step');
    if (deps.passwordLogin === false) throw new FormError(403, 'sign-in with a password is turned off here; use your company sign-in');
    const username = form.get('username') ?? '';
    const clientId = String(details.params.client_id);
    const answer = async (status: number, view: { failed?: boolean; retryAfterSeconds?: number }) => {
      const client = await provider.Client.find(clientId);
      ctx.status = status;
      if (view.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(view.retryAfterSeconds));
      ctx.body = renderLoginPage({
        action: `/interaction/${details.uid}/login`, csrf: csrfToken(csrfSecret, details.uid),
        clientName: client?.clientName ?? clientId, username, notice: freshLoginNotice(details), ...signInChoices(details.uid), ...view,
      });
    };
    const paused = await limits.loginFailuresPerAddress.exhaustedFor(addressSubject(ctx.ip)) ?? await limits.loginLockout.pausedFor(username, ctx.ip);
    if (paused !== undefined) {
      log.warn({ event: 'login_paused', ip: ctx.ip, retryAfter: paused }, 'sign-in refused: too many failures');
      return answer(429, { retryAfterSeconds: paused });
    }
    const user = await users.authenticate(username, form.get('password') ?? '');
    await recordEvent(audit, log, user
      ? { type: 'login.succeeded', subject: user.id, username: user.name, client: clientId }
      : { type: 'login.failed', username, client: clientId, ip: ctx.ip });
    if (!user) {
      metrics.loginFailures.inc();
      await limits.loginFailuresPerAddress.hit(addressSubject(ctx.ip));
      const pause = await limits.loginLockout.failed(username, ctx.ip);
      log.info({ event: 'login_failed', ip: ctx.ip, ...(pause ? { pausedFor: pause } : {}) }, 'sign-in failed');
      return answer(pause ? 429 : 401, pause ? { retryAfterSeconds: pause } : { failed: true });
    }
    await limits.loginLockout.succeeded(username, ctx.ip);
    log.info({ event: 'login_succeeded', subject: user.id, client: clientId }, 'signed in');
    if (deps.secondFactor) return deps.secondFactor.afterPassword(ctx, details, user, form.get('remember') === 'on');
    // Unless asked to remember, the session cookie ends with the browser.
    await finish(ctx, { login: { accountId: user.id, remember: form.get('remember') === 'on' } }, false);
  });

  // "Not you?": ends this browser's sign-in and starts the same request again, asking who signs in.
  router.post('/interaction/:uid/switch-user', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    await checkedForm(ctx, csrfSecret, details);
    const sessionId = (details.session as { cookie?: string } | undefined)?.cookie;
    if (sessionId) await (await provider.Session.find(sessionId))?.destroy();
    await recordEvent(audit, log, { type: 'login.switched_user', subject: details.session?.accountId, client: String(details.params.client_id) });
    log.info({ event: 'signed_out', subject: details.session?.accountId, client: String(details.params.client_id) }, 'signed out to sign in as someone else');
    ctx.status = 303;
    ctx.redirect(signInAgainUrl(details.params));
  });

  router.post('/interaction/:uid/consent', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const form = await checkedForm(ctx, csrfSecret, details);
    if (details.prompt.name !== 'consent' || !details.session?.accountId) {
      throw new FormError(400, 'this sign-in request is not waiting for consent');
    }
    const consentEvent = { subject: details.session.accountId, client: String(details.params.client_id) };
    if (form.get('decision') !== 'approve') {
      await recordEvent(audit, log, { type: 'consent.denied', ...consentEvent });
      await finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' }, false);
      return;
    }
    const grantId = await saveGrant(provider, details);
    await recordEvent(audit, log, {
      type: 'consent.granted', ...consentEvent, grant: grantId,
      scopes: (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [], resources: missingResourceScopes(details.prompt.details),
    });
    await finish(ctx, { consent: { grantId } }, true);
  });

  deps.secondFactor?.addRoutes(router);

  async function finish(ctx: Context, result: InteractionResults, merge: boolean): Promise<void> {
    const location = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(location);
  }

  return router;
}

async function checkedForm(ctx: Context, csrfSecret: string, details: Details): Promise<URLSearchParams> {
  const form = await readForm(ctx);
  if (!csrfTokenValid(csrfSecret, details.uid, form.get('csrf'))) {
    throw new FormError(400, 'the form expired or was not sent from this page; go back and try again');
  }
  return form;
}

async function saveGrant(provider: Provider, details: Details): Promise<string> {
  const { prompt, params, session, grantId } = details;
  const grant = (grantId && (await provider.Grant.find(grantId)))
    || new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  const missingOidcScope = prompt.details.missingOIDCScope as string[] | undefined;
  if (missingOidcScope) grant.addOIDCScope(missingOidcScope.join(' '));
  const missingClaims = prompt.details.missingOIDCClaims as string[] | undefined;
  if (missingClaims) grant.addOIDCClaims(missingClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes(prompt.details))) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

function missingResourceScopes(details: PromptDetail['details']): Record<string, string[]> {
  return (details.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
}

function clientIdentity(client: Client | undefined): ClientIdentity {
  if (!client) return { kind: 'operator' };
  if ((client as { clientIdMetadataDocument?: boolean }).clientIdMetadataDocument) {
    return { kind: 'metadata-document', host: new URL(client.clientId).host };
  }
  return client.metadata()[DYNAMIC_REGISTRATION] === 'dynamic' ? { kind: 'dynamic' } : { kind: 'operator' };
}

/** The same authorization request, asking for a fresh sign-in: "not you?" on the consent page. */
function signInAgainUrl(params: Details['params']): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [value].flat()) if (typeof one === 'string') query.append(name, one);
  }
  // Keep prompt=consent (offline_access counts only with it); never prompt=none.
  const prompts = new Set(String(params.prompt ?? '').split(' ').filter((prompt) => prompt && prompt !== 'none'));
  query.set('prompt', [...prompts.add('login')].join(' '));
  return `/authorize?${query}`;
}

function redirectHost(redirectUri: string): string {
  const url = URL.parse(redirectUri);
  if (!url) return redirectUri;
  return url.host ? `${url.protocol}//${url.host}` : `${url.protocol}`;
}

function interactionError(error: unknown): { status: number; message: string } {
  if (error instanceof FormError) return { status: error.status, message: error.message };
  const name = (error as { name?: string })?.name;
  if (name === 'SessionNotFound' || name === 'InvalidRequest') {
    return { status: 400, message: 'This sign-in request has expired or was opened in another browser. Start again from the application.' };
  }
  return { status: 500, message: 'The server could not finish this step. Try again.' };
}
