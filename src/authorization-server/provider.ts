import Provider, { type AdapterPayload, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { OutboundFetch } from '../http/outbound/index.ts';
import type { Logger } from '../log/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { Store } from '../storage/index.ts';
import type { PublicUser, UserDirectory } from './accounts/users.ts';
import { profileClaims } from './accounts/profile-claims.ts';
import { storeAdapter, storedModelKey } from './adapter.ts';
import { readAhead, takeReadAhead } from './refresh-read-ahead.ts';
import { stepUpSignalKey } from './elevation/step-up-signals.ts';
import { forProvider, retryAfterOutage } from './store-unavailable.ts';
import { clientSecretMatches } from './clients/secrets.ts';
import { loopbackRedirectMatches } from './clients/redirect-uris.ts';
import { explainMetadataDocumentFailures, metadataDocumentFeature, withDocumentSizeLimit } from './clients/metadata-documents.ts';
import { liveDiscovery } from './live-discovery.ts';
import { DeclaredApplicationTypes } from './clients/declared-application-types.ts';
import { PKCE_METADATA, registrationMetadata } from './clients/registration-policy.ts';
import type { ResourceRegistry } from './resources.ts';
import { defaultScopesWhenMissing, loadGrantWithGrantedScopes } from './requested-scopes.ts';
import { grantableServerInfo } from './accounts/grantable-scopes.ts';
import { RequestAccounts } from './accounts/request-accounts.ts';
import { accessTokenClaims } from './access-token-claims.ts';
import { ACR_VALUES } from './accounts/sign-in-methods.ts';
import { signInPolicy } from './interactions/sign-in-policy.ts';
import { renderErrorPage } from './interactions/views.ts';
import { closeOnUnreadBody } from '../http/unread-body.ts';
import { refreshTargetChecked, unauthorizedClientForDisallowedGrants, undoRefusedTokenRequests } from './token-refusals.ts';
import type { ElevationHooks } from './elevation/provider-hooks.ts';
import { logoutFeature } from './interactions/logout-pages.ts';

export interface ProviderDependencies {
  config: Config;
  store: Store;
  users: UserDirectory;
  resources: ResourceRegistry;
  /** Private JWKs, the current signing key first. */
  signingKeys: { keys: object[] };
  cookieKeys: string[];
  log: Logger;
  /** Every request the server makes on a client's say-so goes through it (SSRF rules). */
  outboundFetch: OutboundFetch;
  /** Elevated scopes: fresh password, elevation step, tokens that end with the elevation. */
  elevation: ElevationHooks;
  /** Lifetimes, registration mode and CIMD policy are read from here at each use. */
  settings: SettingsService;
}

export const REGISTRATION_PATH = '/reg';
export const TOKEN_PATH = '/token';
/** oidc-provider's endpoints where none of our pages live: requests to them skip the page routers. */
export const PROTOCOL_ONLY_PATHS: ReadonlySet<string> = new Set([TOKEN_PATH, REGISTRATION_PATH, '/jwks', '/revoke', '/introspect', '/userinfo', '/par']);
const SCOPES = ['openid', 'offline_access', 'profile', 'email'];
/** Cap on any fetched body (a JWKS with several keys fits easily); the outbound fetch is built with it. */
export const OUTBOUND_MAX_BYTES = 64 * 1024;
const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** Every oidc-provider policy decision Portcullis makes, in one place. */
export function createProvider(deps: ProviderDependencies): Provider {
  const { config, resources } = deps;
  const live = () => deps.settings.current();
  // A feature switched off by the environment or CONFIG_FILE stays out of oidc-provider; otherwise it
  // exists and the live setting decides in front of it (and in discovery, see live-discovery.ts).
  const fixedOff = (name: 'registration' | 'cimd') => deps.settings.snapshot().fixed[name] !== undefined && config[name] === 'off';
  const withoutPkce = new Set(config.clients.filter((client) => client.pkce === 'optional').map((client) => client.client_id));
  const declaredTypes = new DeclaredApplicationTypes();
  const directory = { findActiveById: (id: string) => forProvider(deps.log, () => deps.users.findActiveById(id)) };
  const accounts = new RequestAccounts((id) => takeReadAhead<PublicUser | undefined>(accountReadKey(id)) ?? directory.findActiveById(id));
  const configuration: Configuration = {
    adapter: storeAdapter(deps.store, deps.log, (token) => readAheadForRefresh(token, deps.store, directory)),
    clients: config.clients.map(({ pkce: _pkce, ...metadata }) => metadata) as ClientMetadata[],
    jwks: deps.signingKeys as Configuration['jwks'],
    cookies: { keys: deps.cookieKeys },

    findAccount: async (ctx, sub) => {
      const user = await accounts.find(ctx, sub);
      if (!user) return undefined;
      return { accountId: user.id, claims: () => profileClaims(user) };
    },
    claims: { openid: ['sub', 'acr', 'amr'], profile: ['preferred_username', 'name'], email: ['email', 'email_verified'] },
    // Access tokens are for resources, not /userinfo, so the ID token carries the consented profile claims.
    conformIdTokenClaims: false,
    scopes: SCOPES,

    // OAuth 2.1: authorization code with PKCE S256 for every client, nothing implicit or hybrid.
    responseTypes: ['code'],
    // OAuth 2.1: PKCE for every client, except a confidential client configured with
    // `"pkce": "optional"` or added with `clients add --pkce optional` (ChatGPT Actions send no
    // code_verifier); start-up warns about each.
    pkce: { required: (_ctx, client) => !withoutPkce.has(client.clientId) && !(client.metadata()[PKCE_METADATA] === 'optional' && client.clientAuthMethod !== 'none') },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: SIGNING_ALGS,
      idTokenSigningAlgValues: ['RS256'],
      requestObjectSigningAlgValues: SIGNING_ALGS,
      userinfoSigningAlgValues: ['RS256'],
      introspectionSigningAlgValues: ['RS256'],
      authorizationSigningAlgValues: ['RS256'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    } as Configuration['enabledJWA'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: confidentialCallerOnly },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      rpInitiatedLogout: logoutFeature,
      // RFC 7591 at /reg; who may call it is decided in front of it (clients/registration-gate.ts).
      registration: { enabled: !fixedOff('registration'), initialAccessToken: false, issueRegistrationAccessToken: false },
      clientIdMetadataDocument: metadataDocumentFeature(() => ({
        enabled: live().cimd === 'on',
        allowedHosts: live().cimdAllowedHosts,
        cacheMinSeconds: live().cimdCacheMinSeconds,
        cacheMaxSeconds: live().cimdCacheMaxSeconds,
      }), !fixedOff('cimd'), (clientId) => declaredTypes.of(clientId)),
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? resources.defaultUri,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => grantableServerInfo(ctx, indicator, resources, accounts.of(ctx), () => deps.elevation.resourceServerInfo(ctx, indicator)),
      },
    },

    extraClientMetadata: registrationMetadata(() => live().registration, SCOPES),
    extraParams: { scope: defaultScopesWhenMissing(resources) },
    loadExistingGrant: loadGrantWithGrantedScopes,
    fetch: declaredTypes.recording(withDocumentSizeLimit(deps.outboundFetch, () => live().cimdMaxBytes)),
    fetchResponseBodyLimits: {
      // Checked live by withDocumentSizeLimit; the outbound fetch caps every body at OUTBOUND_MAX_BYTES anyway.
      'client_id metadata document': Number.POSITIVE_INFINITY,
      jwks_uri: OUTBOUND_MAX_BYTES,
      sector_identifier_uri: OUTBOUND_MAX_BYTES,
    },

    // auth_time, amr and acr (RFC 9068 §2.2.1) let resource servers demand a recent or stronger
    // sign-in for risky tools (RFC 9470 step-up); the client then asks again with max_age / acr_values.
    extraTokenClaims: async (ctx, token) => {
      const claims = { ...(await accessTokenClaims(ctx, token as never, resources, accounts.of(ctx))), ...deps.elevation.tokenClaims(ctx, token as never) };
      return Object.keys(claims).length ? claims : undefined;
    },

    formats: { customizers: { jwt: (ctx, _token, parts) => deps.elevation.clampExpiry(ctx, parts) } },

    // Refresh tokens rotate on every use (once the request is known to succeed, see token-refusals.ts);
    // oidc-provider revokes the whole grant when a rotated one comes back.
    rotateRefreshToken: async (ctx) => {
      const rotate = await refreshTargetChecked(resources)(ctx);
      await deps.elevation.refuseRefreshAwaitingStepUp(ctx);
      return rotate;
    },
    issueRefreshToken: async (ctx, client, code) => {
      await deps.elevation.dropFromStandingGrant(ctx, code);
      return client.grantTypeAllowed('refresh_token') && outlivesSession(code.scopes);
    },
    expiresWithSession: async (_ctx, code) => !outlivesSession(code.scopes),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? live().accessTokenTtlSeconds,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? live().accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: () => live().refreshTokenTtlSeconds,
      Grant: () => live().refreshTokenTtlSeconds,
      Session: (_ctx, session) => sessionSeconds(session.loginTs, live()),
    },

    routes: {
      authorization: '/authorize',
      token: TOKEN_PATH,
      jwks: '/jwks',
      registration: REGISTRATION_PATH,
      revocation: '/revoke',
      introspection: '/introspect',
      userinfo: '/userinfo',
      pushed_authorization_request: '/par',
    },
    interactions: { policy: deps.elevation.policy(signInPolicy()), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    acrValues: ACR_VALUES,
    clientBasedCORS: (_ctx, origin, client) =>
      client.clientAuthMethod === 'none' && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out.error, out.error_description);
    },
  };

  const provider = new Provider(config.issuer, configuration);
  allowLoopbackRedirectsOnAnyPort(provider);
  compareHashedClientSecrets(provider);
  explainMetadataDocumentFailures(provider, deps.log, () => live().cimd === 'on');
  provider.use(liveDiscovery(live));
  provider.use(closeOnUnreadBody());
  provider.use(retryAfterOutage);
  undoRefusedTokenRequests(provider, deps.log);
  unauthorizedClientForDisallowedGrants(provider);
  provider.use(deps.elevation.linkCodes());
  return provider;
}

// oidc-provider relaxes the loopback port only for `native` clients; RFC 8252 §7.3 wants it for any.
// One rule for every client: the exact string, or a loopback URI differing only in its port.
function allowLoopbackRedirectsOnAnyPort(provider: Provider): void {
  const prototype = provider.Client.prototype as { redirectUriAllowed(value: string): boolean; redirectUris?: string[] };
  prototype.redirectUriAllowed = function redirectUriAllowed(value: string) {
    const registered = this.redirectUris ?? [];
    return registered.includes(value) || loopbackRedirectMatches(value, registered);
  };
}

// Stored client secrets are hashes (see clients/secrets.ts); oidc-provider would compare them verbatim.
function compareHashedClientSecrets(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as { clientSecret?: string; compareClientSecret(actual: string): boolean };
  prototype.compareClientSecret = function compareClientSecret(actual: string) {
    return clientSecretMatches(this.clientSecret, actual);
  };
}

/**
 * OpenID requests keep OIDC's rule: offline access only with `offline_access` (which oidc-provider
 * keeps only with prompt=consent). Plain OAuth clients (MCP connectors, ChatGPT Actions) know no
 * such scope and still need refresh tokens, so a grant without `openid` outlives the session.
 */
function outlivesSession(scopes: Set<string>): boolean {
  return scopes.has('offline_access') || !scopes.has('openid');
}

/**
 * Every use of a session pushes its end to SESSION_IDLE_SECONDS from now (oidc-provider saves it
 * on each request that reads it), but never past SESSION_TTL_SECONDS after the sign-in.
 */
function sessionSeconds(loginTs: number | undefined, config: Pick<Config, 'sessionIdleSeconds' | 'sessionTtlSeconds'>): number {
  const now = Math.floor(Date.now() / 1000);
  const absoluteLeft = (loginTs ?? now) + config.sessionTtlSeconds - now;
  return Math.max(1, Math.min(config.sessionIdleSeconds, absoluteLeft));
}

async function confidentialCallerOnly(ctx: KoaContextWithOIDC): Promise<boolean> {
  return ctx.oidc.client?.clientAuthMethod !== 'none';
}

async function ownTokensOnly(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }): Promise<boolean> {
  return token.clientId === client.clientId;
}

const accountReadKey = (accountId: string) => `account:${accountId}`;

/** What a refresh grant reads once its refresh token is found, started together (refresh-read-ahead.ts). */
function readAheadForRefresh(token: AdapterPayload, store: Store, directory: { findActiveById(id: string): Promise<PublicUser | undefined> }): void {
  const { grantId, accountId } = token;
  if (typeof grantId === 'string') {
    const grantKey = storedModelKey('Grant', grantId);
    readAhead(grantKey, () => store.get(grantKey));
    const signalKey = stepUpSignalKey(grantId);
    readAhead(signalKey, () => store.get(signalKey));
  }
  if (typeof accountId === 'string') readAhead(accountReadKey(accountId), () => directory.findActiveById(accountId));
}
