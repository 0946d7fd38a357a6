import type { Context, Middleware, Next } from 'koa';
import { extractBearerToken } from './authorization-header.ts';
import { tokenErrorResponse } from './error-response.ts';
import { TokenVerificationError } from './errors.ts';
import { metadataPathFor, PROTECTED_RESOURCE_WELL_KNOWN, type ProtectedResourceMetadata } from './metadata.ts';
import type { TokenVerifier } from './verifier.ts';
import type { VerifiedToken } from './verified-token.ts';

/** What requireBearerToken puts in `ctx.state`. */
export interface BearerTokenState {
  token: VerifiedToken;
}

export interface RequireBearerTokenOptions {
  verifier: Pick<TokenVerifier, 'verify'>;
  /** This resource's protected resource metadata URL (see metadataUrlFor), for the challenges. */
  metadataUrl: string;
  /** Scopes every request through this middleware needs. Also hinted in 401 challenges. */
  requiredScopes?: readonly string[];
  /** Scopes to hint in 400/401 challenges when none are required (e.g. what a first sign-in should ask for). */
  challengeScopes?: readonly string[];
}

function appendListHeader(ctx: Context, header: string, value: string): void {
  const current = ctx.response.get(header) as unknown;
  const text = Array.isArray(current) ? current.join(',') : typeof current === 'string' ? current : '';
  const values = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (!values.some((item) => item.toLowerCase() === value.toLowerCase())) values.push(value);
  ctx.set(header, values.join(', '));
}

/**
 * Koa middleware that lets a request through only with a valid bearer token in the
 * Authorization header, and sets `ctx.state.token`. Refusals are answered here with the
 * status, WWW-Authenticate and a small JSON body from tokenErrorResponse; other errors propagate.
 */
export function requireBearerToken(options: RequireBearerTokenOptions): Middleware<BearerTokenState> {
  const { verifier, metadataUrl } = options;
  const requiredScopes = [...(options.requiredScopes ?? [])];
  return async (ctx, next) => {
    let token: VerifiedToken;
    try {
      const raw = extractBearerToken({
        authorization: ctx.req.headersDistinct?.authorization ?? ctx.get('authorization') ?? undefined,
        accessTokenInQuery: new URLSearchParams(ctx.querystring).has('access_token'),
      });
      token = await verifier.verify(raw, { requiredScopes });
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      const hint = requiredScopes.length > 0 ? requiredScopes : [...(options.challengeScopes ?? [])];
      const response = tokenErrorResponse(error, { resourceMetadata: metadataUrl, scopes: error.code === 'insufficient_scope' ? requiredScopes : hint });
      ctx.status = response.status;
      if (response.wwwAuthenticate !== undefined) {
        ctx.set('WWW-Authenticate', response.wwwAuthenticate);
        appendListHeader(ctx, 'Access-Control-Expose-Headers', 'WWW-Authenticate');
      } else {
        ctx.set('Retry-After', '5');
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.body = response.body;
      return;
    }
    ctx.state.token = token;
    await next();
  };
}

/**
 * Serves the RFC 9728 document at /.well-known/oauth-protected-resource and at the resource's
 * path-inserted form (e.g. /.well-known/oauth-protected-resource/mcp), readable from any origin.
 */
export function protectedResourceMetadataRoutes(metadata: ProtectedResourceMetadata): Middleware {
  const paths = new Set([PROTECTED_RESOURCE_WELL_KNOWN, metadataPathFor(metadata.resource)]);
  const body = JSON.stringify(metadata);
  return async (ctx: Context, next: Next) => {
    if (!paths.has(ctx.path)) return next();
    ctx.set('Access-Control-Allow-Origin', '*');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', '*');
      ctx.set('Access-Control-Max-Age', '86400');
      ctx.status = 204;
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD, OPTIONS');
      ctx.status = 405;
      return;
    }
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
