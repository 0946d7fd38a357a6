import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { UserDirectory } from '../accounts/users.ts';
import type { ResourceRegistry } from '../resources.ts';
import type { ElevatedRequest } from '../elevation/policy.ts';
import { currentStatus } from '../elevation/records.ts';
import { ElevationRefusal, type ElevationService } from '../elevation/service.ts';
import { csrfToken } from './csrf.ts';
import { renderElevationEnded, renderElevationForm, renderElevationWaiting, type ElevationFormView } from './elevation-views.ts';
import { FormError } from './form.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface ElevationStepDependencies {
  provider: Provider;
  users: UserDirectory;
  resources: ResourceRegistry;
  csrfSecret: string;
  elevation: ElevationService;
  /** Completes the interaction, keeping what earlier steps submitted. */
  finish(ctx: Context, result: InteractionResults): Promise<void>;
  checkedForm(ctx: Context, details: Details): Promise<URLSearchParams>;
  redirectHost(redirectUri: string): string;
}

/** How often the waiting page reloads itself (a meta refresh: no script needed). */
export const WAITING_REFRESH_SECONDS = 3;

/**
 * The elevation step of an authorization request (after the fresh password, before consent):
 * the request form, the page that waits for an approver, and the outcome.
 */
export function elevationStep(router: Router, deps: ElevationStepDependencies): { show(ctx: Context, details: Details, clientName: string): Promise<void> } {
  const { provider, users, resources, csrfSecret, elevation } = deps;

  const formView = (details: Details, clientName: string, extra: Partial<ElevationFormView> = {}, breakGlass = false): ElevationFormView => {
    const wanted = wantedOf(details);
    return {
      action: `/interaction/${details.uid}/elevation`, csrf: csrfToken(csrfSecret, details.uid), clientName,
      resourceName: resources.find(wanted.resource)?.name ?? wanted.resource, resourceUri: wanted.resource, scopes: wanted.scopes,
      redirectHost: deps.redirectHost(String(details.params.redirect_uri)), maxDurationSeconds: wanted.rules.maxDurationSeconds,
      reasonRequired: wanted.rules.reasonRequired, approvalRequired: wanted.rules.approval !== 'none', breakGlass, ...extra,
    };
  };
  const mayBreakGlass = async (details: Details) => {
    const user = await users.findActiveById(String(details.session?.accountId));
    return wantedOf(details).rules.breakGlass && (user?.roles.includes('break-glass') ?? false);
  };

  async function show(ctx: Context, details: Details, clientName: string): Promise<void> {
    const existing = await elevation.records.forInteraction(details.uid);
    if (!existing) {
      ctx.body = renderElevationForm(formView(details, clientName, {}, await mayBreakGlass(details)));
      return;
    }
    const current = await elevation.current(existing);
    const status = currentStatus(current, elevation.nowSeconds());
    if (status === 'active') return deps.finish(ctx, { elevation: { id: current.id } });
    if (status === 'pending') {
      ctx.body = renderElevationWaiting({
        self: `/interaction/${details.uid}`, resourceName: resources.find(current.resource)?.name ?? current.resource, scopes: current.scopes,
        decideByUtc: new Date(current.decideBy * 1000).toISOString().slice(11, 16), refreshSeconds: WAITING_REFRESH_SECONDS,
      });
      return;
    }
    ctx.body = renderElevationEnded({ action: `/interaction/${details.uid}/elevation`, csrf: csrfToken(csrfSecret, details.uid), outcome: status });
  }

  router.post('/interaction/:uid/elevation', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const form = await deps.checkedForm(ctx, details);
    if (details.prompt.name !== 'elevation' || !details.session?.accountId) throw new FormError(400, 'this sign-in request is not waiting for elevated access');
    const mode = form.get('mode');
    if (mode === 'cancel') return deps.finish(ctx, { error: 'access_denied', error_description: 'the user did not get elevated access' });
    if (await elevation.records.forInteraction(details.uid)) {
      ctx.status = 303;
      ctx.redirect(`/interaction/${details.uid}`);
      return;
    }
    const user = await users.findActiveById(details.session.accountId);
    if (!user) throw new FormError(400, 'this account can no longer sign in');
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = client?.clientName ?? String(details.params.client_id);
    const values = { durationSeconds: Number(form.get('duration')) * 60, reason: form.get('reason') ?? '', ticket: form.get('ticket') ?? '' };
    let created;
    try {
      created = await elevation.request({
        interaction: details.uid, requester: user, client: { id: String(details.params.client_id), name: clientName },
        redirectHost: deps.redirectHost(String(details.params.redirect_uri)), wanted: wantedOf(details), ...values, emergency: mode === 'emergency',
      });
    } catch (error) {
      if (!(error instanceof ElevationRefusal)) throw error;
      ctx.status = error.status;
      ctx.body = renderElevationForm(formView(details, clientName, { error: error.message, values }, await mayBreakGlass(details)));
      return;
    }
    if (created.status === 'active') return deps.finish(ctx, { elevation: { id: created.id } });
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}`);
  });

  return { show };
}

/** Said on the login page when the password is asked again for elevated access. */
export function freshLoginNotice(details: Details): string | undefined {
  return details.prompt.reasons.includes('elevation_fresh_login') ? 'Elevated access was asked for: enter your password again to confirm it is you.' : undefined;
}

function wantedOf(details: Details): ElevatedRequest {
  return details.prompt.details.elevation as ElevatedRequest;
}
