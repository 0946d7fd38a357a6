import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { randomBytes } from 'node:crypto';

/**
 * What an MCP host keeps for one server: an OAuthClientProvider held in memory. Instead of
 * opening a browser it records the authorization URL, which the test then walks through our
 * pages with UserAgent.
 */
export class InMemoryOAuthClient implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly clientMetadataUrl?: string;
  readonly #metadata: OAuthClientMetadata;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  #state: string | undefined;
  #discovery: unknown;
  readonly #signIn: ((authorizationUrl: URL) => Promise<URL>) | undefined;
  /** Set by redirectToAuthorization: where the host would send the user's browser. */
  authorizationUrl: URL | undefined;
  /** Where the browser landed after signing in, when `signIn` is given: the redirect URI with code, state and iss. */
  callback: URL | undefined;

  /** `signIn` plays the user's browser for each authorization request and returns where it landed. */
  constructor(options: { redirectUrl: string; clientName: string; clientMetadataUrl?: string; signIn?: (authorizationUrl: URL) => Promise<URL> }) {
    this.redirectUrl = options.redirectUrl;
    this.#signIn = options.signIn;
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
    this.#metadata = {
      client_name: options.clientName,
      redirect_uris: [options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  /** The state sent with the last authorization request, to check the callback against. */
  get lastState(): string | undefined {
    return this.#state;
  }

  clientInformation() {
    return this.#client;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.#client = information;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  /** What the SDK calls when the authorization server says stored credentials are no longer good (e.g. `invalid_grant`). */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrl = authorizationUrl;
    if (this.#signIn) this.callback = await this.#signIn(authorizationUrl);
  }

  // Kept across the redirect, as a host keeps it beside the code verifier (SDK 2 checks the callback against it).
  saveDiscoveryState(state: unknown): void {
    this.#discovery = state;
  }

  discoveryState() {
    return this.#discovery as never;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }
}

/**
 * An MCP host that also records every insufficient_scope challenge the MCP server answers with,
 * for tests to look at: give `fetch` to the transport. It keeps every token as given.
 */
export class ChallengeRecordingClient extends InMemoryOAuthClient {
  /** Every insufficient_scope challenge, oldest first. */
  readonly challenges: string[] = [];

  readonly fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 403 && challenge?.includes('insufficient_scope')) this.challenges.push(challenge);
    return response;
  };
}
