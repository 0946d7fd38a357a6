import type Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import type { Store } from '../storage/index.ts';
import { auditRoutes } from './audit-routes.ts';
import { registrationGate } from './clients/registration-gate.ts';
import type { RegistrationMode } from './clients/registration-policy.ts';
import type { Live } from '../settings/index.ts';
import { interactionRoutes, type InteractionDependencies } from './interactions/routes.ts';
import { federationRoutes } from './interactions/federation-routes.ts';
import { accountRoutes, type AccountSection } from './account/account-routes.ts';
import { problem, problemBoundary } from './problem.ts';
import { PROTOCOL_ONLY_PATHS, REGISTRATION_PATH, TOKEN_PATH } from './provider.ts';
import { replayedRequest } from '../http/replayed-request.ts';
import { requestLogging } from '../http/request-log.ts';
import { closeOnUnreadBody } from '../http/unread-body.ts';
import { logUnfinishedResponses } from '../http/client-errors.ts';
import { metricsEndpoint, type MetricsAccess } from '../metrics/endpoint.ts';
import { routeLabel, type Metrics } from '../metrics/index.ts';
import type { RateLimits } from './rate-limits/limits.ts';
import { READ_BODY, tokenRateLimit } from './rate-limits/token-gate.ts';
import { pinHostToIssuer } from './issuer-host.ts';
import { securityHeaders } from './security-headers.ts';

export interface AppDependencies extends InteractionDependencies {
  store: Store;
  issuer: string;
  /** Read at each registration: a live setting. */
  registration: { mode: Live<RegistrationMode> };
  limits: RateLimits;
  /** Honour X-Forwarded-For/-Proto from this many proxies in front (0: none). */
  trustedProxies: number;
  metrics: Metrics;
  /** Serve /metrics on this app with these rules; undefined: not here. */
  metricsAccess: MetricsAccess | undefined;
  /** More of our own pages and endpoints (elevation status, /account additions), beside the interaction pages. */
  routers?: Router[];
  /** /admin: the operator console, or a 404 when it has its own listener. */
  operatorConsole?: Middleware;
  /** The audit log's directory, whose checkpoints and consistency proofs are served (undefined: AUDIT=off). */
  auditDir?: string | undefined;
  /** Keys of oidc-provider's signed cookies, so /account can read the session cookie. */
  cookieKeys: string[];
  /** Sections other features add to /account. */
  accountSections?: AccountSection[];
}

/** The HTTP surface: headers, health, our pages, then oidc-provider for the protocol. */
export function createApp(deps: AppDependencies): Koa {
  const app = new Koa();
  app.keys = deps.cookieKeys;
  if (deps.trustedProxies > 0) {
    app.proxy = true;
    app.maxIpsCount = deps.trustedProxies;
  }
  const interactions = interactionRoutes(deps);
  logUnfinishedResponses(app, deps.log);
  logUnfinishedResponses(deps.provider, deps.log); // before callback(), which adds koa's default otherwise
  const handleProtocol = deps.provider.callback();
  const issuer = new URL(deps.issuer);

  app.use(requestLogging(deps.log, ({ method, path, status, seconds }) => {
    const route = routeLabel(path);
    deps.metrics.httpRequests.inc({ route, method, status: String(status) });
    deps.metrics.httpDuration.observe({ route }, seconds);
  }));
  app.use(closeOnUnreadBody());
  app.use(problemBoundary(deps.log));
  app.use(securityHeaders({ https: deps.issuer.startsWith('https:') }));

  app.use((ctx, next) => {
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    return ctx.path === '/readyz' ? readiness(ctx, next) : next();
  });
  const readiness: Middleware = async (ctx) => {
    try {
      await deps.store.ping();
      ctx.body = { status: 'ready', store: deps.store.engine };
    } catch {
      problem(ctx, 503, 'Not ready', 'the store is unavailable', { status_detail: 'not_ready' });
    }
  };

  if (deps.metricsAccess) app.use(metricsEndpoint(deps.metrics, deps.metricsAccess));
  if (deps.auditDir) app.use(auditRoutes(deps.auditDir));
  app.use(registrationGate({ path: REGISTRATION_PATH, store: deps.store, log: deps.log, mode: deps.registration.mode, rateLimit: deps.limits.registrationPerAddress }));
  app.use(tokenRateLimit({ path: TOKEN_PATH, limits: deps.limits, log: deps.log }));
  const pages: Middleware = compose<Koa.Context>([
    ...(deps.federation ? [federationRoutes({ ...deps, federation: deps.federation }).routes()] : []),
    accountRoutes(deps).routes(),
    interactions.routes(),
    interactions.allowedMethods(),
    ...(deps.operatorConsole ? [deps.operatorConsole] : []),
    ...(deps.routers ?? []).map((router) => router.routes()),
  ] as Middleware[]);
  app.use((ctx, next) => (PROTOCOL_ONLY_PATHS.has(ctx.path) ? next() : pages(ctx, next)));

  app.use(async (ctx) => {
    // RFC 8414 metadata is the same document as OIDC discovery; oidc-provider serves only the latter.
    if (ctx.path === '/.well-known/oauth-authorization-server') {
      ctx.req.url = ctx.req.url!.replace('/.well-known/oauth-authorization-server', '/.well-known/openid-configuration');
    }
    pinHostToIssuer(ctx.req, issuer);
    ctx.respond = false;
    const readBody = ctx.state[READ_BODY] as Buffer | undefined;
    await handleProtocol(readBody ? replayedRequest(ctx.req, readBody) : ctx.req, ctx.res);
  });

  return app;
}
