import type { Context, Middleware } from 'koa';
import { BodyError, readBody, refuseDeclaredLength } from '../../http/body.ts';
import { addressSubject } from '../../http/ip-address.ts';
import type { RequestLogFields } from '../../http/request-log.ts';
import type { Logger } from '../../log/index.ts';
import { tooManyRequests } from './index.ts';
import type { RateLimits } from './limits.ts';
import { routesTo } from '../protocol-routes.ts';

/** oidc-provider refuses larger token requests too. */
const TOKEN_REQUEST_LIMIT_BYTES = 56 * 1024;

/** The body the protocol handler must read instead of the (already read) request stream. */
export const READ_BODY = 'portcullisReadBody';

/**
 * In front of the token endpoint: every request counts against its address, and a client that
 * has used up its budget of issued tokens is refused before any work. Only successful grants
 * count against a client, so nobody can spend another client's budget by naming it. The body is
 * read here only when the client is not named by HTTP Basic (then the form names it); otherwise
 * oidc-provider reads it as it would without us.
 */
export function tokenRateLimit(options: { path: string; limits: RateLimits; log: Logger }): Middleware {
  const { path, limits, log } = options;
  const gate: Middleware = async (ctx, next) => {
    const refuse = (retryAfter: number, description: string, fields: Record<string, unknown>) => {
      log.warn({ ...fields, retryAfter, event: 'rate_limited', limit: 'token' }, 'token endpoint rate limit reached');
      tooManyRequests(ctx, retryAfter, `${description}; try again in ${retryAfter} seconds`);
    };
    const address = addressSubject(ctx.ip);
    const addressRetry = await limits.tokenPerAddress.hit(address);
    if (addressRetry !== undefined) return refuse(addressRetry, 'too many token requests from this address', { ip: ctx.ip });

    let clientId = basicClientId(ctx.get('authorization'));
    try {
      if (clientId === undefined) clientId = await formClientId(ctx);
      else refuseDeclaredLength(ctx.req, TOKEN_REQUEST_LIMIT_BYTES);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      ctx.status = error.status;
      ctx.body = { error: 'invalid_request', error_description: error.message };
      return;
    }
    if (clientId !== undefined) {
      const logFields = ctx.state.logFields as RequestLogFields | undefined;
      if (logFields) logFields.client = clientId;
      const clientRetry = await limits.tokenPerClient.exhaustedFor(clientId);
      if (clientRetry !== undefined) return refuse(clientRetry, 'this client has been issued too many tokens', { client: clientId });
    }
    await next();
    if (clientId !== undefined && ctx.res.statusCode === 200) await limits.tokenPerClient.hit(clientId);
  };
  return (ctx, next) => (ctx.method !== 'POST' || !routesTo(ctx.path, path) ? next() : gate(ctx, next));
}

/** client_id from HTTP Basic (RFC 6749 §2.3.1, form-encoded inside). */
function basicClientId(authorization: string): string | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** client_id from the form body, read whole here and kept for the protocol handler (READ_BODY). */
async function formClientId(ctx: Context): Promise<string | undefined> {
  const body = await readBody(ctx.req, TOKEN_REQUEST_LIMIT_BYTES);
  ctx.state[READ_BODY] = body;
  if (!ctx.is('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(body.toString('utf8')).get('client_id') ?? undefined;
}

