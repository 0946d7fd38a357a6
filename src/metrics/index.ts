import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one process. Labels stay bounded: routes are named from a fixed
 * list, and clients that anyone can create (dynamic registration, metadata documents) are
 * counted together as `other`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'portcullis_http_request_duration_seconds', help: 'HTTP request duration by route', labelNames: ['route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly tokensIssued = new Counter({ name: 'portcullis_tokens_issued_total', help: 'Successful token endpoint grants by grant type and client', labelNames: ['grant_type', 'client'], registers: [this.registry] });
  readonly loginFailures = new Counter({ name: 'portcullis_login_failures_total', help: 'Failed sign-ins (wrong username or password)', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'portcullis_rate_limit_rejections_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers: [this.registry] });
  readonly storeDuration = new Histogram({ name: 'portcullis_store_operation_duration_seconds', help: 'Store operation latency by engine and operation', labelNames: ['engine', 'operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly auditAppendDuration = new Histogram({ name: 'portcullis_audit_append_duration_seconds', help: 'Time until an audit event is durable', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly jwksCacheLookups = new Counter({ name: 'portcullis_jwks_cache_lookups_total', help: 'Signing-key lookups in the resource-server JWKS cache', labelNames: ['result'], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

const ROUTES: Array<[RegExp, string]> = [
  [/^\/(token|authorize|jwks|reg|revoke|introspect|userinfo|par|metrics|healthz|readyz|mcp)$/, ''],
  [/^\/authorize\/[^/]+$/, '/authorize/:uid'],
  [/^\/reg\/[^/]+$/, '/reg/:client_id'],
  [/^\/interaction\/[^/]+(\/(login|consent|elevation))?$/, '/interaction'],
  [/^\/admin(\/[a-z-]+)?(\/[^/]+(\/(revoke|acknowledge))?)?$/, '/admin'],
  [/^\/elevations\/[^/]+$/, '/elevations/:id'],
  [/^\/\.well-known\/(openid-configuration|oauth-authorization-server|oauth-protected-resource)(\/.*)?$/, '/.well-known'],
];

/** A bounded route label for a request path. */
export function routeLabel(path: string): string {
  const match = ROUTES.find(([pattern]) => pattern.test(path));
  return match ? match[1] || path : 'other';
}
