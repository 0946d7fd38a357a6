import type { Middleware } from 'koa';
import { addressSubject } from '../../http/ip-address.ts';
import type { Logger } from '../../log/index.ts';
import { valueOf, type Live } from '../../settings/index.ts';
import type { Store } from '../../storage/index.ts';
import { tooManyRequests, type Limit } from '../rate-limits/index.ts';
import { redeemInitialAccessToken } from './initial-access-tokens.ts';
import type { RegistrationMode } from './registration-policy.ts';
import { routesTo } from '../protocol-routes.ts';

export interface RegistrationGateOptions {
  path: string;
  /** Read at each request: a live setting. */
  mode: Live<RegistrationMode>;
  rateLimit: Limit;
  store: Store;
  log: Logger;
}

/**
 * In front of oidc-provider's registration endpoint: a per-address rate limit, then (in token
 * mode) the initial access token. What the registration may contain is checked later, in
 * registration-policy.ts.
 */
export function registrationGate(options: RegistrationGateOptions): Middleware {
  const { path, rateLimit, store, log } = options;
  const gate: Middleware = async (ctx, next) => {
    const mode = valueOf(options.mode);
    if (mode === 'off') {
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: 'client registration is turned off at this server' };
      return;
    }
    const retryAfter = await rateLimit.hit(addressSubject(ctx.ip));
    if (retryAfter !== undefined) {
      log.warn({ ip: ctx.ip, retryAfter, event: 'rate_limited', limit: 'registration' }, 'client registration rate limit reached');
      tooManyRequests(ctx, retryAfter, `too many client registrations from this address; try again in ${retryAfter} seconds`);
      return;
    }
    if (mode === 'token') {
      const token = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'))?.[1];
      if (!token || !(await redeemInitialAccessToken(store, token))) {
        const description = token ? 'the initial access token is unknown, expired or used up' : 'registration needs an initial access token (Authorization: Bearer)';
        ctx.status = 401;
        ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_token', error_description: description };
        return;
      }
    }
    await next();
  };
  return (ctx, next) => (ctx.method !== 'POST' || !routesTo(ctx.path, path) ? next() : gate(ctx, next));
}
