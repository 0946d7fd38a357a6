import { parseArgs } from 'node:util';
import type { Config, ResourceConfig } from '../config/index.ts';
import { ClientError, pkceOptionalWarning } from '../authorization-server/index.ts';
import { auditOutbox } from '../authorization-server/audit-outbox.ts';
import { DISABLED_AUDIT } from '../audit/index.ts';
import { cliActor } from '../admin/admin-events.ts';
import { ClientService, type ClientSummary } from '../admin/clients/index.ts';
import { silentLogger } from '../log/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const clientsUsage = `portcullis clients add --name N --redirect-uri U [--redirect-uri U2] [--post-logout-redirect-uri U] [--confidential [--pkce optional]] [--json]
portcullis clients list [--json]
portcullis clients delete <client_id>
portcullis clients rotate-secret <client_id> [--json]
portcullis clients revoke-grants <client_id>
portcullis clients clean-up --idle-days N [--dry-run]
portcullis clients token [--expires-in 24h] [--uses 1] [--json]`;

export async function clientsCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      confidential: { type: 'boolean' },
      pkce: { type: 'string', default: 'required' },
      json: { type: 'boolean' },
      'expires-in': { type: 'string', default: '24h' },
      uses: { type: 'string', default: '1' },
      'idle-days': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  const store = await openStore(config);
  const clients = new ClientService({
    store, staticClients: config.clients, audit: config.audit === 'off' ? DISABLED_AUDIT : auditOutbox(store), log: silentLogger(),
  });
  const actor = cliActor();
  try {
    if (positionals[0] === 'list') {
      const listed = (await clients.list()).map(listedClient);
      if (values.json) process.stdout.write(`${JSON.stringify(listed)}\n`);
      else {
        printTable(listed.map((client) => ({
          client_id: client.client_id, name: client.client_name ?? '', registration: client.registration, redirect_uris: client.redirect_uris.join(' '),
          last_used: client.last_used ?? 'never', grants: String(client.active_grants),
        })));
      }
      return;
    }
    if (positionals[0] === 'clean-up') {
      const days = positiveCount(values['idle-days'] ?? '', '--idle-days');
      if (values['dry-run']) {
        const idle = await clients.idleRegistered(days);
        process.stdout.write(`${idle.length} registered clients have not been used for ${days} days${idle.map((client) => `\n  ${client.clientId} ${client.name ?? ''}`).join('')}\n`);
        return;
      }
      const removed = await clients.cleanUpIdle(days, actor);
      process.stdout.write(`deleted ${removed.length} registered clients not used for ${days} days\n`);
      return;
    }
    if (positionals[0] === 'token') {
      const issued = await clients.createRegistrationToken({ ttlSeconds: durationSeconds(values['expires-in']), uses: positiveCount(values.uses, '--uses') }, actor);
      const expiresAt = new Date(issued.expiresAt * 1000).toISOString();
      if (values.json) process.stdout.write(`${JSON.stringify({ initial_access_token: issued.token, expires_at: expiresAt })}\n`);
      else process.stdout.write(`initial access token: ${issued.token}\nexpires:              ${expiresAt}\n(shown once: only its hash is stored; send it as Authorization: Bearer to /reg)\n`);
      return;
    }
    if (positionals[0] === 'delete' || positionals[0] === 'rotate-secret' || positionals[0] === 'revoke-grants') {
      const clientId = positionals[1];
      if (!clientId) throw new UsageError(`a client_id is required\n${clientsUsage}`);
      if (positionals[0] === 'delete') {
        const { grants } = await clients.delete(clientId, actor);
        process.stdout.write(`deleted client ${clientId} and ended its ${grants} grants\n`);
        return;
      }
      if (positionals[0] === 'revoke-grants') {
        const grants = await clients.revokeGrants(clientId, actor);
        process.stdout.write(`ended ${grants} grants of client ${clientId}: its refresh tokens no longer work; access tokens already issued run out within their lifetime\n`);
        return;
      }
      const secret = await clients.rotateSecret(clientId, actor);
      if (values.json) process.stdout.write(`${JSON.stringify({ client_id: clientId, client_secret: secret })}\n`);
      else process.stdout.write(`client_secret: ${secret}\n(shown once: only its hash is stored; the old secret no longer works)\n`);
      return;
    }
    if (positionals[0] !== 'add') throw new UsageError(`unknown command: clients ${positionals[0] ?? ''}\n${clientsUsage}`.replace(' \n', '\n'));
    if (values.pkce !== 'required' && values.pkce !== 'optional') throw new UsageError(`--pkce: expected required or optional (got ${JSON.stringify(values.pkce)})`);
    const client = await clients.add({
      name: values.name ?? '', redirectUris: values['redirect-uri'] ?? [], confidential: values.confidential ?? false,
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [], pkce: values.pkce,
    }, actor);
    if (values.pkce === 'optional') process.stderr.write(`warning: ${pkceOptionalWarning(client.client_id)}
`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(client)}\n`);
      return;
    }
    process.stdout.write(`client_id:     ${client.client_id}\n`);
    if (client.client_secret) {
      process.stdout.write(`client_secret: ${client.client_secret}\n(shown once: only its hash is stored)\n\n${pasteReady(config, client.client_id, client.client_secret)}`);
    } else {
      process.stdout.write('public client: it authenticates with PKCE (S256) and no secret\n');
    }
  } catch (error) {
    if (error instanceof ClientError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

/** The fields of an OAuth client form such as the GPT editor's (Actions > Authentication > OAuth), one per line. */
function pasteReady(config: Config, clientId: string, secret: string): string {
  const rows = [
    ['Client ID', clientId],
    ['Client Secret', secret],
    ['Authorization URL', `${config.issuer}/authorize`],
    ['Token URL', `${config.issuer}/token`],
    ['Scope', scopeToAskFor(config.resources.find((resource) => resource.default) ?? config.resources[0])],
    ['Token Exchange Method', 'Default (POST request)'],
  ];
  return `To paste into the GPT editor (Actions > Authentication > OAuth):\n${rows.map(([name, value]) => `  ${`${name}:`.padEnd(23)}${value}\n`).join('')}`;
}

function scopeToAskFor(resource: ResourceConfig | undefined): string {
  return (resource?.defaultScopes ?? resource?.scopes ?? []).join(' ');
}

/** "90", "30m", "24h" or "7d" as seconds. */
function durationSeconds(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'] : 0;
  if (!seconds) throw new UsageError(`--expires-in: expected a duration such as 30m, 24h or 7d (got ${JSON.stringify(text)})`);
  return seconds;
}

function positiveCount(text: string, option: string): number {
  const count = Number(text);
  if (!text || !Number.isInteger(count) || count < 1) throw new UsageError(`${option}: expected a whole number of at least 1 (got ${JSON.stringify(text)})`);
  return count;
}

const REGISTRATION = { static: 'static', operator: 'operator', registered: 'dynamic', 'metadata-document': 'metadata-document' } as const;

/** `clients list --json`: snake_case like the rest of the command's output; `registration` keeps its earlier values. */
function listedClient(client: ClientSummary) {
  return {
    client_id: client.clientId,
    ...(client.name ? { client_name: client.name } : {}),
    registration: REGISTRATION[client.kind],
    confidential: client.confidential,
    redirect_uris: client.redirectUris,
    ...(client.lastUsedAt ? { last_used: new Date(client.lastUsedAt * 1000).toISOString() } : {}),
    active_grants: client.activeGrants,
  };
}
