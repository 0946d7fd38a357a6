import { randomUUID } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Store } from '../../storage/index.ts';
import { modelKey } from '../adapter.ts';
import { applicationTypeFor, redirectUriProblem } from './redirect-uris.ts';
import { DYNAMIC_REGISTRATION, PKCE_METADATA } from './registration-policy.ts';
import { generateClientSecret, hashClientSecret } from './secrets.ts';

/** Why a client operation was refused: callers (console, CLI) switch on it. */
export type ClientErrorReason = 'invalid' | 'not_found' | 'read_only' | 'no_secret';

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly reason: ClientErrorReason;
  constructor(message: string, reason: ClientErrorReason = 'invalid') {
    super(message);
    this.reason = reason;
  }
}

export interface NewClient {
  name: string;
  redirectUris: string[];
  confidential: boolean;
  /** Where RP-initiated logout may send the browser afterwards. */
  postLogoutRedirectUris?: string[];
  /** `optional`: codes redeemed without PKCE (ChatGPT Actions send none); confidential clients only. */
  pkce?: 'required' | 'optional';
}

export interface RegisteredClient {
  client_id: string;
  /** Present once, for confidential clients; only its hash is stored. */
  client_secret?: string;
}

/**
 * Registers an authorization-code client (with refresh tokens) in the store, where
 * oidc-provider's adapter finds it. Public clients authenticate with PKCE alone.
 */
export async function registerClient(store: Store, input: NewClient): Promise<RegisteredClient> {
  if (!input.name.trim()) throw new ClientError('a client needs a --name');
  if (input.redirectUris.length === 0) throw new ClientError('a client needs at least one --redirect-uri');
  for (const uri of [...input.redirectUris, ...(input.postLogoutRedirectUris ?? [])]) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new ClientError(problem);
  }
  if (input.pkce === 'optional' && !input.confidential) throw new ClientError('--pkce optional: only a confidential client (--confidential) may skip PKCE');
  const clientId = randomUUID();
  const secret = input.confidential ? generateClientSecret() : undefined;
  const metadata: ClientMetadata = {
    client_id: clientId,
    client_name: input.name,
    redirect_uris: input.redirectUris,
    ...(input.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: input.postLogoutRedirectUris } : {}),
    application_type: applicationTypeFor(input.redirectUris),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
    client_id_issued_at: Math.floor(Date.now() / 1000),
    ...(secret ? { client_secret: hashClientSecret(secret) } : {}),
    ...(input.pkce === 'optional' ? { [PKCE_METADATA]: 'optional' } : {}),
  };
  await store.put(modelKey('Client', clientId), metadata, { tags: ['clients'] });
  return { client_id: clientId, ...(secret ? { client_secret: secret } : {}) };
}

/** The message start-up logs (and the CLI prints) for each client that may skip PKCE. */
export function pkceOptionalWarning(clientId: string): string {
  return `client ${clientId} may redeem authorization codes without PKCE ("pkce": "optional"); keep that for ChatGPT Actions`;
}

/** Clients in the store that may redeem codes without PKCE. */
export async function storedClientsWithoutPkce(store: Store): Promise<string[]> {
  return (await store.findByTag<ClientMetadata>('clients')).filter(({ value }) => value[PKCE_METADATA] === 'optional').map(({ value }) => value.client_id);
}

export interface ListedClient {
  client_id: string;
  client_name?: string;
  redirect_uris: string[];
  /** `dynamic` for clients that registered themselves at /reg. */
  registration: 'operator' | 'dynamic';
}

export async function listClients(store: Store): Promise<ListedClient[]> {
  const records = await store.findByTag<ClientMetadata>('clients');
  return records.map(({ value }) => ({
    client_id: value.client_id,
    ...(value.client_name ? { client_name: value.client_name } : {}),
    redirect_uris: [...(value.redirect_uris ?? [])],
    registration: value[DYNAMIC_REGISTRATION] === 'dynamic' ? 'dynamic' : 'operator',
  }));
}

/** Removes a client registered in the store; a client from the configuration file stays (edit the file). */
export async function deleteClient(store: Store, clientId: string): Promise<void> {
  await storedClient(store, clientId);
  await store.delete(modelKey('Client', clientId));
}

/** A new secret for a confidential client; the old one stops working at once. Returned once, stored hashed. */
export async function rotateClientSecret(store: Store, clientId: string): Promise<string> {
  const metadata = await storedClient(store, clientId);
  if (!metadata.client_secret) throw new ClientError(`client ${clientId} is public: it has no secret to rotate`, 'no_secret');
  const secret = generateClientSecret();
  await store.put(modelKey('Client', clientId), { ...metadata, client_secret: hashClientSecret(secret) }, { tags: ['clients'] });
  return secret;
}

async function storedClient(store: Store, clientId: string): Promise<ClientMetadata> {
  const record = await store.get<ClientMetadata>(modelKey('Client', clientId));
  if (!record) throw new ClientError(`no client ${clientId} in the store (clients from the configuration file are changed there)`, 'not_found');
  return record.value;
}
