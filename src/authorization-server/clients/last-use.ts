import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../../log/index.ts';
import type { Store } from '../../storage/index.ts';

const TAG = 'client-last-used';
const lastUseKey = (clientId: string) => `${TAG}:${clientId}`;
/** Metadata-document clients are not stored anywhere else: their last use is how the console knows them, for this long. */
const METADATA_DOCUMENT_MEMORY_SECONDS = 90 * 24 * 3600;
const WRITE_INTERVAL_MS = 60_000;
/** Bounds the per-process memory of recent writes, whatever number of clients comes by. */
const REMEMBERED_CLIENTS = 10_000;

export interface ClientLastUse {
  clientId: string;
  /** Epoch seconds of the last token response to this client (to the minute). */
  at: number;
  name?: string;
}

export const isMetadataDocumentClientId = (clientId: string) => clientId.startsWith('https://');

/**
 * Remembers when each client last got tokens at /token. At most one Store write per client per
 * minute per instance, and never awaited by the response: the token endpoint does not wait for it.
 * Register it before the audit write-ahead, so it runs after it and skips a token that was withheld.
 */
export function recordClientUse(provider: Provider, store: Store, log: Logger): void {
  const written = new Map<string, number>();
  provider.use(async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    const client = oidc?.client;
    if (oidc?.route !== 'token' || ctx.status !== 200 || !client) return;
    const now = Date.now();
    if (now - (written.get(client.clientId) ?? 0) < WRITE_INTERVAL_MS) return;
    if (written.size >= REMEMBERED_CLIENTS) written.clear();
    written.set(client.clientId, now);
    void saveLastUse(store, { clientId: client.clientId, at: Math.floor(now / 1000), ...(client.clientName ? { name: client.clientName } : {}) })
      .catch((error: unknown) => log.warn({ err: { name: (error as Error).name, message: (error as Error).message }, client: client.clientId }, 'client last use not recorded'));
  });
}

export async function saveLastUse(store: Store, use: ClientLastUse): Promise<void> {
  const ttlSeconds = isMetadataDocumentClientId(use.clientId) ? METADATA_DOCUMENT_MEMORY_SECONDS : undefined;
  await store.put(lastUseKey(use.clientId), use, { tags: [TAG], ...(ttlSeconds ? { ttlSeconds } : {}) });
}

/** Every client's last use, by client id. */
export async function lastUses(store: Store): Promise<Map<string, ClientLastUse>> {
  const records = await store.findByTag<ClientLastUse>(TAG);
  return new Map(records.map(({ value }) => [value.clientId, value]));
}

export async function forgetLastUse(store: Store, clientId: string): Promise<void> {
  await store.delete(lastUseKey(clientId));
}
