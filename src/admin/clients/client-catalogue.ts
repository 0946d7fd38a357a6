import type { ClientMetadata } from 'oidc-provider';
import type { StaticClientConfig } from '../../config/index.ts';
import type { Store } from '../../storage/index.ts';
import { modelKey } from '../../authorization-server/adapter.ts';
import { clientGrantIds } from '../../authorization-server/clients/client-grants.ts';
import { isMetadataDocumentClientId, lastUses, type ClientLastUse } from '../../authorization-server/clients/last-use.ts';
import { DYNAMIC_REGISTRATION } from '../../authorization-server/clients/registration-policy.ts';

/**
 * How Portcullis knows a client: the configuration file, the console or `portcullis clients add`,
 * its own registration at /reg, or a metadata document at its client_id URL.
 */
export type ClientKind = 'static' | 'operator' | 'registered' | 'metadata-document';

/** One client as the console and the CLI show it: never a secret or its hash. */
export interface ClientSummary {
  clientId: string;
  name?: string;
  kind: ClientKind;
  /** It authenticates with a client secret. */
  confidential: boolean;
  redirectUris: string[];
  grantTypes: string[];
  /** Epoch seconds it was added or registered, when known. */
  createdAt?: number;
  /** Epoch seconds it last got tokens, when it has since this was recorded. */
  lastUsedAt?: number;
  /** Users' consents to it that still stand (each with its refresh tokens). */
  activeGrants: number;
}

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/** Every client the server knows, static ones first, then by name. */
export async function listClientSummaries(store: Store, staticClients: readonly StaticClientConfig[]): Promise<ClientSummary[]> {
  const uses = await lastUses(store);
  const stored = await store.findByTag<ClientMetadata>('clients');
  const described = [
    ...staticClients.map((client) => describe(client as ClientMetadata, 'static', uses)),
    ...stored.map(({ value }) => describe(value, value[DYNAMIC_REGISTRATION] === 'dynamic' ? 'registered' : 'operator', uses)),
  ];
  const known = new Set(described.map((client) => client.clientId));
  const metadataDocuments = [...uses.values()]
    .filter((use) => isMetadataDocumentClientId(use.clientId) && !known.has(use.clientId))
    .map((use) => describe({ client_id: use.clientId, ...(use.name ? { client_name: use.name } : {}), token_endpoint_auth_method: 'none' }, 'metadata-document', uses));
  const all = [...described, ...metadataDocuments];
  const counts = await Promise.all(all.map((client) => clientGrantIds(store, client.clientId)));
  return all
    .map((client, index) => ({ ...client, activeGrants: counts[index]!.length }))
    .sort((a, b) => Number(b.kind === 'static') - Number(a.kind === 'static') || (a.name ?? a.clientId).localeCompare(b.name ?? b.clientId));
}

/** One client by id, or undefined. */
export async function findClientSummary(store: Store, staticClients: readonly StaticClientConfig[], clientId: string): Promise<ClientSummary | undefined> {
  const staticClient = staticClients.find((client) => client.client_id === clientId);
  const stored = staticClient ? undefined : (await store.get<ClientMetadata>(modelKey('Client', clientId)))?.value;
  const use = (await lastUses(store)).get(clientId);
  const metadata = staticClient as ClientMetadata | undefined ?? stored
    ?? (use && isMetadataDocumentClientId(clientId) ? { client_id: clientId, ...(use.name ? { client_name: use.name } : {}), token_endpoint_auth_method: 'none' } : undefined);
  if (!metadata) return undefined;
  const kind: ClientKind = staticClient ? 'static' : stored ? (stored[DYNAMIC_REGISTRATION] === 'dynamic' ? 'registered' : 'operator') : 'metadata-document';
  const summary = describe(metadata, kind, new Map(use ? [[clientId, use]] : []));
  return { ...summary, activeGrants: (await clientGrantIds(store, clientId)).length };
}

function describe(metadata: ClientMetadata, kind: ClientKind, uses: Map<string, ClientLastUse>): ClientSummary {
  const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  const name = metadata.client_name ?? uses.get(metadata.client_id)?.name;
  const lastUsedAt = uses.get(metadata.client_id)?.at;
  return {
    clientId: metadata.client_id,
    ...(name ? { name } : {}),
    kind,
    confidential: SECRET_METHODS.has(method) && Boolean(metadata.client_secret),
    redirectUris: [...(metadata.redirect_uris ?? [])],
    grantTypes: [...(metadata.grant_types ?? ['authorization_code'])],
    ...(typeof metadata.client_id_issued_at === 'number' ? { createdAt: metadata.client_id_issued_at } : {}),
    ...(lastUsedAt ? { lastUsedAt } : {}),
    activeGrants: 0,
  };
}
