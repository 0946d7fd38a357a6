import type { JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEvent, AuditSink } from '../audit/index.ts';
import type { Logger } from '../log/index.ts';

/** Appends an event that guards nothing (a login, a revocation): a failure is logged, the request goes on. */
export async function recordEvent(audit: AuditSink, log: Logger, event: AuditEvent): Promise<void> {
  try {
    await audit.append(event);
  } catch (error) {
    log.error({ err: { name: (error as Error).name, message: (error as Error).message }, event: event.type }, 'audit event not recorded');
  }
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/**
 * Write-ahead for the token endpoint and events for revocation and registration, as middleware
 * around oidc-provider's own: after it produced a token response, the event is appended; if that
 * fails, what was just issued is revoked and the client gets 503 temporarily_unavailable, no token.
 */
export function auditProtocolEvents(provider: Provider, audit: AuditSink, log: Logger): void {
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (!oidc) return;
    if (oidc.route === 'token' && ctx.status === 200) {
      await writeAheadOfToken(ctx as KoaContextWithOIDC, audit, log);
    } else if (oidc.route === 'revocation' && ctx.status === 200) {
      await recordEvent(audit, log, { type: 'token.revoked', client: oidc.client?.clientId, token_type_hint: stringParam(oidc.params?.token_type_hint) });
    } else if (oidc.route === 'registration' && ctx.status === 201) {
      const body = ctx.body as { client_id?: string; client_name?: string; redirect_uris?: string[]; token_endpoint_auth_method?: string };
      await recordEvent(audit, log, {
        type: 'client.registered', client: body.client_id, client_name: body.client_name, redirect_uris: body.redirect_uris, token_endpoint_auth_method: body.token_endpoint_auth_method,
      });
    }
  });
}

async function writeAheadOfToken(ctx: KoaContextWithOIDC, audit: AuditSink, log: Logger): Promise<void> {
  const body = ctx.body as TokenResponse;
  if (!body?.access_token) return;
  const grantType = stringParam(ctx.oidc.params?.grant_type);
  try {
    await audit.append(tokenEvent(grantType, body));
  } catch (error) {
    log.error({ err: { name: (error as Error).name, message: (error as Error).message }, grantType }, 'audit log unavailable: token withheld and revoked');
    await revokeIssued(ctx, body).catch((revokeError: unknown) => log.error({ err: { message: (revokeError as Error).message } }, 'revoking a withheld token failed'));
    ctx.status = 503;
    ctx.set('Retry-After', '5');
    ctx.body = { error: 'temporarily_unavailable', error_description: 'the audit log is unavailable, so no token was issued; try again shortly' };
  }
}

/**
 * What the audit log keeps about a token response: the access token's claims, never a token. Keys
 * in canonical (sorted) order, so the log serialises the event with one JSON.stringify.
 */
function tokenEvent(grantType: string | undefined, body: TokenResponse): AuditEvent {
  const claims = payloadOf(body.access_token!);
  return {
    client: typeof claims.client_id === 'string' ? claims.client_id : undefined,
    expires_at: claims.exp,
    grant_type: grantType,
    id_token_issued: body.id_token !== undefined,
    jti: claims.jti,
    refresh_token_issued: body.refresh_token !== undefined,
    resource: claims.aud,
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : [],
    subject: claims.sub,
    type: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
  };
}

/** The claims of an access token this server has just signed: read, no checks needed; not a JWT throws. */
function payloadOf(jwt: string): JWTPayload {
  const [, payload] = jwt.split('.', 3);
  const claims: unknown = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
  if (typeof claims !== 'object' || claims === null) throw new TypeError('the access token is not a JWT');
  return claims as JWTPayload;
}

async function revokeIssued(ctx: KoaContextWithOIDC, body: TokenResponse): Promise<void> {
  const { provider, entities } = ctx.oidc;
  if (body.refresh_token) await (await provider.RefreshToken.find(body.refresh_token))?.destroy();
  // A code exchange created the grant just now: nothing the client holds may outlive it.
  const grant = entities.AuthorizationCode ? entities.Grant : undefined;
  if (grant?.jti) {
    await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode].map((model) => model.revokeByGrantId(grant.jti)));
    await grant.destroy();
  }
}

const stringParam = (value: unknown) => (typeof value === 'string' ? value : undefined);
