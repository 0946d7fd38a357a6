import { timingSafeEqual, createHash } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import type { Middleware } from 'koa';
import { unmappedAddress } from '../http/ip-address.ts';
import type { Metrics } from './index.ts';

export interface MetricsAccess {
  /** Callers must send `Authorization: Bearer <token>`; none: the listener itself is the protection. */
  token?: string;
  /** Addresses or CIDR ranges allowed to read; empty: any. */
  allow: string[];
}

/** `/metrics` in Prometheus text format, for callers that pass the access rules. */
export function metricsEndpoint(metrics: Pick<Metrics, 'exposition'>, access: MetricsAccess): Middleware {
  const allowed = allowList(access.allow);
  const expected = access.token ? digest(access.token) : undefined;
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') return next();
    ctx.set('Cache-Control', 'no-store');
    const address = unmappedAddress(ctx.ip);
    if (allowed && !allowed.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) {
      ctx.status = 403;
      ctx.type = 'application/problem+json';
      ctx.body = { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'this address may not read metrics' };
      return;
    }
    if (expected) {
      const presented = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization'))?.[1];
      if (!presented || !timingSafeEqual(digest(presented), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.type = 'application/problem+json';
        ctx.body = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'metrics need the metrics token' };
        return;
      }
    }
    const { contentType, body } = await metrics.exposition();
    ctx.type = contentType;
    ctx.body = body;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A BlockList of the allowed ranges ("10.0.0.0/8", "::1", "192.0.2.7"); undefined for none. */
export function allowList(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}
