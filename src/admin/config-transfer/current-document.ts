import type { ClientMetadata } from 'oidc-provider';
import type { Config } from '../../config/index.ts';
import type { UserDirectory } from '../../authorization-server/accounts/users.ts';
import { DYNAMIC_REGISTRATION } from '../../authorization-server/clients/registration-policy.ts';
import type { Store } from '../../storage/index.ts';
import { DOCUMENT_FORMAT, DOCUMENT_VERSION, type ClientEntry, type DocumentBody } from './document.ts';
import type { SettingsService } from '../../settings/index.ts';

/** What export and import use of the live settings. */
export type SettingsPort = Pick<SettingsService, 'version' | 'describe' | 'preview' | 'replace' | 'refresh'>;

/** What the whole configuration is read from. */
export interface ConfigurationSources {
  config: Config;
  store: Store;
  users: UserDirectory;
  settings: SettingsPort;
}

export const STORED_CLIENTS_TAG = 'clients';

/** This server's configuration now, as an (unsigned) export document. */
export async function currentDocument(sources: ConfigurationSources, now = new Date()): Promise<DocumentBody> {
  const { config } = sources;
  const byUri = <T>(pick: (resource: Config['resources'][number]) => T | undefined) => Object.fromEntries(
    config.resources.flatMap((resource) => { const value = pick(resource); return value === undefined ? [] : [[resource.uri, value]]; }),
  );
  return {
    format: DOCUMENT_FORMAT,
    version: DOCUMENT_VERSION,
    exported_at: now.toISOString(),
    issuer: config.issuer,
    resources: config.resources.map(({ elevation: _elevation, scopeRoles: _scopeRoles, ...resource }) => resource),
    clients: [...fileClients(config), ...await storedClients(sources.store)].sort((a, b) => compare(a.client_id, b.client_id)),
    settings: Object.fromEntries(sources.settings.describe().map((setting) => [setting.name, { value: setting.value, source: setting.source }])),
    roles: {
      users: Object.fromEntries((await sources.users.list()).filter((user) => user.roles.length > 0).sort((a, b) => compare(a.name, b.name)).map((user) => [user.name, user.roles])),
      scopeRoles: byUri((resource) => resource.scopeRoles),
      groupRoles: Object.fromEntries(config.upstreamProviders.filter((provider) => Object.keys(provider.groupRoles).length > 0).map((provider) => [provider.id, provider.groupRoles])),
    },
    policies: { elevation: byUri((resource) => resource.elevation) },
  };
}

function fileClients(config: Config): ClientEntry[] {
  return config.clients.map(({ client_secret: _secret, ...client }) => ({ ...client, source: 'configuration file' as const }));
}

async function storedClients(store: Store): Promise<ClientEntry[]> {
  const records = await store.findByTag<ClientMetadata>(STORED_CLIENTS_TAG);
  return records.map(({ value }) => {
    const { client_secret: _secret, [DYNAMIC_REGISTRATION]: registration, ...metadata } = value;
    return { ...metadata, source: registration === 'dynamic' ? 'registered' : 'operator' } as ClientEntry;
  });
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
