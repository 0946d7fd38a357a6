import type { Store } from '../../storage/index.ts';
import { clientGrantsTag, grantTag, modelKey } from '../adapter.ts';

const GRANT_PREFIX = modelKey('Grant', '');

/** Ids of the live grants (a user's consent to a client) of one client. */
export async function clientGrantIds(store: Store, clientId: string): Promise<string[]> {
  const records = await store.findByTag(clientGrantsTag(clientId));
  return records.filter(({ key }) => key.startsWith(GRANT_PREFIX)).map(({ key }) => key.slice(GRANT_PREFIX.length));
}

/**
 * Ends every grant of a client: its codes and refresh tokens, then the grant itself, so users are
 * asked to consent again. Access tokens are signed JWTs the store never held: they run out on their own.
 */
export async function revokeClientGrants(store: Store, clientId: string, grantIds?: string[]): Promise<number> {
  const ids = grantIds ?? await clientGrantIds(store, clientId);
  for (const id of ids) {
    await store.deleteByTag(grantTag(id));
    await store.delete(modelKey('Grant', id));
  }
  return ids.length;
}
