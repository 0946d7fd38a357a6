import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import { errors, type Configuration } from 'oidc-provider';
import type { Logger } from '../../log/index.ts';
import { OutboundError, type OutboundFetch } from '../../http/outbound/index.ts';
import { valueOf, type Live } from '../../settings/index.ts';
import { assertSelfIntroducedClient } from './self-introduced.ts';
import { applicationTypeProblem } from './redirect-uris.ts';

export interface MetadataDocumentPolicy {
  enabled: boolean;
  /** Host names or `*.domain` patterns; empty allows any public host. */
  allowedHosts: readonly string[];
  cacheMinSeconds: number;
  cacheMaxSeconds: number;
}

const AUTH_METHODS = new Set(['none', 'private_key_jwt']);

/** A host matches "chatgpt.com" exactly, or "*.example.com" as any subdomain of it. */
export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const name = host.toLowerCase();
  return patterns.some((pattern) => (pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern));
}

/** The client_id URL being looked up, so the fetch of exactly that document gets the live size limit. */
const documentLookup = new AsyncLocalStorage<string>();

/**
 * oidc-provider's Client ID Metadata Document feature (draft-ietf-oauth-client-id-metadata-document):
 * an https client_id URL is fetched (through the outbound fetch), must name itself exactly, and
 * then must follow the same rules as a dynamically registered client, `application_type` included
 * (as the document declared it). The policy is read at each
 * use, so the console can turn it on or off and change it live, as long as the feature is `available`.
 */
export function metadataDocumentFeature(
  live: Live<MetadataDocumentPolicy>, available = valueOf(live).enabled, declaredApplicationType: (clientId: string) => unknown = () => undefined,
): NonNullable<NonNullable<Configuration['features']>['clientIdMetadataDocument']> {
  const policy = () => valueOf(live);
  const allowed = (clientId: string) => policy().enabled && hostAllowed(new URL(clientId).hostname, policy().allowedHosts);
  return {
    enabled: available,
    ack: 'draft-02',
    allowFetch: (_ctx, clientId) => allowed(clientId),
    allowClient: (_ctx, client) => {
      // Also asked for documents still cached from before the policy changed.
      if (!allowed(client.clientId)) return false;
      const metadata = client.metadata();
      if (typeof metadata.client_name !== 'string' || !metadata.client_name.trim()) {
        throw new errors.InvalidClientMetadata('client_id metadata document must have a client_name');
      }
      if (!AUTH_METHODS.has(String(metadata.token_endpoint_auth_method))) {
        throw new errors.InvalidClientMetadata('client_id metadata document token_endpoint_auth_method must be none or private_key_jwt');
      }
      assertSelfIntroducedClient(metadata, { allowClientCredentials: false });
      const problem = applicationTypeProblem(declaredApplicationType(metadata.client_id), metadata.redirect_uris ?? []);
      if (problem) throw new errors.InvalidClientMetadata(`redirect_uris: ${problem}`);
      return true;
    },
    // Not a plain object, so oidc-provider keeps this one (it copies plain ones) and reads it at each fetch.
    cacheDuration: new LiveCacheDuration(policy),
  };
}

class LiveCacheDuration {
  readonly #policy: () => MetadataDocumentPolicy;
  constructor(policy: () => MetadataDocumentPolicy) {
    this.#policy = policy;
  }

  get min(): number {
    return this.#policy().cacheMinSeconds;
  }

  get max(): number {
    return this.#policy().cacheMaxSeconds;
  }
}

/** The outbound fetch, refusing a metadata document larger than the live CIMD_MAX_BYTES (the fetch has the whole body already). */
export function withDocumentSizeLimit(fetch: OutboundFetch, maxBytes: () => number): OutboundFetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (documentLookup.getStore() === url && length > maxBytes()) {
      await response.body?.cancel();
      throw new OutboundError('too_large', `the document is larger than CIMD_MAX_BYTES (${maxBytes()} bytes)`);
    }
    return response;
  };
}

/**
 * oidc-provider reports every failed document as "client_id metadata document fetch failed" and
 * keeps the cause to itself. This says why (safely: outbound errors never name resolved
 * addresses) and logs each refusal.
 */
export function explainMetadataDocumentFailures(provider: Provider, log: Logger, enabled: () => boolean): void {
  const find = provider.Client.find.bind(provider.Client);
  provider.Client.find = async (id: string) => {
    try {
      return await documentLookup.run(id, () => find(id));
    } catch (error) {
      // Only a client_id URL reaches the metadata document path; other lookups fail elsewhere.
      const failure = error as errors.OIDCProviderError;
      if (!id.startsWith('https://') || !(failure instanceof errors.OIDCProviderError)) throw error;
      const reason = failureReason(failure, enabled);
      if (reason) failure.error_description = `${failure.error_description}: ${reason}`;
      log.warn({ client_id: id, error: failure.error, error_description: failure.error_description }, 'client metadata document refused');
      throw error;
    }
  };
}

function failureReason(failure: errors.OIDCProviderError, enabled: () => boolean): string | undefined {
  const cause = failure.cause;
  if (cause instanceof OutboundError) return cause.message;
  // Fetching is refused before a document is read; a cached document is refused when the client is built.
  if (failure.error_description === 'client_id metadata document fetch not allowed' || failure.error_description === 'client is not allowed') {
    return enabled() ? 'its host is not in CIMD_ALLOWED_HOSTS' : 'this server does not accept client metadata documents (CIMD is off)';
  }
  const detail = failure.error_detail ?? '';
  if (detail === 'response too large') return 'the document is larger than CIMD_MAX_BYTES';
  if (/^unexpected response status \d+$/.test(detail)) return detail;
  if (cause instanceof SyntaxError) return 'the document is not JSON';
  return undefined;
}
