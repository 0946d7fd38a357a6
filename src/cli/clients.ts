import { parseArgs } from 'node:util';
import type { Config, ResourceConfig } from '../config/index.ts';
import { ClientError, createInitialAccessToken, deleteClient, listClients, registerClient, rotateClientSecret } from '../authorization-server/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const clientsUsage = `portcullis clients add --name N --redirect-uri U [--redirect-uri U2] [--post-logout-redirect-uri U] [--confidential] [--json]
portcullis clients list [--json]
portcullis clients delete <client_id>
portcullis clients rotate-secret <client_id> [--json]
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
      json: { type: 'boolean' },
      'expires-in': { type: 'string', default: '24h' },
      uses: { type: 'string', default: '1' },
    },
  });
  const store = await openStore(config);
  try {
    if (positionals[0] === 'list') {
      const clients = await listClients(store);
      if (values.json) process.stdout.write(`${JSON.stringify(clients)}\n`);
      else {
        printTable(clients.map((client) => ({
          client_id: client.client_id, name: client.client_name ?? '', registration: client.registration, redirect_uris: client.redirect_uris.join(' '),
        })));
      }
      return;
    }
    if (positionals[0] === 'token') {
      const issued = await createInitialAccessToken(store, { ttlSeconds: durationSeconds(values['expires-in']), uses: positiveCount(values.uses) });
      const expiresAt = new Date(issued.expiresAt * 1000).toISOString();
      if (values.json) process.stdout.write(`${JSON.stringify({ initial_access_token: issued.token, expires_at: expiresAt })}\n`);
      else process.stdout.write(`initial access token: ${issued.token}\nexpires:              ${expiresAt}\n(shown once: only its hash is stored; send it as Authorization: Bearer to /reg)\n`);
      return;
    }
    if (positionals[0] === 'delete' || positionals[0] === 'rotate-secret') {
      const clientId = positionals[1];
      if (!clientId) throw new UsageError(`a client_id is required\n${clientsUsage}`);
      if (positionals[0] === 'delete') {
        await deleteClient(store, clientId);
        process.stdout.write(`deleted client ${clientId}\n`);
        return;
      }
      const secret = await rotateClientSecret(store, clientId);
      if (values.json) process.stdout.write(`${JSON.stringify({ client_id: clientId, client_secret: secret })}\n`);
      else process.stdout.write(`client_secret: ${secret}\n(shown once: only its hash is stored; the old secret no longer works)\n`);
      return;
    }
    if (positionals[0] !== 'add') throw new UsageError(`unknown command: clients ${positionals[0] ?? ''}\n${clientsUsage}`.replace(' \n', '\n'));
    const client = await registerClient(store, {
      name: values.name ?? '', redirectUris: values['redirect-uri'] ?? [], confidential: values.confidential ?? false,
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
    });
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

function positiveCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--uses: expected a whole number of at least 1 (got ${JSON.stringify(text)})`);
  return count;
}
