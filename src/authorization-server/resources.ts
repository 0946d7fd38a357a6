import { errors, type ResourceServer } from 'oidc-provider';
import type { ResourceConfig } from '../config/index.ts';
import { valueOf, type Live } from '../settings/index.ts';

/**
 * The registered resources (MCP servers and APIs). A token is only ever minted for one of
 * these, as an RS256 JWT (RFC 9068) whose audience is exactly the resource indicator.
 */
export class ResourceRegistry {
  readonly #byUri: Map<string, ResourceConfig>;
  readonly #defaultTtl: Live<number>;

  /** `defaultAccessTokenTtl` may be live: it is read at each token. */
  constructor(resources: readonly ResourceConfig[], defaultAccessTokenTtl: Live<number>) {
    this.#byUri = new Map(resources.map((resource) => [resource.uri, resource]));
    this.#defaultTtl = defaultAccessTokenTtl;
  }

  get uris(): string[] {
    return [...this.#byUri.keys()];
  }

  get allScopes(): string[] {
    return [...new Set([...this.#byUri.values()].flatMap((resource) => resource.scopes))];
  }

  /** Used when a client asks without `resource` (e.g. ChatGPT Actions): the resource marked default. */
  get defaultUri(): string | undefined {
    return [...this.#byUri.values()].find((resource) => resource.default)?.uri;
  }

  find(uri: string): ResourceConfig | undefined {
    return this.#byUri.get(uri);
  }

  /** oidc-provider's getResourceServerInfo: unknown indicators are `invalid_target`. */
  serverInfo(indicator: string): ResourceServer {
    const resource = this.#byUri.get(indicator);
    if (!resource) throw new errors.InvalidTarget('the requested resource is not registered at this authorization server');
    return {
      scope: resource.scopes.join(' '),
      audience: resource.uri,
      accessTokenTTL: resource.accessTokenTtlSeconds ?? valueOf(this.#defaultTtl),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    };
  }
}
