import Provider, { errors, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log/index.ts';
import { rotationLost } from './refresh-rotation.ts';
import type { ResourceRegistry } from './resources.ts';

interface ConsumableToken {
  jti: string;
  resource?: string | string[];
  resourceIndicators: Set<string>;
  remainingTTL: number;
  save(): Promise<unknown>;
  destroy(): Promise<void>;
}

interface TokenEntities {
  RefreshToken?: ConsumableToken;
  RotatedRefreshToken?: ConsumableToken;
  AuthorizationCode?: ConsumableToken;
}

/**
 * For `rotateRefreshToken`: oidc-provider rotates the refresh token before it resolves the
 * resource of the new access token, so a refused `resource` would cost the client its refresh
 * token. The same resolution as oidc-provider's (the requested resource, else the granted one;
 * exactly one; one this grant has; still registered) runs here first, and refuses the same way.
 */
export function refreshTargetChecked(resources: ResourceRegistry): (ctx: KoaContextWithOIDC) => Promise<boolean> {
  return async (ctx) => {
    const token = (ctx.oidc.entities as TokenEntities).RefreshToken!;
    const resource = ctx.oidc.params?.resource ?? token.resource;
    if (Array.isArray(resource)) {
      if (resource.length === 0) return true;
      throw new errors.InvalidTarget('only a single resource indicator value must be requested/resolved during Access Token Request');
    }
    if (typeof resource === 'string') {
      if (!token.resourceIndicators.has(resource)) throw new errors.InvalidTarget();
      resources.serverInfo(resource);
    }
    return true;
  };
}

interface KeptRecord {
  adapter: Adapter;
  id: string;
  payload: AdapterPayload;
}

const KEPT = Symbol('stored records as they were before this token request changed them');
type WithKept = { state: { [KEPT]?: KeptRecord[] } };

/**
 * Keeps a stored record as it is before a hook of this token request changes it (the elevation
 * hook strips elevated scopes from the code and the grant), so a refusal puts it back exactly.
 * The record as it was before the grant ran: a consumed code was unconsumed then.
 */
export async function keepForUndo(ctx: KoaContextWithOIDC, model: { adapter: Adapter }, id: string): Promise<void> {
  const found = await model.adapter.find(id);
  if (!found) return;
  const { consumed: _consumed, ...payload } = found;
  ((ctx as unknown as WithKept).state[KEPT] ??= []).push({ adapter: model.adapter, id, payload: structuredClone(payload) });
}

async function restoreKept(ctx: WithKept): Promise<Set<string>> {
  const now = Math.floor(Date.now() / 1000);
  const restored = new Set<string>();
  for (const { adapter, id, payload } of ctx.state[KEPT] ?? []) {
    const left = typeof payload.exp === 'number' ? payload.exp - now : 0;
    if (typeof payload.exp === 'number' && left <= 0) continue;
    await adapter.upsert(id, payload, left);
    restored.add(id);
  }
  return restored;
}

/**
 * A refused token request changes nothing (RFC 6749 §5.2, RFC 8707 §2.2). When a refusal comes
 * after oidc-provider consumed the code or rotated the refresh token (a resource it could not
 * serve, a DPoP mismatch, the audit log down), the consumed one is restored and whatever was
 * issued in its place is removed, so the client's retry with the right parameters succeeds.
 * Register it before the audit write-ahead, so it runs after it.
 */
export function undoRefusedTokenRequests(provider: Provider, log: Logger): void {
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route !== 'token' || ctx.status === 200) return;
    const entities = oidc.entities as TokenEntities;
    // oidc-provider names these entities only once this request has consumed them. A code whose
    // exchange failed on our side stays spent: the audit write-ahead withdrew its whole new grant.
    const consumed = entities.RotatedRefreshToken ?? (ctx.status < 500 ? entities.AuthorizationCode : undefined);
    if (!consumed || (consumed === entities.RotatedRefreshToken && rotationLost(ctx))) return;
    const issued = entities.RefreshToken !== consumed ? entities.RefreshToken : undefined;
    try {
      await issued?.destroy();
      const restored = await restoreKept(ctx as unknown as WithKept);
      if (!restored.has(consumed.jti) && consumed.remainingTTL > 0) await consumed.save();
    } catch (error) {
      log.error({ reason: (error as Error).message, status: ctx.status }, 'a refused token request could not be undone');
    }
  });
}

const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';

/**
 * RFC 6749 §5.2 and OAuth 2.1 name `unauthorized_client` for a grant type the client may not use;
 * oidc-provider answers `invalid_request`. Its refusal is recognised by its description.
 */
export function unauthorizedClientForDisallowedGrants(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    if ((ctx as KoaContextWithOIDC).oidc?.route === 'token' && body?.error === 'invalid_request' && body.error_description === GRANT_TYPE_NOT_ALLOWED) {
      body.error = 'unauthorized_client';
    }
  });
}
