import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createTokenVerifier, metadataUrlFor, protectedResourceMetadata, type ElevationRule } from '../../src/resource-server/index.ts';
import type { AuditSink } from '../../src/resource-server/entries/audit.ts';
import type { IdempotencyOptions } from '../../src/resource-server/entries/idempotency.ts';
import type { ResourceServerLog } from '../../src/resource-server/entries/mcp.ts';
import { openStore, type OpenStoreOptions } from '../../src/resource-server/entries/storage.ts';
import { mcpEndpoint, protectedResourceMetadataRoutes } from '../../src/resource-server/koa.ts';
import { NoteBook } from './notes.ts';
import { noteTools } from './tools.ts';

/** Its store: DATA_DIR, or Redis (one server, Sentinel or Cluster) so several instances share notes and idempotency records. */
export interface NotesServerOptions extends OpenStoreOptions {
  port: number;
  host?: string;
  /** The authorization server it trusts, e.g. http://localhost:3000. */
  issuer: string;
  /** Its own resource identifier, e.g. http://localhost:3001/mcp. */
  resource: string;
  /** Idempotency settings for create_note and delete_all_notes; the records share the notes' store. */
  idempotency?: Omit<IdempotencyOptions, 'store'>;
  log?: ResourceServerLog;
  /** Told whether each signing-key lookup was a JWKS cache hit (metrics). */
  onKeyLookup?: (result: 'hit' | 'miss') => void;
  /** Its audit log (tool calls, refusals, outcomes); none when left out. */
  audit?: AuditSink;
  /** Leeway for token expiry, in seconds; default 30 (tests that watch a token expire use 0). */
  clockToleranceSeconds?: number;
  /** How delete_all_notes is guarded; default: an active Portcullis elevation, checked live. */
  elevation?: ElevationRule;
}

export interface RunningNotesServer {
  url: string;
  close(): Promise<void>;
}

export const NOTES_SCOPES = ['notes:read', 'notes:write', 'notes:admin'];

/** The demo notes MCP server, built only on the public resource-server API. */
export async function startNotesServer(options: NotesServerOptions): Promise<RunningNotesServer> {
  const store = await openStore(options);
  const metadataUrl = metadataUrlFor(options.resource);
  const app = new Koa();
  // Without a listener koa prints the stack of every response a client hung up on.
  app.on('error', (error: Error) => options.log?.info({ reason: error.message }, 'response not completed'));
  app.use(protectedResourceMetadataRoutes(protectedResourceMetadata({
    resource: options.resource,
    authorizationServers: [options.issuer],
    scopesSupported: NOTES_SCOPES,
    resourceName: 'Notes (Portcullis demo)',
  })));
  app.use(mcpEndpoint({
    path: new URL(options.resource).pathname,
    verifier: createTokenVerifier({
      issuer: options.issuer, resource: options.resource,
      ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
      ...(options.onKeyLookup ? { onKeyLookup: options.onKeyLookup } : {}) }),
    metadataUrl,
    server: { name: 'notes-mcp', version: '0.1.0' },
    tools: noteTools(new NoteBook(store)),
    scopePrefix: 'notes',
    elevation: options.elevation ?? { rule: 'elevation' },
    idempotency: { ...options.idempotency, store },
    ...(options.log ? { log: options.log } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  }));
  const server = app.listen({ port: options.port, ...(options.host ? { host: options.host } : {}) });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
