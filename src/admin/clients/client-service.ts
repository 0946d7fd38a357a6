import type { ClientMetadata } from 'oidc-provider';
import type { AuditSink } from '../../audit/index.ts';
import type { StaticClientConfig } from '../../config/index.ts';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';
import { modelKey } from '../../authorization-server/adapter.ts';
import { clientGrantIds, revokeClientGrants } from '../../authorization-server/clients/client-grants.ts';
import { createInitialAccessToken, type NewInitialAccessToken } from '../../authorization-server/clients/initial-access-tokens.ts';
import { forgetLastUse } from '../../authorization-server/clients/last-use.ts';
import { ClientError, registerClient, rotateClientSecret, type NewClient, type RegisteredClient } from '../../authorization-server/clients/registry.ts';
import { auditedChange, recordAdminEvent, type AdminActor } from '../admin-events.ts';
import { findClientSummary, listClientSummaries, type ClientSummary } from './client-catalogue.ts';

export interface ClientServiceDependencies {
  store: Store;
  staticClients: readonly StaticClientConfig[];
  audit: AuditSink;
  log: Logger;
}

const DAY_SECONDS = 86_400;

/**
 * Everything an operator does to clients, for the console and `portcullis clients` alike. Each
 * change is an `admin.client.*` audit event naming the admin; nothing is shown done before it is
 * on the record.
 */
export class ClientService {
  readonly #deps: ClientServiceDependencies;

  constructor(deps: ClientServiceDependencies) {
    this.#deps = deps;
  }

  list(): Promise<ClientSummary[]> {
    return listClientSummaries(this.#deps.store, this.#deps.staticClients);
  }

  find(clientId: string): Promise<ClientSummary | undefined> {
    return findClientSummary(this.#deps.store, this.#deps.staticClients, clientId);
  }

  /** A client added by an operator; its secret (confidential clients) is returned once. */
  async add(input: NewClient, actor: AdminActor): Promise<RegisteredClient> {
    const { store, audit, log } = this.#deps;
    return auditedChange(audit, log, (added: RegisteredClient) => ({
      type: 'admin.client.added', actor, client: added.client_id, client_name: input.name, redirect_uris: input.redirectUris, confidential: input.confidential,
      ...(input.pkce === 'optional' ? { pkce: 'optional' } : {}),
    }), () => registerClient(store, input), (added) => store.delete(modelKey('Client', added.client_id)));
  }

  /** An initial access token for REGISTRATION=token, returned once. */
  async createRegistrationToken(options: NewInitialAccessToken, actor: AdminActor): Promise<{ token: string; expiresAt: number }> {
    await recordAdminEvent(this.#deps.audit, this.#deps.log, { type: 'admin.client.registration_token_created', actor, uses: options.uses, ttl_seconds: options.ttlSeconds });
    return createInitialAccessToken(this.#deps.store, options);
  }

  /** Ends every grant of any client (static ones too); returns how many there were. */
  async revokeGrants(clientId: string, actor: AdminActor): Promise<number> {
    await this.#known(clientId);
    const grantIds = await clientGrantIds(this.#deps.store, clientId);
    await recordAdminEvent(this.#deps.audit, this.#deps.log, { type: 'admin.client.grants_revoked', actor, client: clientId, grants: grantIds.length });
    return revokeClientGrants(this.#deps.store, clientId, grantIds);
  }

  /** Removes an operator-added or registered client and ends its grants. */
  async delete(clientId: string, actor: AdminActor): Promise<{ grants: number }> {
    const client = await this.#changeable(clientId, 'deleted');
    const grantIds = await clientGrantIds(this.#deps.store, clientId);
    await recordAdminEvent(this.#deps.audit, this.#deps.log, {
      type: 'admin.client.deleted', actor, client: clientId, client_name: client.name, kind: client.kind, grants: grantIds.length,
    });
    return { grants: await this.#remove(clientId, grantIds) };
  }

  /** A new secret, returned once; the old one stops working at once. */
  async rotateSecret(clientId: string, actor: AdminActor): Promise<string> {
    await this.#changeable(clientId, 'given a new secret');
    const { store, audit, log } = this.#deps;
    const before = (await store.get<ClientMetadata>(modelKey('Client', clientId)))!.value;
    return auditedChange(audit, log, { type: 'admin.client.secret_rotated', actor, client: clientId },
      () => rotateClientSecret(store, clientId), () => store.put(modelKey('Client', clientId), before, { tags: ['clients'] }));
  }

  /** Registered (/reg) clients that have not got tokens for `days` days (never used: since they registered). */
  async idleRegistered(days: number, nowSeconds = Math.floor(Date.now() / 1000)): Promise<ClientSummary[]> {
    const cutoff = nowSeconds - days * DAY_SECONDS;
    return (await this.list()).filter((client) => client.kind === 'registered' && (client.lastUsedAt ?? client.createdAt ?? 0) <= cutoff);
  }

  /** Deletes the idle registered clients (one audit event for all); returns their ids. */
  async cleanUpIdle(days: number, actor: AdminActor, nowSeconds?: number): Promise<string[]> {
    const idle = await this.idleRegistered(days, nowSeconds);
    if (idle.length === 0) return [];
    const ids = idle.map((client) => client.clientId);
    await recordAdminEvent(this.#deps.audit, this.#deps.log, { type: 'admin.client.cleaned_up', actor, idle_days: days, clients: ids });
    for (const id of ids) await this.#remove(id);
    return ids;
  }

  async #remove(clientId: string, grantIds?: string[]): Promise<number> {
    const { store } = this.#deps;
    const grants = await revokeClientGrants(store, clientId, grantIds);
    await store.delete(modelKey('Client', clientId));
    await forgetLastUse(store, clientId);
    return grants;
  }

  async #known(clientId: string): Promise<ClientSummary> {
    const client = await this.find(clientId);
    if (!client) throw new ClientError(`there is no client ${clientId}`, 'not_found');
    return client;
  }

  /** Refuses, changing nothing, a client whose definition lives elsewhere. */
  async #changeable(clientId: string, what: string): Promise<ClientSummary> {
    const client = await this.#known(clientId);
    if (client.kind === 'static') throw new ClientError(`client ${clientId} comes from the configuration file (CONFIG_FILE); it is changed there, not ${what} here`, 'read_only');
    if (client.kind === 'metadata-document') throw new ClientError(`client ${clientId} describes itself in the document at its address; it cannot be ${what} here`, 'read_only');
    return client;
  }
}
