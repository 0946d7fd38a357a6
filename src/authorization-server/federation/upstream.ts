import * as oidc from 'openid-client';
import type { UpstreamProviderConfig } from '../../config/index.ts';
import { OutboundError, type OutboundFetch } from '../../http/outbound/index.ts';
import { FederationError } from './errors.ts';

/** What one company sign-in said about the person, after every check passed. */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  groups: string[];
}

/** The secrets of one outstanding upstream sign-in, kept server-side until the callback. */
export interface PendingChecks {
  state: string;
  nonce: string;
  verifier: string;
}

const DISCOVERY_CACHE_MS = 3600_000;

/**
 * One upstream OpenID provider: discovery, the authorization request (PKCE S256, state, nonce)
 * and the code exchange with ID token checks (issuer, audience, signature by JWKS, expiry, nonce),
 * all by openid-client, every fetch through the SSRF-safe outbound fetch.
 */
export class UpstreamProvider {
  readonly config: UpstreamProviderConfig;
  readonly #fetch: OutboundFetch;
  readonly #redirectUri: string;
  #discovered: { at: number; configuration: oidc.Configuration } | undefined;

  constructor(config: UpstreamProviderConfig, fetch: OutboundFetch, redirectUri: string) {
    this.config = config;
    this.#fetch = fetch;
    this.#redirectUri = redirectUri;
  }

  async begin(): Promise<{ url: URL; checks: PendingChecks }> {
    const configuration = await this.#configuration();
    const checks = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.#redirectUri,
      scope: this.config.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
    });
    return { url, checks };
  }

  /** Exchanges the code from `callbackQuery` and returns who signed in; throws FederationError. */
  async finish(callbackQuery: URLSearchParams, checks: PendingChecks): Promise<UpstreamIdentity> {
    const configuration = await this.#configuration();
    const currentUrl = new URL(this.#redirectUri);
    currentUrl.search = callbackQuery.toString();
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      const claims = this.#lacksMappedClaims(idClaims) && configuration.serverMetadata().userinfo_endpoint
        ? { ...(await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)), ...idClaims }
        : idClaims;
      return this.#identity(claims as Record<string, unknown> & { iss: string; sub: string });
    } catch (error) {
      throw classify(error);
    }
  }

  async #configuration(): Promise<oidc.Configuration> {
    if (this.#discovered && Date.now() - this.#discovered.at < DISCOVERY_CACHE_MS) return this.#discovered.configuration;
    const { issuer, clientId, clientSecret } = this.config;
    try {
      const configuration = await oidc.discovery(new URL(issuer), clientId, undefined,
        clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(), { [oidc.customFetch]: this.#fetch, timeout: 10 });
      // Without it, an ID token from the token endpoint is trusted on TLS alone (OIDC Core 3.1.3.7); we check its signature by JWKS.
      oidc.enableNonRepudiationChecks(configuration);
      this.#discovered = { at: Date.now(), configuration };
      return configuration;
    } catch (error) {
      throw new FederationError('upstream_unreachable', `discovery of ${issuer} failed: ${describe(error)}`);
    }
  }

  #lacksMappedClaims(claims: Record<string, unknown>): boolean {
    const { email, name, groups } = this.config.claims;
    return [email, name, groups].some((claim) => claims[claim] === undefined);
  }

  #identity(claims: Record<string, unknown> & { iss: string; sub: string }): UpstreamIdentity {
    const mapping = this.config.claims;
    const email = typeof claims[mapping.email] === 'string' ? (claims[mapping.email] as string).toLowerCase() : undefined;
    const groups = claims[mapping.groups];
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email,
      emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      name: typeof claims[mapping.name] === 'string' ? claims[mapping.name] as string : undefined,
      groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : [],
    };
  }
}

function classify(error: unknown): FederationError {
  if (error instanceof FederationError) return error;
  if (causedByNetwork(error)) return new FederationError('upstream_unreachable', describe(error));
  if (error instanceof oidc.ResponseBodyError) return new FederationError('code_rejected', `${error.error}: ${error.error_description ?? ''}`);
  if (error instanceof oidc.AuthorizationResponseError) return new FederationError('upstream_refused', error.error);
  return new FederationError('id_token_invalid', describe(error));
}

function causedByNetwork(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof OutboundError) return true;
  }
  return false;
}

function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return [code, message].filter(Boolean).join(': ');
}
