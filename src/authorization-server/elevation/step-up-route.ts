import Router from '@koa/router';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import type { Logger } from '../../log/index.ts';
import { FormError, readForm } from '../interactions/form.ts';
import { problem } from '../problem.ts';
import type { ResourceRegistry } from '../resources.ts';
import { elevatedScopes } from './policy.ts';
import { GRANT_REF_CLAIM, type StepUpSignals } from './step-up-signals.ts';

export const STEP_UP_SIGNAL_PATH = '/elevations/step-up';

export interface StepUpRouteDependencies {
  issuer: string;
  resources: ResourceRegistry;
  signals: StepUpSignals;
  /** The public keys access tokens are signed with. */
  jwks: () => JSONWebKeySet;
  log: Logger;
}

/**
 * POST /elevations/step-up: a resource server that refused a call for an elevated scope says so,
 * authenticated by the access token it refused (form field `scope`: what the call needed). The
 * token's grant then steps up at its next refresh (see step-up-signals.ts). A DPoP-bound token is
 * accepted as a bearer here: the resource server relays it and cannot prove the client's key.
 */
export function stepUpSignalRoutes(deps: StepUpRouteDependencies): Router {
  const router = new Router();
  router.post(STEP_UP_SIGNAL_PATH, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const claims = await verifiedAccessToken(ctx, deps);
    if (!claims) return;
    const audience = typeof claims.aud === 'string' ? claims.aud : undefined;
    const elevated = elevatedScopes(audience === undefined ? undefined : deps.resources.find(audience));
    const ref = claims[GRANT_REF_CLAIM];
    if (elevated.size === 0 || typeof ref !== 'string') {
      problem(ctx, 400, 'No step-up possible', 'this token is for no resource with elevated scopes, or belongs to no grant');
      return;
    }
    let wanted: string[];
    try {
      wanted = ((await readForm(ctx)).get('scope') ?? '').split(' ');
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      problem(ctx, error.status, 'Unreadable request', error.message);
      return;
    }
    if (!wanted.some((scope) => elevated.has(scope))) {
      problem(ctx, 400, 'No elevated scope named', `scope must name an elevated scope of ${audience}`);
      return;
    }
    await deps.signals.record(ref);
    deps.log.info({ event: 'step_up_signalled', client: claims.client_id, subject: claims.sub, resource: audience }, 'a resource server asked for a step-up');
    ctx.status = 204;
  });
  return router;
}

async function verifiedAccessToken(ctx: Context, deps: StepUpRouteDependencies): Promise<JWTPayload | undefined> {
  const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(ctx.get('authorization'))?.[1];
  const refuse = (detail: string) => {
    ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    problem(ctx, 401, 'Access token required', detail);
    return undefined;
  };
  if (!token) return refuse('send the refused access token as a Bearer token');
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(deps.jwks()), { issuer: deps.issuer, typ: 'at+jwt', algorithms: ['RS256'] });
    return payload;
  } catch {
    return refuse('the access token is not one this server issued, or it has expired');
  }
}
