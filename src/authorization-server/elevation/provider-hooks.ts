import Provider, { errors, interactionPolicy, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { ResourceRegistry } from '../resources.ts';
import { elevatedRequest, elevatedScopes, withoutScopes, type ElevatedRequest } from './policy.ts';
import { currentStatus, type Elevation, type ElevationRecords } from './records.ts';
import { keepForUndo } from '../token-refusals.ts';
import { GRANT_REF_CLAIM, grantRef, type StepUpSignals } from './step-up-signals.ts';

const { Check, Prompt } = interactionPolicy;
type Policy = ReturnType<typeof interactionPolicy.base>;
type Context = KoaContextWithOIDC;

export const ELEVATION_PROMPT = 'elevation';

/** The interaction result our elevation step adds, carried to the code by oidc-provider. */
export interface ElevationResult {
  elevation?: { id: string };
}

/**
 * How elevated scopes meet oidc-provider: a request that names one needs a password typed in this
 * request and an active elevation; the code carries the elevation to the token, which lives no
 * longer than it; refresh tokens, refreshes and grants never keep an elevated scope.
 */
export class ElevationHooks {
  readonly #resources: ResourceRegistry;
  readonly #records: ElevationRecords;
  readonly #signals: StepUpSignals;
  readonly #tokenElevation = new WeakMap<object, Elevation>();

  constructor(resources: ResourceRegistry, records: ElevationRecords, signals: StepUpSignals) {
    this.#resources = resources;
    this.#records = records;
    this.#signals = signals;
  }

  /** What the authorization request being handled asks to elevate, if anything. */
  requested(ctx: Context): ElevatedRequest | undefined {
    const scopes = ctx.oidc.requestParamScopes;
    for (const indicator of Object.keys(ctx.oidc.resourceServers ?? {})) {
      const wanted = elevatedRequest(this.#resources.find(indicator), scopes);
      if (wanted) return wanted;
    }
    return undefined;
  }

  /** The login prompt gains a check (fresh password), and the elevation prompt goes before consent. */
  policy(policy: Policy): Policy {
    policy.get('login')!.checks.add(new Check('elevation_fresh_login', 'an elevated scope needs the password again', (ctx) =>
      this.requested(ctx) !== undefined && !ctx.oidc.result?.login));
    const elevation = new Prompt(
      { name: ELEVATION_PROMPT, requestable: false },
      (ctx: Context) => ({ elevation: this.requested(ctx) }),
      new Check('elevation_required', 'an elevated scope needs an active elevation', async (ctx) => {
        const wanted = this.requested(ctx);
        if (!wanted) return Check.NO_NEED_TO_PROMPT;
        const id = (ctx.oidc.result as ElevationResult | undefined)?.elevation?.id;
        const found = id ? await this.#records.get(id) : undefined;
        return found && this.#covers(found, wanted, ctx.oidc.session?.accountId, ctx.oidc.client?.clientId) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }) as never,
    );
    policy.add(elevation, policy.findIndex((prompt) => prompt.name === 'consent'));
    return policy;
  }

  /** provider.use: remembers the elevation of each code issued at the end of an elevation step. */
  linkCodes() {
    return async (ctx: Context, next: () => Promise<void>) => {
      await next();
      const id = (ctx.oidc?.result as ElevationResult | undefined)?.elevation?.id;
      const code = ctx.oidc?.entities?.AuthorizationCode;
      if (id && code?.jti) await this.#records.linkCode(code.jti, id);
    };
  }

  /**
   * getResourceServerInfo: an authorization code with an elevated scope needs its active
   * elevation and gets a token that ends with it; refreshes and client credentials never
   * yield an elevated scope.
   */
  async resourceServerInfo(ctx: Context, indicator: string): Promise<ResourceServer> {
    const info = this.#resources.serverInfo(indicator);
    const elevated = elevatedScopes(this.#resources.find(indicator));
    if (elevated.size === 0 || ctx.oidc.route !== 'token') return info;
    const code = ctx.oidc.entities.AuthorizationCode;
    if (!code) return { ...info, scope: withoutScopes(info.scope ?? '', elevated) };
    const wanted = [...code.scopes].filter((scope) => elevated.has(scope));
    if (wanted.length === 0) return info;
    const elevation = await this.#records.forCode(code.jti);
    const now = Math.floor(Date.now() / 1000);
    if (!elevation || elevation.resource !== indicator || !this.#covers(elevation, { resource: indicator, scopes: wanted }, code.accountId, ctx.oidc.client?.clientId)) {
      throw new errors.InvalidGrant('the elevation for this authorization code is not active');
    }
    this.#tokenElevation.set(ctx, elevation);
    return { ...info, accessTokenTTL: Math.max(1, Math.min(info.accessTokenTTL ?? Infinity, elevation.end! - now)) };
  }

  /**
   * The `elevation` claim of an access token minted under an elevation; and, for a resource with
   * elevated scopes, the grant's reference a resource server names when it asks for a step-up.
   */
  tokenClaims(ctx: Context | undefined, token: { grantId?: string; resourceServer?: { audience?: string } | undefined }): Record<string, unknown> | undefined {
    const audience = token.resourceServer?.audience;
    const steppable = token.grantId !== undefined && audience !== undefined && elevatedScopes(this.#resources.find(audience)).size > 0;
    const ref = steppable ? { [GRANT_REF_CLAIM]: grantRef(token.grantId!) } : undefined;
    const elevation = ctx ? this.#tokenElevation.get(ctx) : undefined;
    if (!elevation) return ref;
    return {
      ...ref,
      elevation: {
        id: elevation.id, reason: elevation.reason, ...(elevation.approver ? { approver: elevation.approver.name } : {}),
        ...(elevation.breakGlass ? { break_glass: true } : {}), start: elevation.start, end: elevation.end, scopes: elevation.scopes,
      },
    };
  }

  /** rotateRefreshToken, before the refresh token is consumed: a grant a resource server asked to step up answers `invalid_grant` once. */
  async refuseRefreshAwaitingStepUp(ctx: Context): Promise<void> {
    await this.#signals.refuseRefreshAwaitingStepUp(ctx.oidc.entities.RefreshToken as { grantId?: string } | undefined);
  }

  /** formats.customizers.jwt: the token's `exp` is never past the elevation's end (the TTL above can round up a second). */
  clampExpiry(ctx: Context, parts: { payload: { exp?: number } }): void {
    const end = this.#tokenElevation.get(ctx)?.end;
    if (end !== undefined && (parts.payload.exp === undefined || parts.payload.exp > end)) parts.payload.exp = end;
  }

  /**
   * issueRefreshToken runs after the access token is minted and before the refresh token is
   * built from the code: the refresh token and the grant lose the elevated scopes here.
   */
  async dropFromStandingGrant(ctx: Context, source: { scope?: string; kind?: string; grantId?: string; jti?: string }): Promise<void> {
    if (source.kind !== 'AuthorizationCode') return;
    await this.#signals.answered(source.grantId);
    if (!source.scope) return;
    const elevated = new Set(this.#resources.uris.flatMap((uri) => [...elevatedScopes(this.#resources.find(uri))]));
    if (!source.scope.split(' ').some((scope) => elevated.has(scope))) return;
    const grant = ctx.oidc.entities.Grant as (InstanceType<Provider['Grant']> & { resources?: Record<string, string> }) | undefined;
    // A later refusal of this request puts both back as they were (token-refusals.ts).
    if (source.jti) await keepForUndo(ctx, ctx.oidc.provider.AuthorizationCode as never, source.jti);
    if (grant?.jti) await keepForUndo(ctx, ctx.oidc.provider.Grant as never, grant.jti);
    source.scope = withoutScopes(source.scope, elevated);
    if (!grant?.resources) return;
    for (const [indicator, scope] of Object.entries(grant.resources)) grant.resources[indicator] = withoutScopes(scope, elevated);
    await grant.save();
  }

  #covers(elevation: Elevation, wanted: Pick<ElevatedRequest, 'resource' | 'scopes'>, accountId: string | undefined, clientId: string | undefined): boolean {
    return currentStatus(elevation, Math.floor(Date.now() / 1000)) === 'active'
      && elevation.resource === wanted.resource
      && wanted.scopes.every((scope) => elevation.scopes.includes(scope))
      && elevation.requester.id === accountId
      && elevation.client.id === clientId;
  }
}
