import { parseArgs } from 'node:util';
import type { Config } from '../config/index.ts';
import { ClientError, listClients, registerClient } from '../authorization-server/index.ts';
import { openStore } from '../storage/index.ts';
import { printTable, UsageError } from './io.ts';

export const clientsUsage = `portcullis clients add --name N --redirect-uri U [--redirect-uri U2] [--confidential] [--json]
portcullis clients list [--json]`;

export async function clientsCommand(config: Config, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      confidential: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const store = await openStore({ dataDir: config.dataDir });
  try {
    if (positionals[0] === 'list') {
      const clients = await listClients(store);
      if (values.json) process.stdout.write(`${JSON.stringify(clients)}\n`);
      else printTable(clients.map((client) => ({ client_id: client.client_id, name: client.client_name ?? '', redirect_uris: client.redirect_uris.join(' ') })));
      return;
    }
    if (positionals[0] !== 'add') throw new UsageError(clientsUsage);
    const client = await registerClient(store, {
      name: values.name ?? '', redirectUris: values['redirect-uri'] ?? [], confidential: values.confidential ?? false,
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(client)}\n`);
      return;
    }
    process.stdout.write(`client_id:     ${client.client_id}\n`);
    if (client.client_secret) {
      process.stdout.write(`client_secret: ${client.client_secret}\n(shown once: only its hash is stored)\n`);
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
