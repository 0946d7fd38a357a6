import type Provider from 'oidc-provider';
import { errors, type Configuration } from 'oidc-provider';
import type { Logger } from '../../log/index.ts';
import { OutboundError } from '../../http/outbound/index.ts';
import { assertSelfIntroducedClient } from './self-introduced.ts';

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

/**
 * oidc-provider's Client ID Metadata Document feature (draft-ietf-oauth-client-id-metadata-document):
 * an https client_id URL is fetched (through the outbound fetch), must name itself exactly, and
 * then must follow the same rules as a dynamically registered client.
 */
export function metadataDocumentFeature(policy: MetadataDocumentPolicy): NonNullable<NonNullable<Configuration['features']>['clientIdMetadataDocument']> {
  return {
    enabled: policy.enabled,
    ack: 'draft-02',
    allowFetch: (_ctx, clientId) => hostAllowed(new URL(clientId).hostname, policy.allowedHosts),
    allowClient: (_ctx, client) => {
      const metadata = client.metadata();
      if (typeof metadata.client_name !== 'string' || !metadata.client_name.trim()) {
        throw new errors.InvalidClientMetadata('client_id metadata document must have a client_name');
      }
      if (!AUTH_METHODS.has(String(metadata.token_endpoint_auth_method))) {
        throw new errors.InvalidClientMetadata('client_id metadata document token_endpoint_auth_method must be none or private_key_jwt');
      }
      assertSelfIntroducedClient(metadata, { allowClientCredentials: false });
      return true;
    },
    cacheDuration: { min: policy.cacheMinSeconds, max: policy.cacheMaxSeconds },
  };
}

/**
 * oidc-provider reports every failed document as "client_id metadata document fetch failed" and
 * keeps the cause to itself. This says why (safely: outbound errors never name resolved
 * addresses) and logs each refusal.
 */
export function explainMetadataDocumentFailures(provider: Provider, log: Logger): void {
  const find = provider.Client.find.bind(provider.Client);
  provider.Client.find = async (id: string) => {
    try {
      return await find(id);
    } catch (error) {
      // Only a client_id URL reaches the metadata document path; other lookups fail elsewhere.
      const failure = error as errors.OIDCProviderError;
      if (!id.startsWith('https://') || !(failure instanceof errors.OIDCProviderError)) throw error;
      const reason = failureReason(failure);
      if (reason) failure.error_description = `${failure.error_description}: ${reason}`;
      log.warn({ client_id: id, error: failure.error, error_description: failure.error_description }, 'client metadata document refused');
      throw error;
    }
  };
}

function failureReason(failure: errors.OIDCProviderError): string | undefined {
  const cause = failure.cause;
  if (cause instanceof OutboundError) return cause.message;
  if (failure.error_description === 'client_id metadata document fetch not allowed') return 'its host is not in CIMD_ALLOWED_HOSTS';
  const detail = failure.error_detail ?? '';
  if (detail === 'response too large') return 'the document is larger than CIMD_MAX_BYTES';
  if (/^unexpected response status \d+$/.test(detail)) return detail;
  if (cause instanceof SyntaxError) return 'the document is not JSON';
  return undefined;
}
