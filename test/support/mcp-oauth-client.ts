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
 * An MCP host that steps up as the MCP authorization spec asks: after a 403 insufficient_scope
 * it sends the user through a new authorization request. The SDK tries its refresh token first,
 * which can never carry an elevated scope, so this host withholds the refresh token while a
 * step-up is due. Give `fetch` to the transport so the host sees the challenges.
 */
export class StepUpOAuthClient extends InMemoryOAuthClient {
  #stepUpDue = false;
  /** Every insufficient_scope challenge the MCP server answered with, oldest first. */
  readonly challenges: string[] = [];

  readonly fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 403 && challenge?.includes('insufficient_scope')) {
      this.#stepUpDue = true;
      this.challenges.push(challenge);
    }
    return response;
  };

  override tokens() {
    const tokens = super.tokens();
    if (!tokens || !this.#stepUpDue) return tokens;
    const { refresh_token: _withheld, ...rest } = tokens;
    return rest;
  }

  override saveTokens(tokens: OAuthTokens): void {
    this.#stepUpDue = false;
    super.saveTokens(tokens);
  }
}
